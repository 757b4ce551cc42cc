"""Action: the platform's events (collections, requests, money received), the same from the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connector.actions import Actor, InvalidInput, NotFound
from connector.actions import platform as actions
from connector.store.models import OutboxEntry
from tests.actions.conftest import same_story, story

LIFECYCLE = [
    ("collection_started", {}),
    ("collection_failed", {"reason": "insufficient funds"}),
    ("collection_started", {}),
    ("collection_confirmed", {"reference": "DD-1", "amount": "120.00"}),
]


def cli_args(kind: str, ref: str, options: dict[str, str]) -> list[str]:
    args = ["platform", kind.replace("_", "-"), ref]
    for key, value in options.items():
        args += [f"--{key}", value]
    return args


def test_a_lifecycle_direct_and_through_the_cli_is_the_same(runtime, cli, twins):
    direct, via_cli = twins
    for kind, options in LIFECYCLE:
        [outcome] = actions.record_event(runtime, kind, [direct], actor=Actor.platform(), **options)
        assert outcome.accepted, outcome
        code, _, err = cli(*cli_args(kind, via_cli, options))
        assert code == 0, err
    same_story(runtime, direct, via_cli)
    _, state = story(runtime, direct)
    assert state["status"] == "paid" and state["attempts"] == 1
    with runtime.sessions() as session:
        kinds = sorted(e.kind for e in session.scalars(select(OutboxEntry)))
    # one payment each for the ledger, and a note on the invoice for each start and the confirmation
    assert kinds == ["ledger_note"] * 6 + ["payment", "payment"]


def test_a_confirmation_for_another_amount_is_recorded_and_flagged(runtime, cli, twins):
    direct, via_cli = twins
    for ref in twins:
        actions.record_event(runtime, "collection_started", [ref], actor=Actor.platform())
    [outcome] = actions.record_event(runtime, "collection_confirmed", [direct], actor=Actor.platform(), amount="150")
    assert outcome.outcome == "transition" and outcome.to_status == "paid"
    code, _, _ = cli("platform", "collection-confirmed", via_cli, "--amount", "150")
    assert code == 0
    same_story(runtime, direct, via_cli)
    _, state = story(runtime, direct)
    assert state["needs_attention"] and state["paid_amount"] == 150


@pytest.mark.parametrize(
    ("call", "args", "error", "message"),
    [
        (dict(kind="collection_started", refs=["INV-404"]), ["collection-started", "INV-404"], NotFound, "no invoice"),
        (
            dict(kind="collection_confirmed", refs=["INV-D"], on="yesterday"),
            ["collection-confirmed", "INV-D", "--date", "yesterday"],
            InvalidInput,
            "expected YYYY-MM-DD",
        ),
        (
            dict(kind="collection_confirmed", refs=["INV-D"], amount="-3"),
            ["collection-confirmed", "INV-D", "--amount", "-3"],
            InvalidInput,
            "expected a positive amount",
        ),
        (
            dict(kind="collection_confirmed", refs=["INV-D", "INV-C"], amount="3"),
            ["collection-confirmed", "INV-D", "INV-C", "--amount", "3"],
            InvalidInput,
            "one invoice at a time",
        ),
    ],
)
def test_bad_input_is_the_same_error_either_way_and_changes_nothing(runtime, cli, twins, call, args, error, message):
    before = story(runtime, "INV-D")
    with pytest.raises(error) as caught:
        actions.record_event(runtime, actor=Actor.platform(), **call)
    assert message in caught.value.message
    code, _, err = cli("platform", *args)
    assert code == 2 and message in err
    assert story(runtime, "INV-D") == before


def test_an_unknown_kind_names_the_field(runtime):
    with pytest.raises(InvalidInput) as caught:
        actions.record_event(runtime, "collection_exploded", ["INV-D"], actor=Actor.platform())
    assert caught.value.field == "kind"


def test_a_refused_event_is_logged_and_the_cli_exits_2(runtime, cli, twins):
    direct, via_cli = twins
    [outcome] = actions.record_event(runtime, "collection_confirmed", [direct], actor=Actor.platform())
    assert outcome.outcome == "refused" and "only a submitted collection" in outcome.message
    code, _, err = cli("platform", "collection-confirmed", via_cli)
    assert code == 2 and "only a submitted collection" in err
    same_story(runtime, direct, via_cli)


def test_an_external_payment_and_timeline_notes_direct_and_through_the_cli_are_the_same(runtime, cli, twins):
    direct, via_cli = twins
    for kind in ("mandate_pending", "payment_link_opened"):
        actions.record_note(runtime, kind, [direct], actor=Actor.platform(), on="2026-12-01")
        code, _, err = cli("platform", kind.replace("_", "-"), via_cli, "--date", "2026-12-01")
        assert code == 0, err
    [outcome] = actions.record_event(
        runtime, "external_payment", [direct], actor=Actor.platform(), reference="BT-1", reason="bank transfer"
    )
    assert outcome.accepted and outcome.to_status == "paid"
    code, _, err = cli("platform", "external-payment", via_cli, "--reference", "BT-1", "--reason", "bank transfer")
    assert code == 0, err
    same_story(runtime, direct, via_cli)
    _, state = story(runtime, direct)
    assert state["status"] == "paid" and state["paid_via"] == "external"


def test_a_note_of_an_unknown_kind_is_refused(runtime, twins):
    with pytest.raises(InvalidInput) as refused:
        actions.record_note(runtime, "mandate_lost", [twins[0]], actor=Actor.platform())
    assert refused.value.field == "kind"
