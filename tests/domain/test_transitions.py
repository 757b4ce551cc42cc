"""The transition table, cell by cell, against an expectation written out independently of it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from connector.domain import (
    CollectionMode,
    CollectionPolicy,
    Conflict,
    InvoiceState,
    InvoiceStatus,
    LedgerStatus,
    LedgerWrite,
    Money,
    NoChange,
    PaidVia,
    PostPaymentAt,
    Refused,
    RetryPolicy,
    Transition,
    apply,
    place_new,
)
from connector.domain import events as ev
from connector.domain.transitions import TABLE, manual_event

TODAY = date(2026, 3, 10)
S = InvoiceStatus

# Rows: events. Columns: draft scheduled submitted outstanding overdue paid settled voided duplicate.
# A status name = the invoice moves there; "=" stays (data applied or nothing new); "~" nothing to do
# (a repeat); "C" conflict for support; "-" refused; "x" removed; "P" placed (scheduled in auto_collect).
# fmt: off
COLUMNS = (S.DRAFT, S.SCHEDULED, S.SUBMITTED, S.OUTSTANDING, S.OVERDUE, S.PAID, S.SETTLED, S.VOIDED, S.DUPLICATE)
EXPECTED = {
    "ledger_approved":        "P         ~         ~         ~           ~       ~    ~       ~      =",
    "ledger_amount_changed":  "=         =         C         =           =       C    C       C      =",
    "ledger_paid_externally": "paid      paid      C         paid        paid    ~    ~       C      =",
    "ledger_voided":          "voided    voided    C         voided      voided  C    C       ~      =",
    "ledger_payment_missing": "~         ~         C         ~           ~       C    C       ~      ~",
    "approve":                "scheduled ~         -         -           -       -    -       -      -",
    "collection_started":     "-         submitted ~         -           -       -    -       -      -",
    "collection_failed":      "-         -         scheduled -           -       -    -       -      -",
    "collection_confirmed":   "-         -         paid      -           -       -    -       -      -",
    "request_sent":           "outstanding -       -         ~           ~       -    -       -      -",
    "due_date_passed":        "-         -         -         overdue     ~       -    -       -      -",
    "payment_received":       "-         -         -         paid        paid    -    -       -      -",
    "external_payment":       "paid      paid      C         paid        paid    ~    ~       C      =",
    "payout":                 "-         -         -         -           -       settled ~    -      -",
    "reschedule":             "-         =         -         -           -       -    -       -      -",
    "void":                   "voided    voided    -         voided      voided  -    -       ~      voided",
    "delete":                 "x         -         -         -           -       -    -       -      -",
    "mark_original":          "-         -         -         -           -       -    -       -      P",
}
# fmt: on


def make_event(kind: type[ev.Event]) -> ev.Event:
    """An instance of each event, with data that differs from the test state so 'same' shows."""
    extra: dict[str, object] = {}
    if kind is ev.LedgerAmountChanged:
        extra = {"amount_due": Money.of("80.00", "GBP"), "due_date": TODAY + timedelta(days=9)}
    if kind is ev.Reschedule:
        extra = {"collection_date": TODAY + timedelta(days=20)}
    return kind(occurred_on=TODAY, **extra)


def state_in(status: InvoiceStatus) -> InvoiceState:
    mode = CollectionMode.ON_DEMAND if status in (S.OUTSTANDING, S.OVERDUE) else CollectionMode.AUTO_COLLECT
    paid_via = PaidVia.PLATFORM if status in (S.PAID, S.SETTLED) else None
    return InvoiceState(
        status=status,
        mode=mode,
        amount_due=Money.of("100.00", "GBP"),
        due_date=TODAY + timedelta(days=5),
        collection_date=TODAY + timedelta(days=5) if status is S.SCHEDULED else None,
        paid_via=paid_via,
        ledger_status=LedgerStatus.DRAFT if status is S.DRAFT else LedgerStatus.OPEN,
        paid_amount=Money.of("100.00", "GBP") if paid_via else None,
    )


EVENTS = {k.kind: k for k in ev.ALL_EVENTS}
CELLS = [
    (kind, status, cell) for kind, row in EXPECTED.items() for status, cell in zip(COLUMNS, row.split(), strict=True)
]


def test_expectation_covers_every_event_and_the_table_has_no_other():
    assert set(EXPECTED) == set(EVENTS) == set(TABLE)
    assert len(CELLS) == len(ev.ALL_EVENTS) * len(InvoiceStatus)


@pytest.mark.parametrize(("kind", "status", "cell"), CELLS, ids=[f"{k}-{s}" for k, s, _ in CELLS])
def test_every_status_and_event(kind: str, status: InvoiceStatus, cell: str):
    state = state_in(status)
    outcome = apply(state, make_event(EVENTS[kind]))
    match cell:
        case "-":
            assert isinstance(outcome, Refused), outcome
            assert outcome.reason
        case "C":
            assert isinstance(outcome, Conflict), outcome
            assert outcome.reason
        case "~":
            assert isinstance(outcome, NoChange), outcome
        case "=":
            assert isinstance(outcome, Transition | NoChange), outcome
            if isinstance(outcome, Transition):
                assert outcome.after is not None and outcome.after.status is status
        case "x":
            assert isinstance(outcome, Transition) and outcome.after is None
        case "P":
            assert isinstance(outcome, Transition) and outcome.after is not None
            assert outcome.after.status is S.SCHEDULED  # the state is auto_collect, ledger open
        case _:
            assert isinstance(outcome, Transition), outcome
            assert outcome.after is not None and outcome.after.status is S(cell)


def test_settled_only_after_a_platform_payment():
    externally_paid = state_in(S.PAID).but(paid_via=PaidVia.EXTERNAL, paid_amount=None)
    outcome = apply(externally_paid, ev.PayoutSent(occurred_on=TODAY))
    assert isinstance(outcome, Refused)
    assert "platform payment" in outcome.reason


def test_placement_of_imported_invoices():
    policy = CollectionPolicy(lead_days=3)
    due = TODAY + timedelta(days=10)
    amount = Money.of("10.00", "NZD")

    def place(ledger: LedgerStatus, mode=CollectionMode.AUTO_COLLECT, due_date=due, **kw):
        return place_new(
            ledger_status=ledger,
            mode=mode,
            amount_due=amount,
            due_date=due_date,
            today=TODAY,
            policy=policy,
            **kw,
        )

    assert place(LedgerStatus.OPEN).status is S.SCHEDULED
    assert place(LedgerStatus.OPEN).collection_date == due
    # Already due: collected lead_days from today, never in the past.
    assert place(LedgerStatus.OPEN, due_date=TODAY - timedelta(days=30)).collection_date == TODAY + timedelta(3)
    assert place(LedgerStatus.OPEN, due_date=None).collection_date == TODAY + timedelta(days=3)
    assert place(LedgerStatus.OPEN, mode=CollectionMode.ON_DEMAND).status is S.OUTSTANDING
    assert place(LedgerStatus.DRAFT).status is S.DRAFT
    paid = place(LedgerStatus.PAID)
    assert (paid.status, paid.paid_via) == (S.PAID, PaidVia.EXTERNAL)
    assert place(LedgerStatus.VOIDED).status is S.VOIDED
    assert place(LedgerStatus.OPEN, duplicate=True).status is S.DUPLICATE


def test_mark_original_places_by_what_the_ledger_says():
    dup = state_in(S.DUPLICATE)
    for ledger, expected in [
        (LedgerStatus.OPEN, S.SCHEDULED),
        (LedgerStatus.DRAFT, S.DRAFT),
        (LedgerStatus.PAID, S.PAID),
        (LedgerStatus.VOIDED, S.VOIDED),
    ]:
        outcome = apply(dup.but(ledger_status=ledger), ev.MarkOriginal(occurred_on=TODAY))
        assert isinstance(outcome, Transition) and outcome.after is not None
        assert outcome.after.status is expected
    # A duplicate learns what the ledger says while it waits, and is placed accordingly.
    later = apply(dup, ev.LedgerVoided(occurred_on=TODAY))
    assert isinstance(later, Transition) and later.after is not None and later.after.status is S.DUPLICATE
    placed = apply(later.after, ev.MarkOriginal(occurred_on=TODAY))
    assert isinstance(placed, Transition) and placed.after is not None and placed.after.status is S.VOIDED


def test_scheduled_amount_and_due_date_follow_the_ledger():
    state = state_in(S.SCHEDULED)
    new_due = TODAY + timedelta(days=30)
    outcome = apply(
        state, ev.LedgerAmountChanged(occurred_on=TODAY, amount_due=Money.of("60", "GBP"), due_date=new_due)
    )
    assert isinstance(outcome, Transition) and outcome.after is not None
    assert outcome.after.amount_due == Money.of("60", "GBP")
    assert outcome.after.collection_date == new_due
    assert "amount due" in outcome.note


class TestRetries:
    policy = CollectionPolicy(retry=RetryPolicy(max_attempts=3, intervals=(timedelta(days=2), timedelta(days=4))))

    def fail_once(self, state: InvoiceState, on: date) -> InvoiceState:
        started = apply(state, ev.CollectionStarted(occurred_on=on), self.policy)
        assert isinstance(started, Transition) and started.after is not None
        failed = apply(started.after, ev.CollectionFailed(occurred_on=on), self.policy)
        assert isinstance(failed, Transition) and failed.after is not None
        return failed.after

    def test_failed_collection_returns_to_scheduled_with_the_next_date(self):
        state = self.fail_once(state_in(S.SCHEDULED), TODAY)
        assert (state.status, state.attempts, state.collection_date) == (S.SCHEDULED, 1, TODAY + timedelta(2))
        state = self.fail_once(state, TODAY + timedelta(days=2))
        assert (state.attempts, state.collection_date) == (2, TODAY + timedelta(days=6))
        assert not state.needs_attention

    def test_after_the_last_attempt_it_stays_scheduled_and_needs_attention(self):
        state = state_in(S.SCHEDULED)
        for _ in range(3):
            state = self.fail_once(state, TODAY)
        assert (state.status, state.attempts, state.collection_date) == (S.SCHEDULED, 3, None)
        assert state.needs_attention
        rescheduled = apply(state, ev.Reschedule(occurred_on=TODAY, collection_date=TODAY + timedelta(1)))
        assert isinstance(rescheduled, Transition) and rescheduled.after is not None
        assert not rescheduled.after.needs_attention
        assert rescheduled.after.collection_date == TODAY + timedelta(days=1)


class TestLedgerWrites:
    def run(self, state: InvoiceState, *events: ev.Event, policy: CollectionPolicy | None = None):
        writes = []
        for event in events:
            outcome = apply(state, event, policy)
            assert isinstance(outcome, Transition) and outcome.after is not None, outcome
            writes.append(outcome.ledger_write)
            state = outcome.after
        return state, writes

    def test_by_default_the_payment_is_posted_when_paid(self):
        state, writes = self.run(
            state_in(S.SCHEDULED),
            ev.CollectionStarted(occurred_on=TODAY),
            ev.CollectionConfirmed(occurred_on=TODAY),
            ev.PayoutSent(occurred_on=TODAY),
        )
        assert writes == [None, LedgerWrite.PAYMENT, LedgerWrite.PAYOUT]
        assert state.paid_amount == Money.of("100.00", "GBP")
        assert state.amount_due.is_zero

    def test_posted_at_submitted_and_deleted_when_the_collection_fails(self):
        policy = CollectionPolicy(post_payment_at=PostPaymentAt.SUBMITTED)
        _, writes = self.run(
            state_in(S.SCHEDULED),
            ev.CollectionStarted(occurred_on=TODAY),
            ev.CollectionFailed(occurred_on=TODAY),
            ev.CollectionStarted(occurred_on=TODAY),
            ev.CollectionConfirmed(occurred_on=TODAY),
            policy=policy,
        )
        assert writes == [LedgerWrite.PAYMENT, LedgerWrite.DELETE_PAYMENT, LedgerWrite.PAYMENT, None]

    def test_payment_request_paid_posts_a_payment(self):
        _, writes = self.run(
            state_in(S.DRAFT),
            ev.PaymentRequestSent(occurred_on=TODAY),
            ev.DueDatePassed(occurred_on=TODAY),
            ev.PaymentReceived(occurred_on=TODAY),
        )
        assert writes == [None, None, LedgerWrite.PAYMENT]

    def test_external_payment_writes_nothing(self):
        _, writes = self.run(state_in(S.SCHEDULED), ev.LedgerPaidExternally(occurred_on=TODAY))
        assert writes == [None]


def test_a_collection_for_another_amount_is_recorded_and_flagged_never_refused():
    """Money the bank took is the ledger's business whatever the amount: refusing it loses it."""
    submitted = state_in(S.SUBMITTED)
    outcome = apply(submitted, ev.CollectionConfirmed(occurred_on=TODAY, amount=Money.of("40", "GBP")))
    assert isinstance(outcome, Transition) and outcome.ledger_write is LedgerWrite.PAYMENT
    assert outcome.after.status is S.PAID and outcome.after.paid_amount == Money.of("40", "GBP")
    assert outcome.after.needs_attention and "collected 40.00 GBP" in outcome.note


