"""The ledger diff: only what changed in the ledger becomes an event; our own payment is no change."""

from __future__ import annotations

from datetime import date

from connector.domain import CollectionMode, InvoiceState, InvoiceStatus, LedgerStatus, Money, PaidVia
from connector.domain import events as ev
from connector.domain.ledger_changes import LedgerSnapshot, ledger_events

ON = date(2026, 6, 1)
OPEN = LedgerSnapshot(LedgerStatus.OPEN, Money.of("100", "GBP"), date(2026, 6, 30))
SCHEDULED = InvoiceState(
    status=InvoiceStatus.SCHEDULED, mode=CollectionMode.AUTO_COLLECT, amount_due=Money.of("100", "GBP")
)


def kinds(events):
    return [type(e) for e in events]


def test_nothing_changed_nothing_happens():
    assert ledger_events(OPEN, OPEN, SCHEDULED, ON) == []


def test_partial_payment_elsewhere_or_credit_note_changes_the_amount():
    after = LedgerSnapshot(LedgerStatus.OPEN, Money.of("40", "GBP"), OPEN.due_date)
    events = ledger_events(OPEN, after, SCHEDULED, ON)
    assert kinds(events) == [ev.LedgerAmountChanged] and events[0].amount_due == Money.of("40", "GBP")


def test_paid_by_someone_else_versus_paid_by_us():
    paid = LedgerSnapshot(LedgerStatus.PAID, Money.of("0", "GBP"), OPEN.due_date)
    assert kinds(ledger_events(OPEN, paid, SCHEDULED, ON)) == [ev.LedgerPaidExternally]
    ours = SCHEDULED.but(status=InvoiceStatus.PAID, paid_via=PaidVia.PLATFORM, payment_posted=True)
    assert ledger_events(OPEN, paid, ours, ON) == []
    posted_at_submission = SCHEDULED.but(status=InvoiceStatus.SUBMITTED, payment_posted=True)
    assert ledger_events(OPEN, paid, posted_at_submission, ON) == []


def test_void_approval_and_reopening():
    void = LedgerSnapshot(LedgerStatus.VOIDED, Money.of("0", "GBP"), OPEN.due_date)
    assert kinds(ledger_events(OPEN, void, SCHEDULED, ON)) == [ev.LedgerVoided]
    assert ledger_events(void, void, SCHEDULED, ON) == []
    draft = LedgerSnapshot(LedgerStatus.DRAFT, OPEN.amount_due, OPEN.due_date)
    assert kinds(ledger_events(draft, OPEN, SCHEDULED, ON)) == [ev.LedgerApproved]
    paid = LedgerSnapshot(LedgerStatus.PAID, Money.of("0", "GBP"), OPEN.due_date)
    # A payment deleted in the ledger: the amount is due again (a conflict if the platform holds it paid).
    assert kinds(ledger_events(paid, OPEN, SCHEDULED, ON)) == [ev.LedgerAmountChanged]
