"""Changes a person makes in the ledger after the connector placed an invoice, followed end to end on
both ledgers (import → place → timeline): credit from a prepayment, an overpayment or a credit note
applied to the invoice; our payment deleted (the invoice reopens); the payout's transfer removed.

Each change is made in the sandbox's books as a person would make it in Xero or QuickBooks; the
connector only hears of it through the ledger's API, by its own import (or reconciliation)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.reconcile.conftest import kinds, reconcile


def placed(book) -> str:
    """An open invoice the connector has imported and placed for collection."""
    book.sync()
    [ext] = book.open_invoices(1)
    assert book.row(ext).status == "scheduled"
    return ext


def kinds_in(book, ext: str, outcome: str | None = None) -> list[str]:
    return [k for k, o, _ in book.timeline(ext) if outcome is None or o == outcome]


@pytest.mark.parametrize("credit", ["prepay", "overpay", "credit"])
def test_credit_applied_in_full_makes_the_invoice_paid_elsewhere(book, credit):
    ext = placed(book)
    due = book.amount_due(ext)
    getattr(book, credit)(ext, due)  # a prepayment, an overpayment or a credit note, allocated
    assert book.amount_due(ext) == 0
    book.sync()
    row = book.row(ext)
    assert (row.status, row.paid_via, row.ledger_status) == ("paid", "external", "paid")
    assert row.collection_date is None and not row.needs_attention  # nothing left to collect
    assert "ledger_paid_externally" in kinds_in(book, ext, "transition")
    assert book.platform("collection_started", ext).outcome == "refused"  # never collected twice
    book.sync()
    assert kinds_in(book, ext).count("ledger_paid_externally") == 1  # said once


@pytest.mark.parametrize("credit", ["prepay", "overpay", "credit"])
def test_credit_applied_in_part_lowers_what_is_collected(book, credit):
    ext = placed(book)
    due = book.amount_due(ext)
    part = (due / 4).quantize(Decimal("0.01"))
    getattr(book, credit)(ext, part)
    book.sync()
    row = book.row(ext)
    assert row.status == "scheduled" and row.amount_due == row.ledger_amount_due == due - part
    [(_, _, detail)] = [t for t in book.timeline(ext) if t[0] == "ledger_amount_changed"]
    assert str(due - part) in detail
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext)
    book.sync()
    assert book.applied_by_us(ext) == due - part and book.amount_due(ext) == 0
    assert not book.row(ext).needs_attention  # what was collected is exactly what was due


def test_our_payment_deleted_in_the_ledger_reopens_the_invoice_and_is_noticed(book):
    ext = placed(book)
    due = book.amount_due(ext)
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext)
    book.sync()
    [payment] = book.our_payment_ids(ext)
    assert book.amount_due(ext) == 0
    book.delete_payment(payment)
    assert book.amount_due(ext) == due  # the ledger wants the money again
    book.sync()
    row = book.row(ext)
    assert row.status == "paid" and row.paid_via == "platform"  # the platform did collect it
    assert row.needs_attention and "payment missing" in row.attention_reason
    assert "ledger_payment_missing" in kinds_in(book, ext, "conflict")
    assert row.ledger_amount_due == due
    book.sync()
    assert kinds_in(book, ext, "conflict").count("ledger_payment_missing") == 1  # said once
    assert book.our_payment_ids(ext) == []  # never reposted behind a person's back


def test_the_payout_transfer_removed_in_the_ledger_is_found_and_said(book):
    book.sync()
    exts = book.open_invoices(2)
    for ext in exts:
        book.platform("collection_started", ext)
        book.platform("collection_confirmed", ext)
    book.sync()
    book.payout(exts, fee="2.00", reference="PO-GONE")
    book.sync()
    assert "payout_transfer_missing" not in kinds(reconcile(book))
    gross = sum((book.row(x).paid_amount for x in exts), Decimal(0))
    book.delete_transfer("PO-GONE")
    book.sync()  # the import reads invoices, which did not change: nothing to say there
    assert all(book.row(x).status == "settled" for x in exts)
    result = reconcile(book)
    [missing] = [d for d in result.findings if d.kind == "payout_transfer_missing"]
    assert missing.amount == gross - Decimal("2.00")
    assert "PO-GONE" in missing.explanation or "PO-GONE" in (missing.subject or "")
    [left] = [d for d in result.findings if d.kind == "payout_not_netting"]
    assert left.amount == gross - Decimal("2.00")  # still in clearing: it never reached the bank
