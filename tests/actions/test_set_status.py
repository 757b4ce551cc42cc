"""Action: a person sets a status with a reason — the same from the CLI as called directly."""

from __future__ import annotations

import pytest

from connector.actions import Actor, InvalidInput, NotFound, RefusedAction
from connector.actions import invoices as actions
from tests.actions.conftest import same_story, story


def test_direct_and_cli_write_the_same_change(runtime, cli, twins):
    direct, via_cli = twins
    outcome = actions.set_status(runtime, direct, "voided", "customer closed", actor=Actor.person("sam"))
    assert (outcome.outcome, outcome.from_status, outcome.to_status) == ("transition", "scheduled", "voided")
    code, out, _ = cli(
        "invoice", "set-status", via_cli, "voided", "--reason", "customer closed", "--yes", "--as", "sam"
    )
    assert code == 0 and "scheduled → voided" in out
    same_story(runtime, direct, via_cli)
    timeline, _ = story(runtime, direct)
    assert timeline[-1][5] == "sam" and timeline[-1][7]["reason"] == "customer closed"


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("INV-D", "settled", "r"), RefusedAction, "cannot go from scheduled to settled"),
        (("INV-Z", "voided", "r"), NotFound, "no invoice 'INV-Z'"),
        (("INV-D", "voided", "  "), InvalidInput, "reason must say why"),
        (("INV-D", "nonsense", "r"), InvalidInput, "status: expected one of"),
    ],
)
def test_the_same_error_either_way_and_nothing_changes(runtime, cli, twins, args, error, message):
    ref, target, reason = args
    before = story(runtime, "INV-D")
    with pytest.raises(error) as caught:
        actions.set_status(runtime, ref, target, reason, actor=Actor.person("sam"))
    assert message in caught.value.message
    code, _, err = cli("invoice", "set-status", ref, target, "--reason", reason, "--yes")
    assert code == 2
    assert message in err or target == "nonsense"  # typer itself refuses an unknown status name
    assert story(runtime, "INV-D") == before


def test_the_confirmation_step_can_say_no_and_change_nothing(runtime, cli, twins):
    before = story(runtime, "INV-C")
    code, out, err = cli("invoice", "set-status", "INV-C", "voided", "--reason", "r", input="n\n")
    assert code == 2 and "Are you sure?" in out and "nothing changed" in err
    assert story(runtime, "INV-C") == before


def test_check_status_change_says_what_would_happen_and_writes_nothing(runtime, twins):
    before = story(runtime, "INV-D")
    change = actions.check_status_change(runtime, "INV-D", "submitted")
    assert (change.from_status, change.to_status) == ("scheduled", "submitted")
    assert story(runtime, "INV-D") == before
