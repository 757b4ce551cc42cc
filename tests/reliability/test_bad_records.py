"""One bad record never blocks an import (issue 17): the records the store or the domain cannot take
are quarantined with the reason, the rest of the page is placed, the cursor moves, and SQLite and
PostgreSQL take and refuse the same records.

The records come through the real adapters from the sandboxes (edited there the way a ledger's own
bad data would look), and straight into the importer (records no validator stopped, to show the
importer's savepoints alone keep the page going). Nothing is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError, StatementError

from connector.ledgers.base import CallCounter
from connector.ledgers.records import InvoicePage, LedgerInvoice
from connector.sandbox.quickbooks import QuickBooksSandbox
from connector.sandbox.xero import RateLimits, XeroSandbox
from connector.store.models import ActivityEvent, Connection, Invoice, QuarantinedRecord, SyncCursor
from connector.sync.importer import import_invoices, is_record_error, read_cursor
from tests.e2e.conftest import QboWorld, make_world

# --- through the real adapters ------------------------------------------------------------------------


@pytest.fixture
def raw_xero() -> Iterator[XeroSandbox]:
    """A Xero sandbox whose data a test corrupts on purpose (so no spec check of its answers)."""
    with XeroSandbox(seed=23, tenants=2, invoices_per_tenant=30, limits=RateLimits.unlimited()) as sandbox:
        yield sandbox


def open_sales(xero: XeroSandbox, tenant_id: str) -> list[Any]:
    tenant = xero.ledger.tenant(tenant_id)
    base = tenant.org.base_currency
    return [
        i
        for i in tenant.invoices.values()
        if i.type == "ACCREC" and i.status == "AUTHORISED" and i.amount_paid == 0 and i.currency == base
    ]


def quarantined(rt: Any) -> dict[str | None, str]:
    with rt.sessions() as session:
        return {q.external_id: q.reason for q in session.scalars(select(QuarantinedRecord))}


def test_xero_bad_records_are_quarantined_or_normalised_and_the_rest_of_the_page_goes_on(raw_xero, db_url, monkeypatch):
    world = make_world(raw_xero, db_url, monkeypatch)
    try:
        tenant_id = world.tenant("nz")
        tenant = raw_xero.ledger.tenant(tenant_id)
        lower, huge, named, long_number = open_sales(raw_xero, tenant_id)[:4]
        lower.currency = lower.currency.lower()  # "nzd": the domain refused it, and the whole page with it
        huge.total = Decimal("1e20")  # NUMERIC(18,4) overflows on PostgreSQL; collected today on SQLite
        tenant.contacts[named.contact_id].name = "Ridgeway\x00 University"  # PostgreSQL refuses NUL
        long_number.number = "INV-" + "9" * 296  # String(100): PostgreSQL refuses, SQLite keeps
        ours = {i.id for i in tenant.invoices.values() if i.type == "ACCREC"}

        result = world.sync("nz")

        assert result.state == "succeeded", result.error
        reasons = quarantined(world.rt)
        assert set(reasons) == {huge.id, long_number.id}
        assert "above the ceiling" in reasons[huge.id]
        assert "invoice number is 300 characters" in reasons[long_number.id]
        assert result.counts.quarantined == 2
        placed = {row.external_id: row for row in world.invoices("nz")}
        assert set(placed) == ours - {huge.id, long_number.id}
        assert placed[lower.id].currency == lower.currency.upper()
        assert placed[lower.id].status == "scheduled"
        assert placed[named.id].contact_name == "Ridgeway University"
        with world.rt.sessions() as session:
            assert read_cursor(session, world.connection_id("nz")) is not None

        # The next sync is not stuck behind them: the same records are simply quarantined again.
        again = world.sync("nz")
        assert again.state == "succeeded", again.error
        assert {r.external_id for r in world.invoices("nz")} == set(placed)
    finally:
        world.rt.close()


def test_xero_a_ceiling_set_on_the_adapter_quarantines_what_is_above_it(raw_xero, db_url, monkeypatch):
    world = make_world(raw_xero, db_url, monkeypatch)
    try:
        world.options = {"max_amount": Decimal("1000")}
        result = world.sync("nz")
        assert result.state == "succeeded", result.error
        tenant = raw_xero.ledger.tenant(world.tenant("nz"))
        big = {i.id for i in tenant.invoices.values() if i.type == "ACCREC" and i.total > 1000}
        assert big, "the seeded books have invoices over 1000"
        reasons = quarantined(world.rt)
        assert set(reasons) == big
        assert all("above the ceiling of 1000" in r for r in reasons.values())
    finally:
        world.rt.close()


def test_a_quarantined_record_read_again_cleanly_is_resolved_and_placed(raw_xero, db_url, monkeypatch):
    world = make_world(raw_xero, db_url, monkeypatch)
    try:
        tenant = raw_xero.ledger.tenant(world.tenant("nz"))
        big = [i for i in open_sales(raw_xero, world.tenant("nz")) if i.total > 1000]
        assert len(big) >= 2, "the seeded books have open invoices over 1000"
        world.options = {"max_amount": Decimal("1000")}
        assert world.sync("nz").state == "succeeded"
        assert world.sync("us").state == "succeeded"
        with world.rt.sessions() as session:
            open_before = {q.external_id: q.connection_id for q in session.scalars(select(QuarantinedRecord))}
        assert {i.id for i in big} <= set(open_before)
        assert world.connection_id("us") in open_before.values(), "the other organisation has its own"

        world.options = {}  # the ceiling lifted, and one invoice edited in Xero: read again, and readable
        fixed = big[0]
        with raw_xero.ledger.lock:
            raw_xero.ledger._touch_invoice(tenant, fixed)
        assert world.sync("nz").state == "succeeded"

        with world.rt.sessions() as session:
            rows = {q.external_id: q for q in session.scalars(select(QuarantinedRecord))}
        assert rows[fixed.id].resolved_at is not None
        assert all(rows[i.id].resolved_at is None for i in big[1:]), "not read again: still open"
        others = [q for q in rows.values() if q.connection_id == world.connection_id("us")]
        assert others and all(q.resolved_at is None for q in others)
        assert fixed.id in {row.external_id for row in world.invoices("nz")}
    finally:
        world.rt.close()


@pytest.fixture
def raw_qbo(monkeypatch) -> Iterator[QuickBooksSandbox]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with QuickBooksSandbox(seed=5, realms=1, invoices_per_realm=20, limits=RateLimits.unlimited()) as sandbox:
        yield sandbox


def edit_invoice(qbo: QuickBooksSandbox, realm: str, invoice_id: str, **fields: Any) -> None:
    """Someone (or a bug at Intuit) wrote these values: the stored document changes as it is."""
    with qbo.ledger.lock:
        record = qbo.ledger.books(realm).records["Invoice"][invoice_id]
        record.doc.update(fields)
        record.json = None


def open_qbo(qbo: QuickBooksSandbox, realm: str) -> list[str]:
    records = qbo.ledger.books(realm).records["Invoice"]
    return [
        rid
        for rid, r in sorted(records.items(), key=lambda kv: int(kv[0]))
        if not r.deleted and Decimal(str(r.doc.get("Balance", 0))) > 0
    ]


def test_quickbooks_amounts_the_store_cannot_keep_exactly_are_quarantined_on_both_databases(
    raw_qbo, db_url, monkeypatch
):
    """PostgreSQL rounded 12.123456789 to 12.1235 while SQLite kept it: now neither takes it."""
    world = QboWorld(raw_qbo, db_url, monkeypatch)
    try:
        nine, over, fine = open_qbo(raw_qbo, world.realm)[:3]
        edit_invoice(raw_qbo, world.realm, nine, TotalAmt=Decimal("12.123456789"), Balance=Decimal("12.123456789"))
        # More due than the invoice's total (and no credits): not collected, quarantined.
        edit_invoice(raw_qbo, world.realm, over, TotalAmt=Decimal("100.00"), Balance=Decimal("250.00"))
        edit_invoice(raw_qbo, world.realm, fine, TotalAmt=Decimal("46.00"), Balance=Decimal("46.00"))

        result = world.sync(do_push=False)

        assert result.state == "succeeded", result.error
        reasons = quarantined(world.rt)
        assert set(reasons) == {nine, over}
        assert "more than 4 decimal places" in reasons[nine]
        assert "amount due 250 is more than the total 100 plus credits 0" in reasons[over]
        rows = world.invoices()
        assert nine not in rows and over not in rows
        assert rows[fine].amount_due == Decimal("46") and rows[fine].status == "scheduled"
    finally:
        world.rt.close()


# --- straight into the importer: records no validator stopped -----------------------------------------


class PagesLedger:
    """A ledger that has exactly these pages to give (the importer reads nothing else of it)."""

    provider = "xero"
    payment_batch_size = 50

    def __init__(self, *pages: list[LedgerInvoice]) -> None:
        self.pages = pages
        self.calls = CallCounter()

    def changed_invoices(self, cursor: str | None, overlap: timedelta) -> Iterator[InvoicePage]:
        for n, records in enumerate(self.pages, start=1):
            yield InvoicePage(list(records), more=n < len(self.pages), cursor=f"2026-01-0{n}T00:00:00+00:00")


STAMP = datetime(2026, 1, 1, tzinfo=UTC)
NAIVE = datetime(2026, 1, 1, 5)


def record(n: int, **changes: Any) -> LedgerInvoice:
    fields: dict[str, Any] = {
        "external_id": f"inv-{n}",
        "number": f"INV-{n:04d}",
        "contact_name": f"Customer {n}",
        "currency": "NZD",
        "total": Decimal("100.00"),
        "amount_due": Decimal("100.00"),
        "amount_paid": Decimal("0"),
        "issue_date": date(2026, 1, 1),
        "due_date": date(2026, 2, 1),
        "status": "AUTHORISED",
        "type": "ACCREC",
        "updated_at": STAMP,
        **changes,
    }
    return LedgerInvoice(**fields)


def connection_id(runtime: Any) -> int:
    with runtime.sessions() as session:
        return session.scalars(select(Connection.id)).one()


def test_the_importer_quarantines_what_the_domain_or_the_store_refuses_and_moves_the_cursor(runtime):
    cid = connection_id(runtime)
    ledger = PagesLedger(
        [
            record(1),
            record(2, currency="nzd"),  # the domain's Money refuses it (ValueError)
            record(3, updated_at=NAIVE),  # a stamp without its zone: the store refuses it before sending
            record(4),
        ],
        [record(5)],
    )
    counts = import_invoices(runtime.transaction, cid, ledger, today=date(2026, 1, 10))

    assert (counts.pages, counts.fetched, counts.placed, counts.quarantined) == (2, 5, 3, 2)
    with runtime.sessions() as session:
        placed = set(session.scalars(select(Invoice.external_id)))
        reasons = {q.external_id: q.reason for q in session.scalars(select(QuarantinedRecord))}
        cursor = session.get(SyncCursor, (cid, "invoices"))
    assert placed == {"inv-1", "inv-4", "inv-5"}
    assert set(reasons) == {"inv-2", "inv-3"}
    assert all(r.startswith("could not be stored: ") for r in reasons.values())
    assert "three-letter ISO code" in reasons["inv-2"]
    assert "timezone-aware" in reasons["inv-3"]
    assert cursor is not None and cursor.value.startswith("2026-01-02")


def test_a_change_the_store_refuses_leaves_the_invoice_as_it_was_and_the_others_change(runtime):
    cid = connection_id(runtime)
    import_invoices(runtime.transaction, cid, PagesLedger([record(1), record(2)]), today=date(2026, 1, 10))
    later = STAMP + timedelta(hours=1)
    ledger = PagesLedger(
        [
            record(1, amount_due=Decimal("70.00"), updated_at=NAIVE),  # refused at flush, inside its savepoint
            record(2, amount_due=Decimal("60.00"), updated_at=later),
        ]
    )
    counts = import_invoices(runtime.transaction, cid, ledger, today=date(2026, 1, 10))

    assert (counts.changed, counts.quarantined) == (1, 1)
    with runtime.sessions() as session:
        due = {i.external_id: i.amount_due for i in session.scalars(select(Invoice))}
        reasons = {q.external_id: q.reason for q in session.scalars(select(QuarantinedRecord))}
    assert due == {"inv-1": Decimal("100.00"), "inv-2": Decimal("60.00")}
    assert list(reasons) == ["inv-1"] and reasons["inv-1"].startswith("could not be stored")
    with runtime.sessions() as session:  # the refused change left no line in the timeline either
        kinds = [
            e.kind for e in session.scalars(select(ActivityEvent).join(Invoice).where(Invoice.external_id == "inv-1"))
        ]
    assert kinds == ["imported"]


def test_only_data_errors_are_quarantined_a_lost_database_still_fails_the_page():
    orig = Exception("boom")
    assert is_record_error(DataError("INSERT", {}, orig))
    assert is_record_error(IntegrityError("INSERT", {}, orig))
    assert is_record_error(StatementError("bind", "INSERT", {}, TypeError("amounts are Decimals")))
    assert is_record_error(ValueError("currency must be a three-letter ISO code"))
    assert not is_record_error(OperationalError("INSERT", {}, orig))
    assert not is_record_error(RuntimeError("a bug"))


def test_the_ceiling_comes_from_the_connections_config(raw_xero, db_url, monkeypatch):
    """``max_amount`` in a ``[[connections]]`` entry reaches the adapter: above it is quarantined."""
    world = make_world(raw_xero, db_url, monkeypatch, max_amount="5000")
    try:
        tenant = raw_xero.ledger.tenant(world.tenant("nz"))
        big = max(open_sales(raw_xero, world.tenant("nz")), key=lambda i: i.total)
        big.total = Decimal("5000.01")
        world.sync("nz")
        assert big.id in quarantined(world.rt) and "5000" in quarantined(world.rt)[big.id]
        assert tenant is not None
    finally:
        world.rt.close()
