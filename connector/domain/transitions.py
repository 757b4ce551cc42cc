"""The transition table of docs/architecture.md, as data, and the one function that applies it.

Reading the table: ``TABLE[event kind][status]`` is a :class:`Rule`; a status absent from
an event's row is refused. Rules name a target status, ``PLACE`` (scheduled or outstanding
according to the collection mode, or the ledger's own state for a duplicate marked original),
``SAME`` (the status stays, the event's data is applied), ``NOTHING`` (already so: a repeat),
a conflict for support, or a refusal with its reason. Guards that depend on more than the
status (settle only a platform payment) live in :func:`apply`, each with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from connector.domain import events as ev
from connector.domain.invoice import InvoiceState, LedgerStatus
from connector.domain.money import Money
from connector.domain.policy import CollectionPolicy, PostPaymentAt
from connector.domain.statuses import EDITABLE, CollectionMode, InvoiceStatus, PaidVia

S = InvoiceStatus


class LedgerWrite(StrEnum):
    """What the ledger must hear because of a transition (an outbox entry of this kind)."""

    PAYMENT = "payment"
    DELETE_PAYMENT = "delete_payment"
    PAYOUT = "payout"


# --- the rule vocabulary -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    action: str  # "go" | "place" | "same" | "nothing" | "conflict" | "refuse"
    target: InvoiceStatus | None = None
    reason: str = ""


def go(target: InvoiceStatus) -> Rule:
    return Rule("go", target)


PLACE = Rule("place")
SAME = Rule("same")


def nothing(reason: str) -> Rule:
    return Rule("nothing", reason=reason)


def conflict(reason: str) -> Rule:
    return Rule("conflict", reason=reason)


def refuse(reason: str) -> Rule:
    return Rule("refuse", reason=reason)


def _each(statuses: frozenset[InvoiceStatus] | set[InvoiceStatus], rule: Rule) -> dict[InvoiceStatus, Rule]:
    return dict.fromkeys(statuses, rule)


_IN_FLIGHT = "a direct debit is in flight with the customer's bank"
_DOUBLE = "the ledger shows it paid while a direct debit is in flight: risk of double collection"

TABLE: dict[str, dict[InvoiceStatus, Rule]] = {
    # ledger side
    ev.LedgerApproved.kind: {
        S.DRAFT: PLACE,
        **_each(
            {S.SCHEDULED, S.SUBMITTED, S.OUTSTANDING, S.OVERDUE, S.PAID, S.SETTLED, S.VOIDED},
            nothing("already past draft: approval is one-way"),
        ),
        S.DUPLICATE: SAME,
    },
    ev.LedgerAmountChanged.kind: {
        **_each(EDITABLE, SAME),
        S.SUBMITTED: conflict(f"the ledger changed the amount or due date while {_IN_FLIGHT}"),
        S.PAID: conflict("the ledger changed the amount or due date of a paid invoice"),
        S.SETTLED: conflict("the ledger changed the amount or due date of a settled invoice"),
        S.VOIDED: conflict("the ledger changed an invoice the platform holds as voided"),
        S.DUPLICATE: SAME,
    },
    ev.LedgerPaidExternally.kind: {
        **_each(EDITABLE, go(S.PAID)),
        S.SUBMITTED: conflict(_DOUBLE),
        S.PAID: nothing("already paid"),
        S.SETTLED: nothing("already paid and settled"),
        S.VOIDED: conflict("the ledger shows paid an invoice the platform holds as voided"),
        S.DUPLICATE: SAME,
    },
    ev.LedgerVoided.kind: {
        **_each(EDITABLE, go(S.VOIDED)),
        S.SUBMITTED: conflict(f"the ledger voided or deleted the invoice while {_IN_FLIGHT}"),
        S.PAID: conflict("the ledger voided or deleted an invoice the platform holds as paid"),
        S.SETTLED: conflict("the ledger voided or deleted an invoice already paid out"),
        S.VOIDED: nothing("already voided"),
        S.DUPLICATE: SAME,
    },
    ev.LedgerPaymentMissing.kind: {
        **_each(
            {S.DRAFT, S.SCHEDULED, S.OUTSTANDING, S.OVERDUE, S.VOIDED, S.DUPLICATE},
            nothing("no platform payment to miss"),
        ),
        S.SUBMITTED: conflict("the payment posted at collection start is gone from the ledger: payment missing"),
        S.PAID: conflict("the platform's payment is gone from the ledger: payment missing"),
        S.SETTLED: conflict("the platform's payment of a settled invoice is gone from the ledger: payment missing"),
    },
    # platform side
    ev.Approve.kind: {
        S.DRAFT: go(S.SCHEDULED),
        S.SCHEDULED: nothing("already scheduled"),
    },
    ev.CollectionStarted.kind: {
        S.SCHEDULED: go(S.SUBMITTED),
        S.SUBMITTED: nothing("collection already started"),
    },
    ev.CollectionFailed.kind: {
        S.SUBMITTED: go(S.SCHEDULED),
    },
    ev.CollectionConfirmed.kind: {
        S.SUBMITTED: go(S.PAID),
    },
    ev.PaymentRequestSent.kind: {
        S.DRAFT: go(S.OUTSTANDING),
        S.OUTSTANDING: nothing("payment request already sent"),
        S.OVERDUE: nothing("payment request already sent"),
    },
    ev.DueDatePassed.kind: {
        S.OUTSTANDING: go(S.OVERDUE),
        S.OVERDUE: nothing("already overdue"),
    },
    ev.PaymentReceived.kind: {
        S.OUTSTANDING: go(S.PAID),
        S.OVERDUE: go(S.PAID),
    },
    ev.PaidElsewhere.kind: {
        **_each(EDITABLE, go(S.PAID)),
        S.SUBMITTED: conflict(_DOUBLE),
        S.PAID: nothing("already paid"),
        S.SETTLED: nothing("already paid and settled"),
        S.VOIDED: conflict("the platform reports a payment for an invoice held as voided"),
        S.DUPLICATE: SAME,
    },
    ev.PayoutSent.kind: {
        S.PAID: go(S.SETTLED),
        S.SETTLED: nothing("already settled"),
    },
    ev.Reschedule.kind: {
        S.SCHEDULED: SAME,
    },
    ev.Void.kind: {
        **_each(EDITABLE, go(S.VOIDED)),
        S.DUPLICATE: go(S.VOIDED),
        S.SUBMITTED: refuse(f"cannot void: {_IN_FLIGHT}; wait for it to fail or be confirmed"),
        S.VOIDED: nothing("already voided"),
    },
    ev.Delete.kind: {
        S.DRAFT: go(S.DRAFT),  # the invoice is removed; see apply()
    },
    ev.MarkOriginal.kind: {
        S.DUPLICATE: PLACE,
    },
}

#: Why an event is refused in a status its row leaves out, when more can be said than "not allowed".
REFUSALS: dict[str, str] = {
    ev.Delete.kind: "only a draft may be deleted",
    ev.MarkOriginal.kind: "only a duplicate may be marked original",
    ev.PayoutSent.kind: "only a paid invoice can be settled",
    ev.CollectionStarted.kind: "only a scheduled invoice can be collected",
    ev.CollectionFailed.kind: "only a submitted collection can fail",
    ev.CollectionConfirmed.kind: "only a submitted collection can be confirmed",
    ev.PaymentReceived.kind: "only an outstanding or overdue payment request can be paid",
    ev.Approve.kind: "only a draft can be scheduled (draft → scheduled is one-way)",
    ev.PaymentRequestSent.kind: "only a draft can be sent as a payment request",
    ev.DueDatePassed.kind: "only an outstanding payment request can become overdue",
    ev.Reschedule.kind: "only a scheduled invoice has a collection date",
    ev.Void.kind: "a paid or settled invoice cannot be voided",
}


# --- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Transition:
    """The event changes the invoice. ``after`` is None when the invoice is removed (a deleted draft)."""

    event: ev.Event
    before: InvoiceState
    after: InvoiceState | None
    ledger_write: LedgerWrite | None = None
    note: str = ""

    @property
    def changes_status(self) -> bool:
        return self.after is None or self.after.status != self.before.status


@dataclass(frozen=True, slots=True)
class Conflict:
    """Ledger and platform disagree in a way no rule may settle silently: support decides."""

    event: ev.Event
    state: InvoiceState
    reason: str


@dataclass(frozen=True, slots=True)
class Refused:
    """The event is not allowed in this status; nothing changes."""

    event: ev.Event
    state: InvoiceState
    reason: str


@dataclass(frozen=True, slots=True)
class NoChange:
    """The event says what is already so (a re-read, a repeated delivery); nothing changes."""

    event: ev.Event
    state: InvoiceState
    reason: str


Outcome = Transition | Conflict | Refused | NoChange


# --- placement -------------------------------------------------------------------------------


def place_new(
    *,
    ledger_status: LedgerStatus,
    mode: CollectionMode,
    amount_due: Money,
    due_date: date | None,
    today: date,
    policy: CollectionPolicy,
    duplicate: bool = False,
) -> InvoiceState:
    """Where a newly imported invoice lands: open ones in Scheduled (or Outstanding when on demand).

    Built in one construction (an import places thousands a second; a copy per decision was a
    tenth of a first import's own time)."""
    placed = (
        {"status": S.DUPLICATE}
        if duplicate
        else _placed(ledger_status, mode, amount_due.currency, due_date, today, policy)
    )
    return InvoiceState(
        mode=mode,
        amount_due=amount_due,
        due_date=due_date,
        ledger_status=ledger_status,
        **placed,  # type: ignore[arg-type]
    )


def _placed(
    ledger_status: LedgerStatus,
    mode: CollectionMode,
    currency: str,
    due_date: date | None,
    today: date,
    policy: CollectionPolicy,
) -> dict[str, object]:
    """The fields placement decides, by the ledger's status, the collection mode and the currency."""
    match ledger_status:
        case LedgerStatus.DRAFT:
            return {"status": S.DRAFT}
        case LedgerStatus.PAID:
            return {"status": S.PAID, "paid_via": PaidVia.EXTERNAL, "collection_date": None}
        case LedgerStatus.VOIDED:
            return {"status": S.VOIDED, "collection_date": None}
    if mode is CollectionMode.ON_DEMAND:
        foreign = policy.cannot_post(currency) is not None
        return {"status": S.OUTSTANDING, "collection_date": None, "needs_attention": foreign}
    if policy.cannot_post(currency):  # placed, but never given a collection date
        return {"status": S.SCHEDULED, "collection_date": None, "needs_attention": True}
    return {"status": S.SCHEDULED, "collection_date": policy.collection_date(due_date, today)}


def _placed_again(state: InvoiceState, today: date, policy: CollectionPolicy) -> InvoiceState:
    """An existing invoice placed as if new (marked original; a draft approved): other fields kept."""
    decided = _placed(state.ledger_status, state.mode, state.amount_due.currency, state.due_date, today, policy)
    return state.but(**decided)


# --- apply -------------------------------------------------------------------------------------


def apply(state: InvoiceState, event: ev.Event, policy: CollectionPolicy | None = None) -> Outcome:
    """Decide what ``event`` does to an invoice in ``state``. Pure: the caller persists the outcome."""
    policy = policy or CollectionPolicy()
    rule = TABLE[event.kind].get(state.status)
    if rule is None:
        return Refused(event, state, REFUSALS.get(event.kind, f"not allowed while {state.status}"))
    if rule.action == "refuse":
        return Refused(event, state, rule.reason)
    if rule.action == "conflict":
        return Conflict(event, state, rule.reason)
    if rule.action == "nothing":
        return NoChange(event, state, rule.reason)
    if isinstance(event, ev.PayoutSent) and state.paid_via is not PaidVia.PLATFORM:
        return Refused(event, state, "settled only after a platform payment; this one was paid externally")
    if isinstance(event, ev.CollectionStarted | ev.PaymentRequestSent | ev.PaymentReceived):
        why = policy.cannot_post(state.amount_due.currency)
        if why:
            return Refused(event, state, why)
    if isinstance(event, ev.CollectionStarted) and policy.retries_used_up(state.attempts):
        return Refused(
            event,
            state,
            f"all {policy.retry.max_attempts} collection attempts are used up: a person must "
            "re-enable collection first",
        )
    collected = getattr(event, "amount", None)
    if collected is not None and collected.currency != state.amount_due.currency:
        return Refused(event, state, f"collected {collected} for an invoice in {state.amount_due.currency}")
    return _transition(state, event, rule, policy)


def _transition(state: InvoiceState, event: ev.Event, rule: Rule, policy: CollectionPolicy) -> Outcome:
    today = event.occurred_on
    after = _ledger_facts(state, event)
    write: LedgerWrite | None = None
    note = ""

    if rule.action == "place":
        if isinstance(event, ev.MarkOriginal):
            after = _placed_again(after, today, policy)
        else:  # ledger approved a draft
            after = _placed_again(after.but(ledger_status=LedgerStatus.OPEN), today, policy)
        return Transition(event, state, after, None, f"placed in {after.status}")

    if rule.action == "same":
        if isinstance(event, ev.Reschedule):
            new_date = event.collection_date or policy.collection_date(state.due_date, today)
            after = after.but(collection_date=new_date, needs_attention=False)
            note = f"collection date {new_date.isoformat()}"
            if policy.retries_used_up(state.attempts):  # a person re-enables collection
                after = after.but(attempts=0)
                note = f"collection re-enabled after {state.attempts} attempts; {note}"
        elif _due_date_moves_collection(state, after, event):
            after = after.but(collection_date=policy.collection_date(after.due_date, today))
        if after == state:
            return NoChange(event, state, "nothing new")
        return Transition(event, state, after, None, note or _diff_note(state, after))

    target = rule.target
    assert target is not None
    after = after.but(status=target)

    if isinstance(event, ev.Delete):
        return Transition(event, state, None, None, "draft deleted")
    if isinstance(event, ev.LedgerPaidExternally | ev.PaidElsewhere):
        after = after.but(paid_via=PaidVia.EXTERNAL, collection_date=None, needs_attention=False)
    elif isinstance(event, ev.Approve):
        collect_on = policy.collection_date(state.due_date, today)
        after = after.but(mode=CollectionMode.AUTO_COLLECT, collection_date=collect_on)
    elif isinstance(event, ev.PaymentRequestSent):
        after = after.but(mode=CollectionMode.ON_DEMAND, collection_date=None)
    elif isinstance(event, ev.CollectionStarted):
        if policy.post_payment_at is PostPaymentAt.SUBMITTED:
            write, after = LedgerWrite.PAYMENT, after.but(payment_posted=True)
    elif isinstance(event, ev.CollectionFailed):
        attempts = state.attempts + 1
        retry_on = policy.retry.next_collection(attempts, today)
        after = after.but(attempts=attempts, collection_date=retry_on, needs_attention=retry_on is None)
        note = (
            f"attempt {attempts} failed; retry on {retry_on.isoformat()}"
            if retry_on
            else f"attempt {attempts} failed; no retries left: needs attention"
        )
        if state.payment_posted:
            write, after = LedgerWrite.DELETE_PAYMENT, after.but(payment_posted=False)
    elif isinstance(event, ev.CollectionConfirmed | ev.PaymentReceived):
        # Money collected is money the ledger must hear of, whatever the amount: refusing it would
        # not give it back. The push applies what the ledger still shows due and records any
        # excess as the customer's credit (a refund due); a shortfall stays due in the ledger.
        collected = event.amount or state.amount_due
        differs = collected != state.amount_due
        after = after.but(
            paid_via=PaidVia.PLATFORM,
            paid_amount=collected,
            amount_due=Money.zero(state.amount_due.currency),
            collection_date=None,
            needs_attention=differs or state.needs_attention,
        )
        if differs:
            note = f"collected {collected} while {state.amount_due} was due: the ledger is told exactly what came in"
        if not state.payment_posted:
            write, after = LedgerWrite.PAYMENT, after.but(payment_posted=True)
    elif isinstance(event, ev.PayoutSent):
        write = LedgerWrite.PAYOUT
    elif isinstance(event, ev.Void | ev.LedgerVoided):
        after = after.but(collection_date=None, needs_attention=False)
    return Transition(event, state, after, write, note)


def _due_date_moves_collection(before: InvoiceState, after: InvoiceState, event: ev.Event) -> bool:
    """A new due date moves a first collection that was planned from the old one (not a retry's date)."""
    return (
        isinstance(event, ev.LedgerAmountChanged)
        and after.status is S.SCHEDULED
        and after.attempts == 0
        and after.due_date != before.due_date
    )


def _ledger_facts(state: InvoiceState, event: ev.Event) -> InvoiceState:
    """Carry what a ledger event says about the ledger's own record into the state."""
    if isinstance(event, ev.LedgerAmountChanged):
        return state.but(amount_due=event.amount_due, due_date=event.due_date or state.due_date)
    if isinstance(event, ev.LedgerApproved):
        return state.but(
            ledger_status=LedgerStatus.OPEN,
            amount_due=event.amount_due or state.amount_due,
            due_date=event.due_date or state.due_date,
        )
    if isinstance(event, ev.LedgerPaidExternally):
        return state.but(ledger_status=LedgerStatus.PAID)
    if isinstance(event, ev.LedgerVoided):
        return state.but(ledger_status=LedgerStatus.VOIDED)
    return state


def _diff_note(before: InvoiceState, after: InvoiceState) -> str:
    parts = []
    if before.amount_due != after.amount_due:
        parts.append(f"amount due {before.amount_due} → {after.amount_due}")
    if before.due_date != after.due_date:
        parts.append(f"due date {_d(before.due_date)} → {_d(after.due_date)}")
    if before.collection_date != after.collection_date:
        parts.append(f"collection date {_d(before.collection_date)} → {_d(after.collection_date)}")
    if before.ledger_status != after.ledger_status:
        parts.append(f"ledger says {after.ledger_status}")
    return "; ".join(parts)


def _d(value: date | None) -> str:
    return value.isoformat() if value else "none"


#: Events a person may ask for by naming a target status (``connector invoice set-status``).
#: A payout is left out: it needs amounts and a fee, so it goes through ``connector platform payout``.
MANUAL_EVENTS: tuple[type[ev.Event], ...] = (
    ev.Approve,
    ev.CollectionStarted,
    ev.CollectionFailed,
    ev.CollectionConfirmed,
    ev.PaymentRequestSent,
    ev.DueDatePassed,
    ev.PaymentReceived,
    ev.Void,
    ev.MarkOriginal,
)


def manual_event(
    state: InvoiceState, target: InvoiceStatus, today: date, reason: str, policy: CollectionPolicy
) -> ev.Event | Refused:
    """The one event of the table that takes ``state`` to ``target``, or why there is none.

    A person's status change is validated by the same table as everything else: it is
    allowed exactly when some platform event would make it.
    """
    reachable: dict[InvoiceStatus, ev.Event] = {}
    for kind in MANUAL_EVENTS:
        event = kind(occurred_on=today, detail=reason)
        outcome = apply(state, event, policy)
        if isinstance(outcome, Transition) and outcome.after is not None and outcome.changes_status:
            reachable.setdefault(outcome.after.status, event)
    if target in reachable:
        return reachable[target]
    probe = ev.Void(occurred_on=today, detail=reason)
    allowed = ", ".join(sorted(reachable)) or "none"
    return Refused(probe, state, f"cannot go from {state.status} to {target} (allowed from here: {allowed})")
