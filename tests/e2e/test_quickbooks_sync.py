"""QuickBooks Online sync end to end: python-quickbooks + intuit-oauth over HTTP against the sandbox."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from connector.domain import CollectionConfirmed, CollectionStarted
from connector.sandbox.quickbooks import QboError
from connector.store.models import Connection, Invoice
from connector.sync.apply import apply_event, record_payout
from connector.sync.connect import save_token
from tests.e2e.conftest import TODAY


@pytest.fixture
def world(qbo_world):
    return qbo_world


def test_first_import_derives_every_status(world):
    result = world.sync()
    assert result.state == "succeeded", result.error
    rows = world.invoices()
    assert rows
    for external_id, row in rows.items():
        try:
            inv = world.entity("Invoice", external_id)
        except QboError:  # deleted in QuickBooks: only a CDC tombstone is left
            assert row.status == "voided"
            continue
        balance, total = Decimal(str(inv["Balance"])), Decimal(str(inv["TotalAmt"]))
        if str(inv.get("PrivateNote", "")).startswith("Voided") and total == 0:
            assert row.status == "voided"
        elif balance > 0:
            assert row.status == "scheduled" and row.amount_due == balance
            assert row.due_date.isoformat() == inv["DueDate"]  # company-local calendar date
        else:
            assert (row.status, row.paid_via) == ("paid", "external")
    again = world.sync()
    assert (again.counts.placed, again.counts.changed) == (0, 0)


def test_incremental_changes_void_and_delete_through_cdc(world):
    world.sync()
    a, b, c = world.open_invoices(3)
    world.qbo.record_payment(world.realm, a, "5.00")
    world.qbo.void_invoice(world.realm, b)
    world.qbo.delete_invoice(world.realm, c)
    result = world.sync()
    assert result.state == "succeeded", result.error
    rows = world.invoices()
    assert rows[a].status == "scheduled" and rows[a].amount_due == Decimal(str(world.entity("Invoice", a)["Balance"]))
    assert rows[b].status == "voided"
    assert rows[c].status == "voided" and rows[c].ledger_status == "voided"


def test_payment_and_payout_reach_quickbooks_once(world):
    world.sync()
    chosen = world.open_invoices(3)
    with world.rt.transaction() as session:
        rows = list(session.scalars(select(Invoice).where(Invoice.external_id.in_(chosen))))
        for row in rows:
            apply_event(session, row, CollectionStarted(occurred_on=TODAY))
            apply_event(session, row, CollectionConfirmed(occurred_on=TODAY, reference="DD-9"))
    pushed = world.sync(do_import=False)
    assert pushed.counts.pushed == 3 + 6, pushed  # the payments, then a note on each invoice per event
    for x in chosen:
        inv = world.entity("Invoice", x)
        assert Decimal(str(inv["Balance"])) == 0
        payments = [link["TxnId"] for link in inv.get("LinkedTxn", []) if link["TxnType"] == "Payment"]
        ours = [p for p in payments if "cx:" in str(world.entity("Payment", p).get("PrivateNote", ""))]
        assert len(ours) == 1
        assert world.entity("Payment", ours[0])["DepositToAccountRef"]["value"] == world.accounts["clearing"]
    with world.rt.transaction() as session:
        rows = list(session.scalars(select(Invoice).where(Invoice.external_id.in_(chosen))))
        record_payout(session, rows, on=TODAY, fee=Decimal("3.00"), reference="PO-Q1")
    world.sync(do_import=False, push_options={"lease": timedelta(0)})
    books = world.qbo.ledger.books(world.realm).records
    transfers = [t for t in books["Transfer"].values() if "PO-Q1" in str(t.doc.get("PrivateNote", ""))]
    fees = [t for t in books["Purchase"].values() if "PO-Q1" in str(t.doc.get("PrivateNote", ""))]
    assert len(transfers) == 1 and len(fees) == 1
    assert transfers[0].doc["FromAccountRef"]["value"] == world.accounts["clearing"]
    assert transfers[0].doc["ToAccountRef"]["value"] == world.accounts["bank"]
    again = world.sync()
    assert (again.counts.changed, again.counts.conflicts) == (0, 0)


def test_expired_token_refreshes_and_rotates_and_invalid_grant_needs_reconnect(world):
    world.sync()
    with world.rt.sessions() as session:
        before = session.get(Connection, world.connection_id).token_ciphertext
    world.qbo.expire_access_tokens()
    assert world.sync().state == "succeeded"
    with world.rt.sessions() as session:
        assert session.get(Connection, world.connection_id).token_ciphertext != before  # rotated and saved
    save_token(
        world.rt,
        world.connection_id,
        {
            "access_token": "dead",
            "refresh_token": "revoked",
            "expires_in": 3600,
            "expires_at": 1,
            "token_type": "bearer",
        },
    )
    result = world.sync()
    assert result.state == "failed" and "reconnect" in result.error
    with world.rt.sessions() as session:
        assert session.get(Connection, world.connection_id).state == "needs_reconnect"


def test_post_at_submitted_deletes_the_payment_when_the_collection_fails(qbo, db_url, monkeypatch):
    from connector.domain import CollectionFailed
    from tests.e2e.conftest import QboWorld

    world = QboWorld(qbo, db_url, monkeypatch, post_payment_at="submitted")
    try:
        world.sync()
        [x] = world.open_invoices(1)
        total = Decimal(str(world.entity("Invoice", x)["TotalAmt"]))
        with world.rt.transaction() as session:
            row = session.scalars(select(Invoice).where(Invoice.external_id == x)).one()
            apply_event(session, row, CollectionStarted(occurred_on=TODAY))
        world.sync(do_import=False)
        assert Decimal(str(world.entity("Invoice", x)["Balance"])) == 0 and world.our_payment_count(x) == 1
        with world.rt.transaction() as session:
            row = session.scalars(select(Invoice).where(Invoice.external_id == x)).one()
            apply_event(session, row, CollectionFailed(occurred_on=TODAY, detail="refer to payer"))
        world.sync(do_import=False)
        assert Decimal(str(world.entity("Invoice", x)["Balance"])) == total
        assert world.our_payment_count(x) == 0
        assert world.invoice(x).status == "scheduled"
        assert world.sync().counts.conflicts == 0
    finally:
        world.rt.close()


def test_a_stale_sync_token_is_reread_and_retried_once(qbo, db_url, monkeypatch):
    """5010: the payment changed between our read and our delete; QuickBooks refuses, we re-read once."""
    from connector.domain import CollectionFailed
    from connector.ledgers.quickbooks import _Client
    from tests.e2e.conftest import QboWorld

    world = QboWorld(qbo, db_url, monkeypatch, post_payment_at="submitted")
    try:
        world.sync()
        [x] = world.open_invoices(1)
        with world.rt.transaction() as session:
            row = session.scalars(select(Invoice).where(Invoice.external_id == x)).one()
            apply_event(session, row, CollectionStarted(occurred_on=TODAY))
        world.sync(do_import=False)
        real, reads = _Client.get_single_object, []

        def read_then_someone_edits(self, qbbo, pk, params=None):
            found = real(self, qbbo, pk, params)
            reads.append(qbbo)
            if qbbo == "Payment" and len(reads) == 1:  # our copy is one edit behind the ledger's
                found["Payment"]["SyncToken"] = str(int(found["Payment"]["SyncToken"]) - 1)
            return found

        monkeypatch.setattr(_Client, "get_single_object", read_then_someone_edits)
        with world.rt.transaction() as session:
            row = session.scalars(select(Invoice).where(Invoice.external_id == x)).one()
            apply_event(session, row, CollectionFailed(occurred_on=TODAY))
        result = world.sync(do_import=False)
        assert result.counts.pushed == 1 and result.counts.rejected == 0
        assert reads == ["Payment", "Payment"]  # refused once as stale (5010), re-read, deleted
        assert world.our_payment_count(x) == 0
    finally:
        world.rt.close()


def test_the_companys_offset_is_learnt_for_its_local_date(world):
    world.sync()
    with world.rt.sessions() as session:
        offset = session.get(Connection, world.connection_id).settings.get("utc_offset_minutes")
    assert offset == world.qbo.realms[0].utc_offset_minutes
