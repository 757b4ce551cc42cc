"""What changed in the ledger since we last looked, as domain events.

The diff compares the ledger's new record with the last one we saw *from the ledger*, not
with the platform's view: after a platform payment the platform has nothing due while the
ledger still shows the amount until our payment lands, and that is not a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from connector.domain import events as ev
from connector.domain.invoice import InvoiceState, LedgerStatus
from connector.domain.money import Money
from connector.domain.statuses import InvoiceStatus, PaidVia


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """The facts of a ledger's invoice the platform follows."""

    status: LedgerStatus
    amount_due: Money
    due_date: date | None


def explained_by_our_payment(state: InvoiceState) -> bool:
    """The ledger shows paid because we posted the payment (or are about to)."""
    paid_by_platform = state.status in (InvoiceStatus.PAID, InvoiceStatus.SETTLED) and (
        state.paid_via is PaidVia.PLATFORM
    )
    return paid_by_platform or state.payment_posted


class OurPayment(StrEnum):
    """Whether the ledger's invoice carries a payment the connector wrote (by marker or ledger id).

    ``present``: one of ours is on it (perhaps one we are about to delete after a failed collection);
    ``missing``: we posted one, it was not deleted by us, and it is gone; ``none``: we expect none.
    """

    NONE = "none"
    PRESENT = "present"
    MISSING = "missing"


def ledger_events(
    before: LedgerSnapshot,
    after: LedgerSnapshot,
    state: InvoiceState,
    on: date,
    label: str = "",
    ours: OurPayment = OurPayment.NONE,
) -> list[ev.Event]:
    """The events that take the platform from ``before`` to ``after``; none when nothing changed.

    Our own payment is never taken for an external one, and a payment of ours that vanished is
    reported even when the invoice's totals did not move (deleted, then paid by a credit note
    before we looked again).
    """
    detail = label
    if ours is OurPayment.MISSING and after.status is not LedgerStatus.VOIDED:
        refund = None
        if after.status is LedgerStatus.PAID or after.amount_due.is_zero:
            refund = state.paid_amount
        why = "the ledger shows it paid by other means: refund due" if refund else "re-post it or refund"
        return [ev.LedgerPaymentMissing(occurred_on=on, detail=f"{detail}; {why}".lstrip("; "), refund_due=refund)]
    if before == after:
        return []
    if after.status is LedgerStatus.VOIDED:
        return [] if before.status is LedgerStatus.VOIDED else [ev.LedgerVoided(occurred_on=on, detail=detail)]
    if after.status is LedgerStatus.PAID:
        if before.status is LedgerStatus.PAID or explained_by_our_payment(state) or ours is OurPayment.PRESENT:
            return []
        return [ev.LedgerPaidExternally(occurred_on=on, detail=detail)]
    events: list[ev.Event] = []
    if before.status is LedgerStatus.DRAFT and after.status is LedgerStatus.OPEN:
        events.append(
            ev.LedgerApproved(occurred_on=on, amount_due=after.amount_due, due_date=after.due_date, detail=detail)
        )
        return events
    if (
        before.amount_due != after.amount_due
        or before.due_date != after.due_date
        or (before.status is LedgerStatus.PAID and after.status is LedgerStatus.OPEN)
    ):
        events.append(
            ev.LedgerAmountChanged(occurred_on=on, amount_due=after.amount_due, due_date=after.due_date, detail=detail)
        )
    return events
