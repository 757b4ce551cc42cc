"""Xero sync end to end: the real SDK over HTTP against the sandbox, a real database, no mocks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from connector.domain import CollectionConfirmed, CollectionFailed, CollectionStarted
from connector.store.models import ActivityEvent, Connection, Invoice
from connector.sync.apply import apply_event, record_payout
from connector.sync.connect import save_token
from tests.e2e.conftest import TODAY, make_world

EXPECTED = {"DRAFT": "draft", "SUBMITTED": "draft", "PAID": "paid", "VOIDED": "voided", "DELETED": "voided"}


def sales_invoices(world, name="nz"):
    tenant = world.xero.ledger.tenant(world.tenant(name))
    return {i.id: i for i in tenant.invoices.values() if i.type == "ACCREC"}


def platform(world, external_ids, *events):
    with world.rt.transaction() as session:
        rows = [session.scalars(select(Invoice).where(Invoice.external_id == x)).one() for x in external_ids]
        for row in rows:
            for event in events:
                apply_event(session, row, event)


def open_invoices(world, n, name="nz"):
    """Unpaid, uncredited, approved invoices in the organisation's own currency."""
    base = world.xero.ledger.tenant(world.tenant(name)).org.base_currency
    found = [
        i.id
        for i in sales_invoices(world, name).values()
        if i.status == "AUTHORISED" and i.amount_paid == 0 and i.amount_credited == 0 and i.currency == base
    ]
    assert len(found) >= n
    return found[:n]


def our_payments(world, invoice_id, name="nz"):
    tenant = world.xero.ledger.tenant(world.tenant(name))
    return [
        p
        for p in tenant.payments.values()
        if p.invoice_id == invoice_id and p.status == "AUTHORISED" and "cx:" in (p.reference or "")
    ]


@pytest.mark.parametrize("name", ["nz", "us"])
def test_first_import_places_every_sales_invoice_once(world, name):
    result = world.sync(name)
    assert result.state == "succeeded", result.error
    ledger = sales_invoices(world, name)
    rows = world.invoices(name)
    assert sorted(r.external_id for r in rows) == sorted(ledger)
    assert result.api_calls == 2  # under 1000 invoices: one page, and the organisation read once
    again = world.sync(name)
    assert again.api_calls == 1  # the organisation is known now: a sync is one call
    for row in rows:
        inv = ledger[row.external_id]
        if inv.status == "AUTHORISED":
            assert row.status == ("scheduled" if inv.amount_due > 0 else "paid")
        else:
            assert row.status == EXPECTED[inv.status], (inv.status, row.status)
        # Calendar dates as the organisation sees them: no UTC shift in +13:00 or -08:00.
        assert row.due_date == inv.due_date
        assert row.amount_due == inv.amount_due
        base = world.xero.ledger.tenant(world.tenant(name)).org.base_currency
        if row.status == "scheduled" and row.currency == base:
            expected = inv.due_date if inv.due_date > TODAY else TODAY + timedelta(days=3)
            assert row.collection_date == expected
        elif row.status == "scheduled":  # a currency the connection cannot post: never given a date
            assert row.collection_date is None and row.needs_attention
        if row.status == "paid":
            assert row.paid_via == "external"


def test_the_two_organisations_differ_in_time_zone(world):
    offsets = {world.xero.ledger.tenant(t).org.utc_offset_minutes for t in world.names.values()}
    assert any(o >= 12 * 60 for o in offsets) and any(o < 0 for o in offsets)


def test_a_sync_with_no_change_costs_one_call_and_changes_nothing(world):
    world.sync()
    again = world.sync()
    assert again.state == "succeeded"
    assert again.api_calls == 1
    assert (again.counts.placed, again.counts.changed, again.counts.conflicts) == (0, 0, 0)


def test_incremental_import_reads_only_what_changed(world):
    world.sync()
    tenant = world.tenant()
    with world.rt.sessions() as session:
        from connector.ledgers.xero_wire import parse_timestamp
        from connector.sync.importer import read_cursor

        cursor = parse_timestamp(read_cursor(session, world.connection_id("nz")))
    overlap_ms = (cursor - timedelta(minutes=5)).timestamp() * 1000
    in_overlap = {i.id for i in sales_invoices(world).values() if i.updated_ms >= overlap_ms}
    a, b = open_invoices(world, 2)
    world.xero.ledger.add_payment(tenant, a, Decimal("10.00"), reference="cash at the counter")
    world.xero.ledger.void_invoice(tenant, b)
    c = world.xero.ledger.create_invoice(
        tenant, contact_name="New Customer Ltd", amount="320.00", due_date=TODAY + timedelta(days=20)
    )
    result = world.sync()
    # The three changes, plus whatever the overlap window (the last five minutes before the cursor) re-reads.
    assert result.counts.fetched == len(in_overlap | {a, b, c.id})
    assert (result.counts.placed, result.counts.changed) == (1, 2)
    assert result.api_calls == 1
    assert world.invoice(a).amount_due == sales_invoices(world)[a].amount_due
    assert world.invoice(a).status == "scheduled"
    assert world.invoice(b).status == "voided"
    assert (world.invoice(c.id).status, world.invoice(c.id).collection_date) == ("scheduled", TODAY + timedelta(20))


