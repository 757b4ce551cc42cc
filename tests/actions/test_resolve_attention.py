"""Action: a person closes what needed attention (a conflict, a refund due), saying how."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.actions import Actor, InvalidInput, RefusedAction, platform
from connector.actions import invoices as actions
from tests.actions.conftest import same_story, story


def overcollected(runtime, number: str) -> None:
    platform.record_event(runtime, "collection_started", [number], actor=Actor.platform())
    platform.record_event(runtime, "collection_confirmed", [number], actor=Actor.platform(), amount="150")
    from sqlalchemy import select

    from connector.store.models import Invoice

    with runtime.transaction() as session:  # what the push records once the ledger took 120 of it
        session.scalars(select(Invoice).where(Invoice.number == number)).one().refund_due = Decimal("30.00")


def test_refunded_direct_and_cli_alike(runtime, cli, twins):
    direct, via_cli = twins
    for number in twins:
        overcollected(runtime, number)
    outcome = actions.resolve_attention(
        runtime, direct, "refunded", "paid back by bank transfer", actor=Actor.person("mo")
    )
    assert outcome.outcome == "resolved" and "refund of 30.00 GBP paid back" in outcome.message
    code, out, _ = cli("invoice", "resolve", via_cli, "refunded", "--note", "paid back by bank transfer", "--as", "mo")
    assert code == 0 and "refund of 30.00" in out
    same_story(runtime, direct, via_cli)
    _, state = story(runtime, direct)
    assert state["refund_due"] is None and not state["needs_attention"] and state["attention_reason"] is None


def test_nothing_to_resolve_and_bad_resolution(runtime, cli, twins):
    with pytest.raises(RefusedAction, match="nothing needs attention"):
        actions.resolve_attention(runtime, "INV-D", "keep_platform", "ok", actor=Actor.person("mo"))
    with pytest.raises(InvalidInput) as caught:
        actions.resolve_attention(runtime, "INV-D", "shrug", "ok", actor=Actor.person("mo"))
    assert caught.value.field == "resolution"
    code, _, err = cli("invoice", "resolve", "INV-C", "keep_platform", "--note", "ok")
    assert code == 2 and "nothing needs attention" in err
