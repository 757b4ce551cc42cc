"""Fixtures for the console's tests: a small book of invoices in every state support meets, and a
query counter on the engine (pages must run a fixed number of queries, whatever the data).

The book is built the way the connector builds one: invoices placed by ``create_invoices`` (the
import's own path), platform events and a person's changes through the actions layer. Only what
has no action (a sync run's record, a quarantined record, a finding) is written as rows directly.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from connector.actions import Actor
from connector.actions import platform as platform_actions
from connector.domain import LedgerAmountChanged, LedgerStatus, Money
from connector.runtime import Runtime
from connector.store.models import (
    Connection,
    Invoice,
    OutboxEntry,
    QuarantinedRecord,
    ReconciliationFinding,
    SyncRun,
)
from connector.store.types import utcnow
from connector.sync.apply import NewInvoice, apply_event, create_invoices

TODAY = date.today()
PLATFORM = Actor.platform("test platform")


@dataclass
class Book:
    """What the seeded database holds, by role, as invoice ids and row ids."""

    rt: Runtime
    connection_id: int
    ids: dict[str, int] = field(default_factory=dict)

    def invoice(self, key: str) -> Invoice:
        with self.rt.sessions() as session:
            return session.get(Invoice, self.ids[key])


def new(number: str, amount: str = "120.00", contact: str = "Bayside Club", **kw: Any) -> NewInvoice:
    return NewInvoice(
        number=number,
        contact_name=contact,
        currency="GBP",
        total=Decimal(amount),
        amount_due=Decimal(amount),
        issue_date=kw.pop("issue_date", TODAY - timedelta(days=3)),
        due_date=TODAY + timedelta(days=10),
        ledger_status=kw.pop("ledger_status", LedgerStatus.OPEN),
        external_id=kw.pop("external_id", f"x-{number}"),
    )


def add_invoices(rt: Runtime, news: list[NewInvoice], *, channel: bool = False) -> list[int]:
    """Place invoices in the connection (or, with ``channel``, the platform's own channel)."""
    with rt.transaction() as session:
        conn = None if channel else session.scalars(select(Connection)).one()
        return [inv.id for inv in create_invoices(session, conn, news, today=TODAY)]


def more_invoices(rt: Runtime, n: int, prefix: str = "BULK") -> None:
    """``n`` more scheduled invoices, each with a platform event: more rows, more timeline."""
    add_invoices(rt, [new(f"{prefix}-{i:05d}", f"{10 + i}.00", contact=f"Customer {i}") for i in range(n)])


def seed_book(rt: Runtime) -> Book:
    with rt.sessions() as session:
        connection_id = session.scalars(select(Connection.id)).one()
    book = Book(rt, connection_id)
    ids = add_invoices(
        rt,
        [
            new("INV-0001", "120.00", "Bayside Club"),
            new("INV-0002", "80.50", "Harbour Cafe"),
            new("INV-0003", "99.99", "Marine Supplies"),
            new("INV-0004", "250.00", "Dockside Ltd"),
            new("INV-0005", "40.00", "Draft Co", ledger_status=LedgerStatus.DRAFT),
        ],
    )
    book.ids.update(zip(("scheduled", "failed", "submitted", "paid", "draft"), ids, strict=True))
    # The same invoice from the platform's own channel first: the ledger's copy is then a duplicate.
    [original] = add_invoices(rt, [new("INV-0100", "300.00", "Twin Co", external_id=None)], channel=True)
    [duplicate] = add_invoices(rt, [new("INV-0100", "300.00", "Twin Co")])
    book.ids.update(original=original, duplicate=duplicate)

    ref = lambda key: f"#{book.ids[key]}"  # noqa: E731
    platform_actions.record_event(rt, "collection_started", [ref("failed")], actor=PLATFORM)
    platform_actions.record_event(rt, "collection_failed", [ref("failed")], actor=PLATFORM, reason="insufficient funds")
    platform_actions.record_event(rt, "collection_started", [ref("submitted")], actor=PLATFORM)
    platform_actions.record_event(rt, "collection_started", [ref("paid")], actor=PLATFORM)
    platform_actions.record_event(rt, "collection_confirmed", [ref("paid")], actor=PLATFORM, reference="DD-4")
    # The ledger lowers a submitted invoice's amount: a conflict for a person.
    with rt.transaction() as session:
        row = session.get(Invoice, book.ids["submitted"])
        apply_event(
            session,
            row,
            LedgerAmountChanged(occurred_on=TODAY, amount_due=Money(Decimal("60.00"), "GBP")),
        )
    with rt.transaction() as session:
        payment = session.scalars(
            select(OutboxEntry).where(OutboxEntry.invoice_id == book.ids["paid"], OutboxEntry.kind == "payment")
        ).one()
        payment.state, payment.last_error, payment.attempts = "rejected", "the ledger refused: account archived", 1
        book.ids["entry"] = payment.id
        lost = OutboxEntry(
            connection_id=connection_id,
            invoice_id=book.ids["paid"],
            kind="payment",
            idempotency_key=uuid.uuid4().hex,
            payload={"amount": "250.00", "currency": "GBP", "date": TODAY.isoformat()},
            state="done",
            attempts=1,
            ledger_reference="pay-lost-1",
        )
        session.add(lost)
        session.flush()
        record = QuarantinedRecord(
            connection_id=connection_id,
            stream="invoices",
            external_id=None,
            reason="status 'WEIRD' has no mapping rule",
            raw='{"InvoiceID": "q-1", "Status": "WEIRD", "Total": "=1+1"}',
        )
        finding = ReconciliationFinding(
            connection_id=connection_id,
            kind="payment_missing",
            subject=f"payment:{lost.id}",
            invoice_id=book.ids["paid"],
            outbox_entry_id=lost.id,
            currency="GBP",
            amount=Decimal("250.00"),
            ledger_value="no payment with our marker",
            platform_value="250.00 GBP paid",
            explanation="The payment we posted is no longer in the ledger (deleted there).",
            suggested_fix="Re-post the payment.",
            fix_action="repost_payment",
        )
        now = utcnow()
        sync = SyncRun(
            connection_id=connection_id,
            job="sync",
            state="succeeded",
            started_at=now - timedelta(minutes=5),
            finished_at=now - timedelta(minutes=4),
            counts={"fetched": 7, "placed": 7, "changed": 0, "conflicts": 1, "quarantined": 1, "pushed": 0},
            api_calls=12,
        )
        session.add_all([record, finding, sync])
        session.flush()
        book.ids.update(record=record.id, finding=finding.id, lost=lost.id, run=sync.id)
    return book


@pytest.fixture
def book(runtime: Runtime) -> Book:
    return seed_book(runtime)


class QueryCounter:
    """Counts the SQL statements the engine runs (a before_cursor_execute listener)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[str] = []

    def _count(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    @contextmanager
    def counting(self) -> Iterator[QueryCounter]:
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._count)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._count)

    @property
    def count(self) -> int:
        """Statements other than transaction control (SAVEPOINT, BEGIN...), which are not queries."""
        return sum(1 for s in self.statements if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN)", s, re.I))


@pytest.fixture
def queries(runtime: Runtime) -> QueryCounter:
    return QueryCounter(runtime.engine)


def queries_for(client: Any, counter: QueryCounter, url: str) -> int:
    """How many queries one page load runs (the page must load fine)."""
    with counter.counting():
        response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return counter.count