def test_every_ledger_side_change(world):
    world.sync()
    tenant, books = world.tenant(), world.xero.ledger
    credited, paid_elsewhere, submitted, submitted_paid = open_invoices(world, 4)
    draft = books.create_invoice(
        tenant, contact_name="Draft Co", amount="50.00", status="DRAFT", due_date=TODAY + timedelta(days=9)
    )
    to_delete = books.create_invoice(tenant, contact_name="Gone Co", amount="75.00", status="DRAFT")
    world.sync()
    assert world.invoice(draft.id).status == "draft"
    platform(world, [submitted, submitted_paid], CollectionStarted(occurred_on=TODAY))

    note = books.create_credit_note(tenant, contact_id=books.get_invoice(tenant, credited).contact_id, amount="20.00")
    books.allocate_credit_note(tenant, note.id, credited, "20.00")
    books.add_payment(tenant, paid_elsewhere, books.get_invoice(tenant, paid_elsewhere).amount_due)
    books.update_invoice(tenant, draft.id, status="AUTHORISED")
    books.delete_invoice(tenant, to_delete.id)
    books.update_invoice(tenant, submitted, due_date=TODAY + timedelta(days=40))
    books.add_payment(tenant, submitted_paid, books.get_invoice(tenant, submitted_paid).amount_due)

    result = world.sync()
    assert result.state == "succeeded"
    assert world.invoice(credited).status == "scheduled"
    assert world.invoice(credited).amount_due == books.get_invoice(tenant, credited).amount_due
    assert (world.invoice(paid_elsewhere).status, world.invoice(paid_elsewhere).paid_via) == ("paid", "external")
    assert world.invoice(draft.id).status == "scheduled"
    assert world.invoice(to_delete.id).status == "voided"
    # In flight with the bank: the ledger's changes are conflicts for support, not silent changes.
    assert world.invoice(submitted).status == "submitted"
    assert world.invoice(submitted_paid).status == "submitted"
    assert result.counts.conflicts == 2
    with world.rt.sessions() as session:
        conflicts = session.scalars(select(ActivityEvent).where(ActivityEvent.outcome == "conflict")).all()
        assert {c.kind for c in conflicts} == {"ledger_amount_changed", "ledger_paid_externally"}
    # Seen once, reported once: the next sync does not raise the same conflicts again.
    assert world.sync().counts.conflicts == 0


def test_payment_and_payout_reach_the_ledger_once(world):
    world.sync()
    tenant, books = world.tenant(), world.xero.ledger
    chosen = open_invoices(world, 3)
    due = {x: books.get_invoice(tenant, x).amount_due for x in chosen}
    platform(
        world, chosen, CollectionStarted(occurred_on=TODAY), CollectionConfirmed(occurred_on=TODAY, reference="DD-77")
    )
    pushed = world.sync(do_import=False)
    # One re-read, one batched write; then a note on each invoice per event, one History PUT each.
    assert pushed.counts.pushed == 3 + 6 and pushed.api_calls == 2 + 6
    clearing = books.tenant(tenant).account(code="095")
    for x in chosen:
        inv = books.get_invoice(tenant, x)
        assert (inv.status, inv.amount_due) == ("PAID", Decimal(0))
        [payment] = our_payments(world, x)
        assert (payment.amount, payment.account_id) == (due[x], clearing.id)
        assert "DD-77" in payment.reference

    with world.rt.transaction() as session:
        rows = list(session.scalars(select(Invoice).where(Invoice.external_id.in_(chosen))))
        record_payout(session, rows, on=TODAY, fee=Decimal("4.50"), reference="PO-9")
    world.sync(do_import=False)
    gross = sum(due.values())
    transfers = [t for t in books.tenant(tenant).bank_transfers.values() if "PO-9" in (t.reference or "")]
    assert len(transfers) == 1
    assert transfers[0].amount == gross - Decimal("4.50")
    assert (transfers[0].from_account_id, transfers[0].to_account_id) == (
        clearing.id,
        books.tenant(tenant).account(code="090").id,
    )
    fees = [
        t
        for t in books.tenant(tenant).bank_transactions.values()
        if t.type == "SPEND" and "PO-9" in (t.reference or "")
    ]
    assert len(fees) == 1 and fees[0].type == "SPEND" and fees[0].total == Decimal("4.50")
    assert fees[0].bank_account_id == clearing.id and fees[0].lines[0].account_code == "404"
    assert all(world.invoice(x).status == "settled" for x in chosen)
    # The ledger now shows them paid by our own payments: the next import sees no change.
    again = world.sync()
    assert (again.counts.changed, again.counts.conflicts) == (0, 0)


