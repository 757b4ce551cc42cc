"""The store's guarantees: exact money, UTC timestamps, one invoice per ledger id, an append-only log."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from connector.domain import LedgerStatus
from connector.store.models import ActivityEvent, AppendOnlyError, Connection, Invoice
from connector.sync.apply import NewInvoice, create_invoice

TODAY = date(2026, 4, 1)


def new(number: str, external_id: str | None, contact: str = "Acme", total: str = "10.10") -> NewInvoice:
    return NewInvoice(
        number=number,
        contact_name=contact,
        currency="GBP",
        total=Decimal(total),
        amount_due=Decimal(total),
        issue_date=TODAY,
        due_date=TODAY,
        ledger_status=LedgerStatus.OPEN,
        external_id=external_id,
    )


def test_money_round_trips_exactly(runtime):
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        create_invoice(session, conn, new("M-1", "m-1", total="1234567.8912"), today=TODAY)
    with runtime.transaction() as session:
        inv = session.scalars(select(Invoice)).one()
        assert inv.total == Decimal("1234567.8912") and isinstance(inv.total, Decimal)
        assert inv.created_at.tzinfo is not None


def test_one_invoice_per_connection_and_ledger_id(runtime):
    with pytest.raises(IntegrityError), runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        create_invoice(session, conn, new("U-1", "same"), today=TODAY)
        create_invoice(session, conn, new("U-2", "same"), today=TODAY)
    with runtime.transaction() as session:  # the failed transaction left nothing behind
        assert session.scalars(select(Invoice)).all() == []


def test_activity_log_is_append_only_in_the_orm_and_the_database(runtime):
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        create_invoice(session, conn, new("A-1", "a-1"), today=TODAY)
    with pytest.raises(AppendOnlyError), runtime.transaction() as session:
        session.scalars(select(ActivityEvent)).one().detail = "rewritten"
    with pytest.raises(AppendOnlyError), runtime.transaction() as session:
        session.delete(session.scalars(select(ActivityEvent)).one())
    for statement in ("UPDATE activity_events SET detail = 'x'", "DELETE FROM activity_events"):
        with pytest.raises(DBAPIError, match="append-only"), runtime.engine.begin() as conn:
            conn.execute(text(statement))
    with runtime.transaction() as session:
        assert session.scalars(select(ActivityEvent.detail)).one().startswith("placed in scheduled")


def test_an_invoice_known_from_another_channel_is_a_duplicate(runtime):
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        original = create_invoice(session, None, new("INV 7", None, contact="Bayside Club Ltd"), today=TODAY)
        copy = create_invoice(session, conn, new("inv-7", "x-7", contact="bayside club"), today=TODAY)
        again = create_invoice(session, conn, new("INV-8", "x-8", contact="bayside club"), today=TODAY)
        assert (original.status, copy.status, again.status) == ("scheduled", "duplicate", "scheduled")
        assert copy.duplicate_of_id == original.id
