"""Scenarios 8–10: a re-created invoice is a Duplicate while the original's debit is in flight;
retries used up need a person; after Settled, a lost payment or a credit is found."""

from __future__ import annotations

from decimal import Decimal

from connector.actions import Actor
from connector.actions import invoices as invoice_actions
from tests.books import attention


def test_an_invoice_voided_and_entered_again_during_a_debit_is_a_duplicate(book):
    book.sync()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)
    again = book.recreate(ext)
    book.sync()
    copy = book.row(again)
    assert copy.status == "duplicate" and copy.duplicate_of_id == book.row(ext).id
    assert book.platform("collection_started", again).outcome == "refused"  # never collected twice


def test_retries_used_up_need_a_person_and_the_money_lands_once(book):
    book.sync()
    [ext] = book.open_invoices(1)
    for _ in range(3):
        book.platform("collection_started", ext)
        book.platform("collection_failed", ext, reason="insufficient funds")
    assert book.platform("collection_started", ext).outcome == "refused"
    invoice_actions.reenable_collection(book.rt, book.ref(ext), "customer called", actor=Actor.person("ana"))
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext)
    book.sync()
    assert book.collected_in_ledger(ext) == book.row(ext).paid_amount


def settled(book) -> str:
    book.sync()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext)
    book.sync()
    book.payout([ext], fee="1.00", reference="PO-S")
    book.sync()
    assert book.row(ext).status == "settled"
    return ext


def test_our_payment_deleted_after_settled_is_payment_missing(book):
    ext = settled(book)
    [payment] = book.our_payment_ids(ext)
    book.delete_payment(payment)
    book.sync()
    flagged, refund, why = attention(book, ext)
    assert flagged and "payment missing" in why and refund is None  # the ledger wants the money again
    book.sync()
    assert book.row(ext).attention_reason.count("payment missing") == 1  # said once


def test_a_credit_after_our_payment_was_removed_makes_a_refund_due(book):
    ext = settled(book)
    collected = book.row(ext).paid_amount
    [payment] = book.our_payment_ids(ext)
    book.delete_payment(payment)
    book.credit(ext, book.amount_due(ext))  # both in one go, no import in between
    book.sync()
    flagged, refund, why = attention(book, ext)
    assert flagged and refund == collected and "refund due" in why
    assert book.amount_due(ext) == Decimal(0)
