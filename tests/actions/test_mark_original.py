"""Action: a person marks a duplicate as its own invoice; it is then placed and processed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from connector.actions import Actor, RefusedAction
from connector.actions import invoices as actions
from connector.domain import LedgerStatus
from connector.store.models import Invoice
from connector.sync.apply import NewInvoice, create_invoice
from tests.actions.conftest import TODAY, same_story


def platform_copy(rt, number: str) -> None:
    """The same invoice arriving from another channel (the platform itself): a Duplicate."""
    with rt.transaction() as session:
        create_invoice(
            session,
            None,
            NewInvoice(
                number, "Bayside Club", "GBP", Decimal("120.00"), Decimal("120.00"), TODAY, None, LedgerStatus.OPEN
            ),
            today=TODAY,
        )


def test_direct_and_cli_place_the_duplicate_the_same_way(runtime, cli, twins):
    for number in twins:
        platform_copy(runtime, number)
    with runtime.sessions() as session:
        dupes = [i for i in session.scalars(select(Invoice).where(Invoice.status == "duplicate"))]
    assert len(dupes) == 2
    direct, via_cli = (f"#{d.id}" for d in sorted(dupes, key=lambda d: d.number, reverse=True))
    outcome = actions.mark_original(runtime, direct, "a second sale, same amount", actor=Actor.person("kim"))
    assert outcome.to_status == "scheduled"
    code, out, _ = cli("invoice", "mark-original", via_cli, "--reason", "a second sale, same amount", "--as", "kim")
    assert code == 0 and "duplicate → scheduled" in out
    with runtime.sessions() as session:
        rows = {i.id: i for i in session.scalars(select(Invoice).where(Invoice.connection_id.is_(None)))}
    assert all(r.status == "scheduled" and r.duplicate_of_id is None for r in rows.values())
    numbers = [r.number for r in rows.values()]
    # the twins are compared by their own numbers (the platform copies share them)
    assert len(numbers) == 2
    same_story_by_id(runtime, *rows)


def same_story_by_id(runtime, a: int, b: int) -> None:
    from connector.store.models import ActivityEvent

    with runtime.sessions() as session:

        def line(i):
            return [
                (e.kind, e.outcome, e.from_status, e.to_status, e.actor, e.detail)
                for e in session.scalars(select(ActivityEvent).where(ActivityEvent.invoice_id == i))
                if e.kind != "created"
            ]

        assert [x[:5] for x in line(a)] == [x[:5] for x in line(b)]


def test_only_a_duplicate_may_be_marked_original(runtime, cli, twins):
    with pytest.raises(RefusedAction, match="only a duplicate"):
        actions.mark_original(runtime, "INV-D", "why", actor=Actor.person("kim"))
    code, _, err = cli("invoice", "mark-original", "INV-C", "--reason", "why")
    assert code == 2 and "only a duplicate" in err
    same_story(runtime, *twins)