def test_the_exact_amount_needs_no_attention():
    outcome = apply(state_in(S.SUBMITTED), ev.CollectionConfirmed(occurred_on=TODAY))
    assert isinstance(outcome, Transition) and not outcome.after.needs_attention
    assert outcome.after.paid_amount == state_in(S.SUBMITTED).amount_due


def test_collection_is_refused_once_every_attempt_is_used_and_a_person_re_enables_it():
    policy = CollectionPolicy(retry=RetryPolicy(max_attempts=2))
    state = state_in(S.SCHEDULED).but(attempts=2, collection_date=None, needs_attention=True)
    refused = apply(state, ev.CollectionStarted(occurred_on=TODAY), policy)
    assert isinstance(refused, Refused) and "re-enable" in refused.reason
    reenabled = apply(state, ev.Reschedule(occurred_on=TODAY), policy)
    assert isinstance(reenabled, Transition) and reenabled.after.attempts == 0
    assert not reenabled.after.needs_attention and reenabled.after.collection_date is not None
    assert isinstance(apply(reenabled.after, ev.CollectionStarted(occurred_on=TODAY), policy), Transition)


def test_a_currency_the_connection_cannot_post_is_never_collected():
    policy = CollectionPolicy(currency="NZD")
    refused = apply(state_in(S.SCHEDULED), ev.CollectionStarted(occurred_on=TODAY), policy)
    assert isinstance(refused, Refused) and "GBP" in refused.reason and "NZD" in refused.reason
    placed = place_new(
        ledger_status=LedgerStatus.OPEN,
        mode=CollectionMode.AUTO_COLLECT,
        amount_due=Money.of("10", "GBP"),
        due_date=None,
        today=TODAY,
        policy=policy,
    )
    assert placed.status is S.SCHEDULED and placed.collection_date is None and placed.needs_attention


