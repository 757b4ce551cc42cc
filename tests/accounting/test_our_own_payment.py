"""Scenario 2: with payments posted at submission, a failed collection's payment is ours, never an
external one, in either order of jobs; a delete the ledger refuses flags the invoice, never Paid."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.books import attention

SUBMITTED = {"post_payment_at": "submitted"}


def start_and_fail(book) -> str:
    book.sync()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)
    book.push_only()  # the payment goes to the ledger at submission
    assert len(book.our_payment_ids(ext)) == 1
    book.platform("collection_failed", ext, reason="insufficient funds")
    return ext


@pytest.mark.parametrize("order", ["daemon: import then push", "push then import"])
@pytest.mark.parametrize("book", [("xero", SUBMITTED), ("quickbooks", SUBMITTED)], indirect=True)
def test_a_failed_collection_never_looks_paid(book, order):
    ext = start_and_fail(book)
    if order.startswith("daemon"):
        book.sync()
    else:
        book.push_only()
        book.sync()
    row = book.row(ext)
    assert (row.status, row.paid_via) == ("scheduled", None), "our own payment was taken for an external one"
    assert book.our_payment_ids(ext) == []  # deleted in the ledger
    assert book.amount_due(ext) == row.amount_due > 0
    book.sync()
    assert book.row(ext).status == "scheduled"


@pytest.mark.parametrize("book", [("xero", SUBMITTED)], indirect=True)
def test_a_delete_the_ledger_refuses_flags_the_invoice_and_it_never_shows_paid(book):
    book.sync()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)
    book.push_only()
    [payment] = book.our_payment_ids(ext)
    book.reconcile_payment(payment)  # the accountant matched it to a bank statement line
    book.platform("collection_failed", ext, reason="insufficient funds")
    book.sync()
    book.sync()
    row = book.row(ext)
    assert row.status == "scheduled" and row.paid_via is None
    flagged, _, why = attention(book, ext)
    assert flagged and "refused to delete our payment" in why and "reconciled" in why
    assert book.our_payment_ids(ext) == [payment]  # still in the ledger: a person decides
    assert book.amount_due(ext) == Decimal(0)
