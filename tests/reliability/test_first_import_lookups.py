"""A first import looks up only the ledger ids it may have inserted itself, and still never
inserts an invoice twice (issue 16).

When a run begins on a connection with no invoices, the only invoices its pages can meet again
are the ones its own earlier pages inserted (an invoice changed while the run read). The importer
keeps those ids (``InsertedIds``) and asks the database about them alone. An invoice that somebody
else inserted meanwhile makes the page's bulk insert fail on the unique index; the page then goes
in record by record with every id looked up, and that invoice is followed, not refused.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from connector.domain import LedgerStatus
from connector.store.models import Connection, Invoice, QuarantinedRecord
from connector.sync import importer
from connector.sync.apply import NewInvoice, create_invoices
from connector.sync.importer import import_invoices
from connector.sync.ledger_ids import InsertedIds
from tests.reliability.test_bad_records import STAMP, PagesLedger, connection_id, record

TODAY = date(2026, 1, 10)


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The ledger ids each page asked the database about."""
    asked: list[list[str]] = []
    original = importer.each_matching

    def recording(session: Any, column: Any, keys: Any, *conditions: Any) -> Any:
        if column is Invoice.external_id:
            asked.append(sorted(keys))
        return original(session, column, keys, *conditions)

    monkeypatch.setattr(importer, "each_matching", recording)
    return asked


def test_a_first_import_asks_only_about_ids_its_own_pages_inserted(runtime, looked_up):
    cid = connection_id(runtime)
    changed = record(
        3, amount_due=Decimal("40.00"), amount_paid=Decimal("60.00"), updated_at=STAMP + timedelta(hours=1)
    )
    ledger = PagesLedger([record(1), record(2), record(3)], [changed, record(4)], [record(5)])

    counts = import_invoices(runtime.transaction, cid, ledger, today=TODAY)

    assert looked_up == [[], ["inv-3"], []]
    assert (counts.placed, counts.quarantined) == (5, 0)
    with runtime.sessions() as session:
        rows = {i.external_id: i for i in session.scalars(select(Invoice))}
    assert sorted(rows) == [f"inv-{n}" for n in range(1, 6)]
    assert rows["inv-3"].ledger_amount_due == Decimal("40.00")


def test_a_later_run_asks_about_every_id(runtime, looked_up):
    cid = connection_id(runtime)
    import_invoices(runtime.transaction, cid, PagesLedger([record(1)]), today=TODAY)
    looked_up.clear()

    import_invoices(runtime.transaction, cid, PagesLedger([record(1), record(2)]), today=TODAY)

    assert looked_up == [["inv-1", "inv-2"]]


def test_an_invoice_inserted_behind_a_first_imports_back_is_followed_not_refused(runtime, looked_up):
    cid = connection_id(runtime)

    def someone_else_inserts_inv_2(counts: Any) -> None:
        if counts.pages == 1:
            with runtime.transaction() as session:
                connection = session.get(Connection, cid)
                create_invoices(session, connection, [new_invoice("inv-2")], today=TODAY)

    changed = record(
        2, amount_due=Decimal("25.00"), amount_paid=Decimal("75.00"), updated_at=STAMP + timedelta(hours=1)
    )
    ledger = PagesLedger([record(1)], [changed, record(3)])

    counts = import_invoices(runtime.transaction, cid, ledger, today=TODAY, on_page=someone_else_inserts_inv_2)

    assert counts.quarantined == 0
    with runtime.sessions() as session:
        rows = {i.external_id: i for i in session.scalars(select(Invoice))}
        assert not list(session.scalars(select(QuarantinedRecord)))
    assert sorted(rows) == ["inv-1", "inv-2", "inv-3"]
    assert rows["inv-2"].ledger_amount_due == Decimal("25.00")
    assert ["inv-2"] in looked_up, "the one-by-one path looked inv-2 up"


def new_invoice(external_id: str) -> NewInvoice:
    return NewInvoice(
        number="INV-0002",
        contact_name="Customer 2",
        currency="NZD",
        total=Decimal("100.00"),
        amount_due=Decimal("100.00"),
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 2, 1),
        ledger_status=LedgerStatus.OPEN,
        external_id=external_id,
        ledger_updated_at=STAMP,
    )


@given(st.lists(st.text(min_size=1, max_size=40), max_size=200))
def test_an_added_id_is_always_maybe(ids):
    seen = InsertedIds()
    seen.update(ids)
    assert all(i in seen for i in ids)


def test_an_id_never_added_is_almost_always_no():
    seen = InsertedIds()
    seen.update(str(uuid.uuid4()) for _ in range(300_000))
    false_maybes = sum(str(uuid.uuid4()) in seen for _ in range(100_000))
    assert false_maybes < 500  # under 0.5 % at 300,000 ids (about 0.1 % expected)
