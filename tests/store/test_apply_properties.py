"""Random event sequences through the database: nothing is lost, nothing is paid twice."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from connector.domain import LedgerStatus, Money, Transition
from connector.domain import events as ev
from connector.store.models import ActivityEvent, Connection, Invoice, OutboxEntry
from connector.sync.apply import NewInvoice, apply_event, create_invoice, record_payout

START = date(2026, 2, 1)

event_kinds = st.sampled_from([k for k in ev.ALL_EVENTS if k is not ev.PayoutSent] + ["payout"])


@st.composite
def events(draw: st.DrawFn) -> object:
    kind = draw(event_kinds)
    on = START + timedelta(days=draw(st.integers(0, 60)))
    if kind == "payout":
        return ("payout", on)
    if kind is ev.LedgerAmountChanged:
        return kind(occurred_on=on, amount_due=Money.of(draw(st.sampled_from(["50.00", "99.99"])), "GBP"))
    return kind(occurred_on=on)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=st.sampled_from(LedgerStatus), sequence=st.lists(events(), max_size=15))
def test_every_event_leaves_exactly_one_activity_line(runtime, ledger, sequence):
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        n = session.scalar(select(func.count()).select_from(Invoice))
        inv = create_invoice(
            session,
            conn,
            NewInvoice(
                number=f"H-{n}",
                contact_name=f"Customer {n}",
                currency="GBP",
                total=Decimal("120.00"),
                amount_due=Decimal("120.00"),
                issue_date=START,
                due_date=START + timedelta(days=10),
                ledger_status=ledger,
                external_id=f"h-{n}",
            ),
            today=START,
        )
        invoice_id = inv.id
    applied = 0
    externally_paid = False
    for item in sequence:
        with runtime.transaction() as session:
            inv = session.get(Invoice, invoice_id)
            if inv.deleted_at is not None:
                break
            if inv.paid_via == "external":
                externally_paid = True
            if isinstance(item, tuple):
                record_payout(session, [inv], on=item[1], fee=Decimal("1.00"), reference=f"PO-{applied}")
            else:
                apply_event(session, inv, item)
            applied += 1

    with runtime.transaction() as session:
        inv = session.get(Invoice, invoice_id)
        lines = session.scalar(select(func.count()).where(ActivityEvent.invoice_id == invoice_id))
        assert lines == applied + 1  # the import, then one line per event, whatever its outcome
        payments = session.scalar(
            select(func.count()).where(OutboxEntry.invoice_id == invoice_id, OutboxEntry.kind == "payment")
        )
        deletions = session.scalar(
            select(func.count()).where(OutboxEntry.invoice_id == invoice_id, OutboxEntry.kind == "delete_payment")
        )
        assert payments - deletions in (0, 1)
        if externally_paid or inv.paid_via == "external":
            assert inv.status != "settled"
            assert payments == 0
        if inv.status == "settled":
            assert inv.paid_via == "platform" and inv.paid_amount == Decimal("120.00")


def test_a_refused_event_changes_nothing_but_the_log(runtime):
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        inv = create_invoice(
            session,
            conn,
            NewInvoice(
                number="R-1",
                contact_name="Refused Ltd",
                currency="GBP",
                total=Decimal("10"),
                amount_due=Decimal("10"),
                issue_date=START,
                due_date=START,
                ledger_status=LedgerStatus.OPEN,
                external_id="r-1",
            ),
            today=START,
        )
        version = inv.version
        outcome = apply_event(session, inv, ev.CollectionConfirmed(occurred_on=START))
        assert not isinstance(outcome, Transition)
    with runtime.transaction() as session:
        inv = session.scalars(select(Invoice).where(Invoice.number == "R-1")).one()
        assert (inv.status, inv.version) == ("scheduled", version)
        assert session.scalar(select(func.count()).select_from(OutboxEntry)) == 0
        kinds = [e.outcome for e in session.scalars(select(ActivityEvent).order_by(ActivityEvent.id))]
        assert kinds == ["created", "refused"]
