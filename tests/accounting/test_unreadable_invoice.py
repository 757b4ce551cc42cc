"""Money collected for an invoice the ledger still has, but that cannot be read right now (a record
the validator refuses), is never refused as "gone": the payment waits, flagged, and lands once the
record reads again."""

from __future__ import annotations

from sqlalchemy import select

from connector.store.models import OutboxEntry


def test_a_payment_for_an_unreadable_invoice_waits_and_lands_once_readable(xero_book):
    book = xero_book
    book.sync()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext)
    invoice = book.books.tenant(book.tenant).invoices[ext.lower()]
    number = invoice.number
    invoice.number = "X" * 300  # longer than any invoice number the store keeps: unreadable
    book.push_only()
    with book.rt.sessions() as session:
        [entry] = session.scalars(select(OutboxEntry).where(OutboxEntry.kind == "payment")).all()
        assert entry.state == "pending" and "unreadable" in entry.last_error
    row = book.row(ext)
    assert row.needs_attention and "payment not posted yet" in row.attention_reason
    assert book.world.our_payment_count(ext) == 0  # read in the sandbox: the API cannot read this invoice
    invoice.number = number
    book.backoff_passed()
    book.push_only()
    assert book.collected_in_ledger(ext) == book.row(ext).paid_amount
