"""Random event sequences (hypothesis): the table's promises hold whatever order things happen in."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.domain import (
    CollectionMode,
    CollectionPolicy,
    InvoiceStatus,
    LedgerStatus,
    Money,
    PaidVia,
    PostPaymentAt,
    RetryPolicy,
    Transition,
    apply,
    place_new,
)
from connector.domain import events as ev
from connector.domain.transitions import TABLE

START = date(2026, 1, 5)
S = InvoiceStatus


@st.composite
def events(draw: st.DrawFn) -> ev.Event:
    kind = draw(st.sampled_from(ev.ALL_EVENTS))
    on = START + timedelta(days=draw(st.integers(0, 90)))
    if kind is ev.LedgerAmountChanged:
        amount = Money.of(draw(st.decimals("0.01", "5000", places=2)), "EUR")
        return kind(occurred_on=on, amount_due=amount, due_date=on + timedelta(days=draw(st.integers(-5, 40))))
    if kind is ev.Reschedule:
        return kind(occurred_on=on, collection_date=draw(st.none() | st.just(on + timedelta(days=3))))
    return kind(occurred_on=on)


policies = st.builds(
    CollectionPolicy,
    retry=st.builds(RetryPolicy, max_attempts=st.integers(1, 4), intervals=st.just((timedelta(days=3),))),
    post_payment_at=st.sampled_from(PostPaymentAt),
    lead_days=st.integers(0, 5),
)


@settings(max_examples=400, deadline=None)
@given(
    ledger=st.sampled_from(LedgerStatus),
    mode=st.sampled_from(CollectionMode),
    duplicate=st.booleans(),
    policy=policies,
    sequence=st.lists(events(), max_size=25),
)
def test_random_sequences_keep_every_promise(ledger, mode, duplicate, policy, sequence):
    state = place_new(
        ledger_status=ledger,
        mode=mode,
        amount_due=Money.of("120.00", "EUR"),
        due_date=START + timedelta(days=14),
        today=START,
        policy=policy,
        duplicate=duplicate,
    )
    was_externally_paid = state.paid_via is PaidVia.EXTERNAL
    posted = 0  # payments posted minus payments deleted: never more than one live payment
    for event in sequence:
        before = state
        outcome = apply(state, event, policy)
        rule = TABLE[event.kind].get(before.status)
        if not isinstance(outcome, Transition):
            assert outcome.state == before  # refused / conflict / nothing: no change at all
            continue
        # Only a cell of the table that allows a move can produce a transition.
        assert rule is not None and rule.action in ("go", "place", "same")
        if outcome.after is None:
            assert before.status is S.DRAFT and isinstance(event, ev.Delete)
            break
        state = outcome.after
        assert state.status in S
        if before.paid_via is PaidVia.EXTERNAL:
            was_externally_paid = True
        # Never settle an externally paid invoice.
        if state.status is S.SETTLED:
            assert state.paid_via is PaidVia.PLATFORM
            assert before.paid_via is PaidVia.PLATFORM
        if outcome.ledger_write is not None and outcome.ledger_write.value == "payment":
            posted += 1
        if outcome.ledger_write is not None and outcome.ledger_write.value == "delete_payment":
            posted -= 1
        assert posted in (0, 1)
        # Final statuses stay final.
        assert before.status not in (S.SETTLED, S.VOIDED) or state.status is before.status
        # Retries never exceed the policy; needs-attention only when none is left.
        assert state.attempts <= policy.retry.max_attempts
        if state.needs_attention:
            assert state.status is S.SCHEDULED and state.collection_date is None
        if state.status is S.SCHEDULED and not state.needs_attention:
            assert state.collection_date is not None
    if was_externally_paid:
        assert state.status is not S.SETTLED
