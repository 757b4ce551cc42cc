"""Scenarios 1 and 3: the ledger changes while a direct debit is in flight, then the bank confirms.

Every cent collected must reach the ledger exactly once: a payment for what is still due and the
rest as the customer's credit in clearing, a lasting refund due on the invoice, and clearing back
to zero once the payout is posted.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.books import attention, audit_clearing

CHANGES = ["lowered_by_credit_note", "part_paid_elsewhere", "paid_elsewhere", "voided"]


def change(book, ext: str, kind: str, due: Decimal) -> Decimal:
    """Make the change in the ledger; returns what the ledger then shows due."""
    if kind == "lowered_by_credit_note":
        book.credit(ext, Decimal("20.00"))
        return due - Decimal("20.00")
    if kind == "part_paid_elsewhere":
        book.pay_elsewhere(ext, Decimal("30.00"))
        return due - Decimal("30.00")
    if kind == "paid_elsewhere":
        book.pay_elsewhere(ext, due)
        return Decimal(0)
    book.void(ext)
    return Decimal(0)


@pytest.mark.parametrize("kind", CHANGES)
def test_every_cent_collected_is_recorded_once_and_the_excess_is_a_refund_due(book, kind):
    book.sync()
    before = book.clearing_balance()
    [ext] = book.open_invoices(1)
    due = book.amount_due(ext)
    assert book.platform("collection_started", ext).to_status == "submitted"

    now_due = change(book, ext, kind, due)
    book.sync()  # the daemon imports: a conflict, and the invoice is flagged at once
    flagged, _, why = attention(book, ext)
    assert flagged and why, "a conflict always flags the invoice"

    confirmed = book.platform("collection_confirmed", ext, amount=str(due), reference="DD-1")
    assert confirmed.outcome == "transition" and confirmed.to_status == "paid"
    book.sync()  # import, then push: the payment and the customer's credit

    excess = due - now_due
    assert book.applied_by_us(ext) == now_due
    assert book.unapplied_by_us(ext) == excess
    assert book.collected_in_ledger(ext) == due  # every cent, exactly once
    flagged, refund, why = attention(book, ext)
    assert flagged and refund == excess and "refund due" in why
    audit_clearing(book, before, in_transit=due)

    book.sync()  # a later sync changes nothing and posts nothing again
    assert book.collected_in_ledger(ext) == due

    result = book.payout([ext], fee="2.50", reference="PO-ACC-1")
    assert result.accepted
    book.sync()
    audit_clearing(book, before)  # the payout nets clearing to zero
    row = book.row(ext)
    assert row.status == "settled" and row.refund_due == excess  # the refund stays due until a person acts