class TestManualChanges:
    def test_a_person_may_take_any_step_a_platform_event_takes(self):
        event = manual_event(state_in(S.SCHEDULED), S.VOIDED, TODAY, "customer left", CollectionPolicy())
        assert isinstance(event, ev.Void)
        event = manual_event(state_in(S.SUBMITTED), S.SCHEDULED, TODAY, "bank said no", CollectionPolicy())
        assert isinstance(event, ev.CollectionFailed)

    def test_an_illegal_step_is_refused_with_the_allowed_ones(self):
        refused = manual_event(state_in(S.SCHEDULED), S.SETTLED, TODAY, "why not", CollectionPolicy())
        assert isinstance(refused, Refused)
        assert "scheduled to settled" in refused.reason and "submitted" in refused.reason
        assert isinstance(manual_event(state_in(S.SETTLED), S.DRAFT, TODAY, "x", CollectionPolicy()), Refused)


def test_an_on_demand_invoice_in_another_currency_is_flagged_and_its_payment_refused():
    policy = CollectionPolicy(currency="NZD")
    placed = place_new(
        ledger_status=LedgerStatus.OPEN,
        mode=CollectionMode.ON_DEMAND,
        amount_due=Money.of("10", "GBP"),
        due_date=None,
        today=TODAY,
        policy=policy,
    )
    assert placed.status is S.OUTSTANDING and placed.needs_attention
    refused = apply(placed, ev.PaymentReceived(occurred_on=TODAY), policy)
    assert isinstance(refused, Refused) and "GBP" in refused.reason