def test_an_expired_access_token_is_refreshed_and_the_rotated_token_saved(world):
    world.sync()
    with world.rt.sessions() as session:
        before = session.get(Connection, world.connection_id("nz")).token_ciphertext
    world.xero.expire_access_tokens()
    result = world.sync()
    assert result.state == "succeeded"
    with world.rt.sessions() as session:
        after = session.get(Connection, world.connection_id("nz")).token_ciphertext
    assert after != before


def test_invalid_grant_needs_reconnect_and_the_others_go_on(world):
    from jobs.tasks import sync_all

    save_token(
        world.rt,
        world.connection_id("nz"),
        {
            "access_token": "dead",
            "refresh_token": "revoked-long-ago",
            "expires_in": 1800,
            "expires_at": 1,
            "scope": "offline_access accounting.transactions",
            "token_type": "Bearer",
        },
    )
    results = {r.connection: r for r in sync_all(world.rt, make_ledger=world.ledger)}
    assert results["nz"].state == "failed" and "reconnect" in results["nz"].error
    assert results["us"].state == "succeeded" and results["us"].counts.placed > 0
    with world.rt.sessions() as session:
        nz = session.get(Connection, world.connection_id("nz"))
        assert (nz.state, "invalid_grant" in nz.state_reason) == ("needs_reconnect", True)
    skipped = sync_all(world.rt, connection="nz", make_ledger=world.ledger)
    assert skipped[0].state == "skipped"


def test_post_at_submitted_deletes_the_payment_when_the_collection_fails(xero, db_url, monkeypatch):
    world = make_world(xero, db_url, monkeypatch, post_payment_at="submitted")
    try:
        world.sync()
        [x] = open_invoices(world, 1)
        due = xero.ledger.get_invoice(world.tenant(), x).amount_due
        platform(world, [x], CollectionStarted(occurred_on=TODAY))
        world.sync(do_import=False)
        assert xero.ledger.get_invoice(world.tenant(), x).status == "PAID"
        platform(world, [x], CollectionFailed(occurred_on=TODAY, detail="refer to payer"))
        world.sync(do_import=False)
        inv = xero.ledger.get_invoice(world.tenant(), x)
        assert (inv.status, inv.amount_due) == ("AUTHORISED", due)
        assert our_payments(world, x) == []
        assert world.invoice(x).status == "scheduled"
        # and the import that follows sees the ledger agree: no conflict
        assert world.sync().counts.conflicts == 0
    finally:
        world.rt.close()


def test_each_connection_refreshes_through_its_own_token_holder(world):
    """xero-python's Configuration is a copy-of-the-first singleton; each adapter must still be its own."""
    with world.rt.sessions() as session:
        rows = [session.get(Connection, world.connection_id(n)) for n in ("nz", "us")]
    nz, us = (world.ledger(world.rt, row) for row in rows)
    assert nz.api_client.configuration.oauth2_token is not us.api_client.configuration.oauth2_token
    world.xero.expire_access_tokens()
    assert world.sync("nz").state == "succeeded"
    assert world.sync("us").state == "succeeded"


def test_on_demand_requests_go_outstanding_overdue_paid_and_reach_the_ledger(xero, db_url, monkeypatch):
    from connector.domain import DueDatePassed, PaymentReceived

    world = make_world(xero, db_url, monkeypatch, collection_mode="on_demand")
    try:
        world.sync()
        rows = world.invoices()
        assert {r.status for r in rows} <= {"outstanding", "draft", "paid", "voided"}
        assert any(r.status == "outstanding" for r in rows)
        [x] = open_invoices(world, 1)
        assert world.invoice(x).status == "outstanding" and world.invoice(x).collection_date is None
        platform(world, [x], DueDatePassed(occurred_on=TODAY), PaymentReceived(occurred_on=TODAY, reference="card"))
        assert (world.invoice(x).status, world.invoice(x).paid_via) == ("paid", "platform")
        world.sync(do_import=False)
        assert xero.ledger.get_invoice(world.tenant(), x).status == "PAID"
        assert len(our_payments(world, x)) == 1
    finally:
        world.rt.close()
