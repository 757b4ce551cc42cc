"""A person's changes to one invoice: a status with a reason, mark original, re-enable collection,
resolve what needed attention.

A page a person acted from may be stale: a sync or a colleague changed the invoice meanwhile. Each
action takes the ``expected_version`` the page showed and refuses, changing nothing, when the
invoice has moved on since (the same optimistic lock the store keeps in ``invoices.version``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from connector.actions import lookup
from connector.actions.context import Actor
from connector.actions.errors import RefusedAction
from connector.actions.results import InvoiceOutcome
from connector.domain import InvoiceStatus, MarkOriginal, Refused, Reschedule
from connector.domain.money import format_amount
from connector.domain.transitions import manual_event
from connector.runtime import Runtime
from connector.store.invoices import state_of
from connector.store.models import Invoice
from connector.sync.apply import apply_event, log_activity, policy_for

#: Statuses in which the customer has already been shown the invoice (a payment request sent, or a
#: direct debit announced against their mandate): a change there is news to them, so the console's
#: "Notify customer" starts ticked. A draft, a duplicate or a voided invoice was never theirs to see.
CUSTOMER_VISIBLE = frozenset(
    {
        InvoiceStatus.SCHEDULED,
        InvoiceStatus.SUBMITTED,
        InvoiceStatus.OUTSTANDING,
        InvoiceStatus.OVERDUE,
        InvoiceStatus.PAID,
        InvoiceStatus.SETTLED,
    }
)


def customer_can_see(status: InvoiceStatus | str) -> bool:
    """Whether the customer can already see an invoice in ``status`` (the notify default)."""
    return InvoiceStatus(status) in CUSTOMER_VISIBLE


@dataclass(frozen=True, slots=True)
class StatusChange:
    """What a status change would do, for the confirmation step ("Are you sure?")."""

    invoice_id: int
    number: str
    from_status: str
    to_status: str
    version: int = 0
    #: Whether "Notify customer" starts ticked: the customer can already see the invoice.
    notify_default: bool = False


@dataclass(frozen=True, slots=True)
class StatusChoices:
    """The statuses a person may move an invoice to from where it is now (the table decides)."""

    invoice_id: int
    number: str
    from_status: str
    version: int
    targets: tuple[str, ...]
    notify_default: bool


def status_choices(rt: Runtime, ref: str, *, on: date | str | None = None) -> StatusChoices:
    """Every status the table allows ``ref`` to move to by a person now, in the model's order.

    The form offers only these, so Draft → Open stays one-way and void comes only after finalise:
    the same ``manual_event`` that ``set_status`` checks with decides what is listed.
    """
    today = lookup.day(on)
    with rt.sessions() as session:
        row = lookup.invoice(session, ref)
        state, policy = state_of(row), policy_for(row.connection)
        targets = tuple(
            s.value
            for s in InvoiceStatus
            if s.value != row.status and not isinstance(manual_event(state, s, today, "check", policy), Refused)
        )
        return StatusChoices(row.id, row.number, row.status, row.version, targets, customer_can_see(row.status))


def check_status_change(
    rt: Runtime,
    ref: str,
    target: InvoiceStatus | str,
    *,
    connection: str | None = None,
    on: date | str | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> StatusChange:
    """Whether the status table allows ``ref`` → ``target`` now; changes nothing.

    Given a ``reason``, it must say why (the confirmation step is not shown for an empty one); given
    ``expected_version``, the invoice must not have changed since the page was read.
    """
    target = _status(target)
    if reason is not None:
        lookup.reason(reason)
    today = lookup.day(on)
    with rt.transaction() as session:
        row = lookup.invoice(session, ref, connection)
        _unchanged(row, expected_version)
        event = manual_event(state_of(row), target, today, "check", policy_for(row.connection))
        if isinstance(event, Refused):
            raise RefusedAction(f"{row.number}: {event.reason}", field="status")
        return StatusChange(row.id, row.number, row.status, target.value, row.version, customer_can_see(row.status))


def set_status(
    rt: Runtime,
    ref: str,
    target: InvoiceStatus | str,
    reason: str,
    *,
    actor: Actor,
    connection: str | None = None,
    on: date | str | None = None,
    notify_customer: bool = False,
    expected_version: int | None = None,
) -> InvoiceOutcome:
    """Move an invoice to another status, exactly where the status table allows a platform event to.

    ``notify_customer`` is the person's choice at the confirmation step; it is recorded with the
    change in the timeline (sending the notification is the notifier's job, which reads it there).
    """
    target = _status(target)
    why = lookup.reason(reason)
    today = lookup.day(on)
    with rt.transaction() as session:
        row = lookup.invoice(session, ref, connection)
        _unchanged(row, expected_version)
        event = manual_event(state_of(row), target, today, why, policy_for(row.connection))
        if isinstance(event, Refused):
            raise RefusedAction(f"{row.number}: {event.reason}", field="status")
        outcome = apply_event(
            session,
            row,
            event,
            source=actor.source,
            actor=actor.name,
            data={"reason": why, "notify_customer": notify_customer, "requested_status": target.value},
        )
        return InvoiceOutcome.of(row, outcome)


def mark_original(
    rt: Runtime,
    ref: str,
    reason: str,
    *,
    actor: Actor,
    connection: str | None = None,
    on: date | str | None = None,
    expected_version: int | None = None,
) -> InvoiceOutcome:
    """A person says a duplicate is its own invoice after all: it is placed and processed."""
    why = lookup.reason(reason)
    with rt.transaction() as session:
        row = lookup.invoice(session, ref, connection)
        _unchanged(row, expected_version)
        if row.status != InvoiceStatus.DUPLICATE:
            raise RefusedAction(f"{row.number}: only a duplicate may be marked original (it is {row.status})")
        outcome = apply_event(
            session, row, MarkOriginal(occurred_on=lookup.day(on), detail=why), source=actor.source, actor=actor.name
        )
        row.duplicate_of_id = None
        return InvoiceOutcome.of(row, outcome)


def reenable_collection(
    rt: Runtime,
    ref: str,
    reason: str,
    *,
    actor: Actor,
    connection: str | None = None,
    collect_on: date | str | None = None,
    on: date | str | None = None,
) -> InvoiceOutcome:
    """After every retry failed, a person (who spoke to the customer) allows collection again."""
    why = lookup.reason(reason)
    today = lookup.day(on)
    new_date = lookup.day(collect_on, "collect_on") if collect_on else None
    with rt.transaction() as session:
        row = lookup.invoice(session, ref, connection)
        policy = policy_for(row.connection)
        if row.status != InvoiceStatus.SCHEDULED or not policy.retries_used_up(row.attempts):
            raise RefusedAction(
                f"{row.number}: collection can be re-enabled only once every attempt is used "
                f"(it is {row.status}, {row.attempts} of {policy.retry.max_attempts} attempts)"
            )
        event = Reschedule(occurred_on=today, detail=why, collection_date=new_date)
        outcome = apply_event(session, row, event, source=actor.source, actor=actor.name)
        return InvoiceOutcome.of(row, outcome)


#: How a person settles what needed attention.
RESOLUTIONS = ("keep_platform", "accept_ledger", "refunded")


def resolve_attention(
    rt: Runtime,
    ref: str,
    resolution: str,
    note: str,
    *,
    actor: Actor,
    connection: str | None = None,
    expected_version: int | None = None,
) -> InvoiceOutcome:
    """Close a conflict or a refund due, saying how: the flag clears and the timeline keeps the note.

    ``keep_platform``: the platform's view stands (the ledger change is noted, not applied);
    ``accept_ledger``: the ledger's amount due becomes the platform's where money is still to be
    collected; ``refunded``: the refund due has been paid back to the customer.
    """
    why = lookup.reason(note, "note")
    if resolution not in RESOLUTIONS:
        raise lookup.InvalidInput(
            f"resolution: expected one of {', '.join(RESOLUTIONS)}, got {resolution!r}", field="resolution"
        )
    with rt.transaction() as session:
        row = lookup.invoice(session, ref, connection)
        _unchanged(row, expected_version)
        if not row.needs_attention and not row.refund_due:
            raise RefusedAction(f"{row.number}: nothing needs attention (someone may have resolved it already)")
        if resolution == "refunded" and not row.refund_due:
            raise RefusedAction(f"{row.number}: no refund is due", field="resolution")
        before = row.attention_reason or ""
        detail = f"{resolution.replace('_', ' ')}: {why}" + (f" (was: {before})" if before else "")
        collectable = row.status in (InvoiceStatus.SCHEDULED, InvoiceStatus.OUTSTANDING, InvoiceStatus.OVERDUE)
        if resolution == "accept_ledger" and row.ledger_amount_due is not None and collectable:
            row.amount_due = row.ledger_amount_due
            detail += f"; amount due now {format_amount(row.ledger_amount_due, row.currency)}"
        if resolution == "refunded":
            detail += f"; refund of {format_amount(row.refund_due, row.currency)} {row.currency} paid back"
            row.refund_due = None
        row.needs_attention = False
        row.attention_reason = None
        log_activity(
            session,
            row,
            "resolved",
            "attention_resolved",
            row.status,
            row.status,
            actor.source,
            detail,
            actor=actor.name,
            data={"resolution": resolution, "note": why},
        )
        return InvoiceOutcome(row.id, row.number, "resolved", row.status, row.status, detail)


def _unchanged(row: Invoice, expected_version: int | None) -> None:
    """Refuse when the invoice moved on since the page the person acted from was read."""
    if expected_version is not None and row.version != expected_version:
        raise RefusedAction(
            f"{row.number} changed since you opened the page (a sync or another person updated it; it is "
            f"now {row.status}). Nothing was changed: reload the page, check it, and try again.",
            field="version",
        )


def _status(value: InvoiceStatus | str) -> InvoiceStatus:
    try:
        return InvoiceStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in InvoiceStatus)
        raise lookup.InvalidInput(f"status: expected one of {allowed}, got {value!r}", field="status") from None
