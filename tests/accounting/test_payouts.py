"""Scenario 4: a payout waits for the payments it settles, a fee above the collections is covered
from the bank, and clearing nets to zero after every payout (read through the ledger's API)."""

from __future__ import annotations

from tests.books import audit_clearing


def paid(book, exts: list[str]) -> None:
    for ext in exts:
        book.platform("collection_started", ext)
        book.platform("collection_confirmed", ext)


def test_a_payout_is_held_until_its_payments_are_in_the_ledger(book):
    book.sync()
    before = book.clearing_balance()
    exts = book.open_invoices(2)
    paid(book, exts)
    book.payout(exts, fee="3.00", reference="PO-HELD")
    book.world.faults.add("5xx=1.0")  # the ledger is down for this push
    held = book.push_only()
    book.world.faults.clear()
    assert held.counts.pushed == 0
    audit_clearing(book, before)  # nothing moved: no transfer out of money that never came in
    book.backoff_passed()
    book.sync()
    book.backoff_passed()
    book.sync()  # the payments first, then the payout they release
    collected = sum(book.row(x).paid_amount for x in exts)
    assert all(book.collected_in_ledger(x) == book.row(x).paid_amount for x in exts)
    assert all(book.row(x).status == "settled" for x in exts)
    audit_clearing(book, before)
    assert collected > 0


def test_a_fee_larger_than_the_collections_moves_the_shortfall_from_the_bank(book):
    book.sync()
    before = book.clearing_balance()
    [ext] = book.open_invoices(1)
    paid(book, [ext])
    collected = book.row(ext).paid_amount
    fee = collected + 5
    result = book.payout([ext], fee=str(fee), reference="PO-NEG")
    assert result.accepted and result.notes  # said plainly: bank → clearing
    book.sync()
    book.sync()
    assert book.collected_in_ledger(ext) == collected
    audit_clearing(book, before)
