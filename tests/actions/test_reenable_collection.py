"""Action: after every retry failed, collection is refused until a person re-enables it."""

from __future__ import annotations

import pytest

from connector.actions import Actor, RefusedAction, platform
from connector.actions import invoices as actions
from tests.actions.conftest import same_story, story


def exhaust(runtime, number: str) -> None:
    for _ in range(3):  # the default policy: three attempts in all
        platform.record_event(runtime, "collection_started", [number], actor=Actor.platform())
        platform.record_event(runtime, "collection_failed", [number], actor=Actor.platform(), reason="no funds")


def test_exhausted_then_refused_then_reenabled_the_same_either_way(runtime, cli, twins):
    direct, via_cli = twins
    for number in twins:
        exhaust(runtime, number)
    _, state = story(runtime, direct)
    assert state["attempts"] == 3 and state["needs_attention"] and state["collection_date"] is None
    refused = platform.record_event(runtime, "collection_started", [direct], actor=Actor.platform())[0]
    assert refused.outcome == "refused" and "re-enable" in refused.message
    code, _, err = cli("platform", "collection-started", via_cli)
    assert code == 2 and "re-enable" in err

    outcome = actions.reenable_collection(runtime, direct, "customer topped up", actor=Actor.person("ana"))
    assert outcome.outcome == "transition" and "re-enabled" in outcome.message
    code, out, _ = cli("invoice", "reenable-collection", via_cli, "--reason", "customer topped up", "--as", "ana")
    assert code == 0 and "re-enabled" in out
    same_story(runtime, direct, via_cli)
    _, state = story(runtime, direct)
    assert state["attempts"] == 0 and not state["needs_attention"] and state["collection_date"] is not None
    again = platform.record_event(runtime, "collection_started", [direct], actor=Actor.platform())[0]
    assert again.to_status == "submitted"


def test_refused_while_attempts_remain(runtime, cli, twins):
    with pytest.raises(RefusedAction, match="only once every attempt is used"):
        actions.reenable_collection(runtime, "INV-D", "why", actor=Actor.person("ana"))
    code, _, err = cli("invoice", "reenable-collection", "INV-C", "--reason", "why")
    assert code == 2 and "only once every attempt is used" in err
    same_story(runtime, *twins)
