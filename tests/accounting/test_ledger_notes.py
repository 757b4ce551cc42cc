"""Scenario 12: the accountant reads in the ledger why an invoice moved. A note goes on the invoice
(Xero: History and notes; QuickBooks: the private note, appended) when a collection starts, when it
is confirmed and when the money is paid out: exactly once, after the money, never in its way, and
not at all when the connection has notes switched off. Every note is read back through the API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from connector.actions import Actor
from connector.actions import outbox as outbox_actions
from tests.books import audit_clearing

OFF = {"ledger_notes": False}


class Crash(BaseException):
    """Stands for the process dying right after the ledger accepted the note."""


def die(_ids: list[int]) -> None:
    raise Crash


def test_each_step_leaves_one_note_after_the_money(book):
    book.sync()
    before = book.clearing_balance()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext, reference="DD-41")
    book.sync()
    book.payout([ext], fee="1.00", reference="PO-N1")
    book.sync()
    notes = book.notes(ext)
    assert len(notes) == 3, notes
    started, confirmed, paid_out = notes
    assert started.startswith("Direct debit of") and "started by the payments platform" in started
    assert "confirmed" in confirmed and "DD-41" in confirmed
    assert "Paid out" in paid_out and "PO-N1" in paid_out
    assert all(len(n) <= 250 for n in notes)
    # Each carries its own entry's marker: that is what keeps it from being written twice.
    markers = [e.idempotency_key[:12] for e in book.entries(ext, "ledger_note")]
    assert [m in n for m, n in zip(markers, notes, strict=True)] == [True, True, True]
    assert [k for k, o, _ in book.timeline(ext) if o == "ledger_write"].count("ledger_note") == 3
    again = book.sync()
    assert again.counts.pushed == 0 and book.notes(ext) == notes  # said once
    assert book.row(ext).status == "settled"
    audit_clearing(book, before)  # a note moves no money


def test_the_payment_goes_first_and_a_failing_note_never_holds_it_up(book):
    book.sync()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext)
    broken = []

    def ledger_down_after_the_payment(_ids: list[int]) -> None:
        if not broken:  # the first send is the payment; from then on the ledger answers 500
            broken.append(True)
            book.world.faults.add("5xx=1.0")

    first = book.push_with(crash_after_send=ledger_down_after_the_payment)
    book.world.faults.clear()
    assert first.state == "succeeded"
    assert book.collected_in_ledger(ext) == book.row(ext).paid_amount  # the money is in
    assert [e.state for e in book.entries(ext, "payment")] == ["done"]
    assert {e.state for e in book.entries(ext, "ledger_note")} == {"pending"}  # retried later
    assert first.counts.retrying == 2
    assert book.notes(ext) == []
    book.backoff_passed()
    book.push_only()
    assert {e.state for e in book.entries(ext, "ledger_note")} == {"done"}
    assert len(book.notes(ext)) == 2
    assert len(book.our_payment_ids(ext)) == 1  # never a second payment


def test_a_note_written_just_before_a_crash_is_not_written_again(book):
    book.sync()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)  # a note, and no payment (posted when paid)
    with pytest.raises(Crash):
        book.push_with(crash_after_send=die)
    [entry] = book.entries(ext, "ledger_note")
    assert entry.state == "sending" and len(book.notes(ext)) == 1  # the ledger has it already
    book.world.forget_idempotency()  # past the ledger's idempotency window: only the marker tells
    rerun = book.push_with(lease=timedelta(0))
    assert rerun.counts.pushed == 1
    [entry] = book.entries(ext, "ledger_note")
    assert entry.state == "done" and len(book.notes(ext)) == 1
    assert "not added again" in book.timeline(ext)[-1][2]


@pytest.mark.parametrize("book", [("xero", OFF), ("quickbooks", OFF)], indirect=True)
def test_switched_off_there_is_no_note_and_no_call(book):
    book.sync()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext)
    pushed = book.push_only()
    assert pushed.counts.pushed == 1 and pushed.api_calls == 2  # the payment: one re-read, one write
    assert book.entries(ext, "ledger_note") == [] and book.notes(ext) == []


def test_notes_queued_before_they_were_switched_off_are_never_sent(book):
    from connector.store.models import Connection

    book.sync()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext)
    with book.rt.transaction() as session:
        for conn in session.query(Connection):
            conn.settings = {**conn.settings, "ledger_notes": False}
    pushed = book.push_only()
    assert pushed.counts.pushed == 1 and pushed.api_calls == 2  # the payment alone
    assert {e.state for e in book.entries(ext, "ledger_note")} == {"ignored"}
    assert book.notes(ext) == []


def test_quickbooks_keeps_the_accountants_memo_and_appends(quickbooks_book):
    book = quickbooks_book
    book.sync()
    [ext] = book.open_invoices(1)
    memo = "Customer asked for a monthly statement.\nCall before the 5th."
    book.write_private_note(ext, memo)
    book.sync()
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext)
    book.sync()
    note = book.private_note(ext)
    assert note.startswith(memo + "\n")  # nothing the accountant wrote is lost
    assert len(book.notes(ext)) == 2
    assert book.row(ext).status == "paid" and not book.row(ext).needs_attention
    book.sync()
    assert book.private_note(ext) == note


def test_quickbooks_private_note_full_refuses_the_note_not_the_payment(quickbooks_book):
    """QuickBooks keeps 4000 characters; with no room left the note is refused (the memo is kept),
    lands on the failed-push queue with why, and a person can ignore it there."""
    book = quickbooks_book
    book.sync()
    [ext] = book.open_invoices(1)
    memo = "x" * 3990
    book.write_private_note(ext, memo)
    book.sync()
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext)
    book.sync()
    assert book.collected_in_ledger(ext) == book.row(ext).paid_amount > Decimal(0)
    notes = book.entries(ext, "ledger_note")
    assert {e.state for e in notes} == {"rejected"}
    assert "no room" in notes[0].last_error and book.private_note(ext) == memo
    for entry in notes:
        outbox_actions.ignore_push(book.rt, entry.id, "memo is full; fine without", actor=Actor.person("ana"))
    assert {e.state for e in book.entries(ext, "ledger_note")} == {"ignored"}
    assert book.sync().counts.pushed == 0


def test_quickbooks_a_long_memo_cuts_our_note_not_the_memo(quickbooks_book):
    book = quickbooks_book
    book.sync()
    [ext] = book.open_invoices(1)
    memo = "y" * 3950  # 49 characters of room: ours is cut to fit
    book.write_private_note(ext, memo)
    book.sync()
    book.platform("collection_started", ext)
    book.sync()
    note = book.private_note(ext)
    assert note.startswith(memo + "\n") and len(note) == 4000
    [ours] = book.notes(ext)
    assert "…" in ours and ours.endswith(")")  # cut before the marker, which stays whole


def test_notes_wait_for_the_payout_they_follow(book):
    """A payout the ledger could not take yet holds its invoice's notes: the accountant never reads
    "paid out" before the transfer is there."""
    book.sync()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)
    book.platform("collection_confirmed", ext)
    book.payout([ext], fee="1.00", reference="PO-WAIT")
    down = []

    def ledger_down_after_the_payment(_ids: list[int]) -> None:
        if not down:
            down.append(True)
            book.world.faults.add("5xx=1.0")

    first = book.push_with(crash_after_send=ledger_down_after_the_payment)
    book.world.faults.clear()
    assert [e.state for e in book.entries(ext, "payment")] == ["done"]
    assert first.counts.held == 3 and book.notes(ext) == []  # the payout failed: its notes wait
    book.backoff_passed()
    book.push_only()
    assert book.world.payout_counts("PO-WAIT") == (1, 1)
    notes = book.notes(ext)
    assert len(notes) == 3 and "PO-WAIT" in notes[-1]
