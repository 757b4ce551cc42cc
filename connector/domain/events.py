"""Everything that can happen to an invoice, from the ledger, the platform or a person.

Each event is a small immutable value. Its ``kind`` is the key into the transition
table; ``occurred_on`` is the calendar date it happened (retry dates are computed from it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from connector.domain.money import Money
from connector.domain.statuses import EventSource


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of all events. ``source`` is the default origin; a person may replay most events."""

    kind: ClassVar[str] = "event"
    default_source: ClassVar[EventSource] = EventSource.SYSTEM
    occurred_on: date
    detail: str = ""

    def describe(self) -> str:
        """A line for the activity log: the kind, and the detail when there is one."""
        return self.kind.replace("_", " ") + (f": {self.detail}" if self.detail else "")


# --- from the ledger -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerApproved(Event):
    """The ledger approved a draft: it is now a real, collectable invoice."""

    kind: ClassVar[str] = "ledger_approved"
    default_source: ClassVar[EventSource] = EventSource.LEDGER
    amount_due: Money | None = None
    due_date: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerAmountChanged(Event):
    """Amount due or due date changed in the ledger: credit note, partial payment elsewhere, an edit."""

    kind: ClassVar[str] = "ledger_amount_changed"
    default_source: ClassVar[EventSource] = EventSource.LEDGER
    amount_due: Money
    due_date: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerPaidExternally(Event):
    """The ledger shows the invoice fully paid by a payment the connector did not post."""

    kind: ClassVar[str] = "ledger_paid_externally"
    default_source: ClassVar[EventSource] = EventSource.LEDGER


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerVoided(Event):
    """The ledger voided or deleted the invoice."""

    kind: ClassVar[str] = "ledger_voided"
    default_source: ClassVar[EventSource] = EventSource.LEDGER


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerPaymentMissing(Event):
    """A payment we posted is no longer on the ledger's invoice (deleted there, or replaced by a credit).

    ``refund_due`` is set when the ledger shows the invoice paid by other means: the money the
    platform collected is then applied nowhere and is owed back to the customer.
    """

    kind: ClassVar[str] = "ledger_payment_missing"
    default_source: ClassVar[EventSource] = EventSource.LEDGER
    refund_due: Money | None = None


# --- from the platform -----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Approve(Event):
    """The platform schedules a draft for direct debit (Draft → Scheduled)."""

    kind: ClassVar[str] = "approve"
    default_source: ClassVar[EventSource] = EventSource.PLATFORM


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectionStarted(Event):
    """A direct debit was initiated with the customer's bank."""

    kind: ClassVar[str] = "collection_started"
    default_source: ClassVar[EventSource] = EventSource.PLATFORM


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectionFailed(Event):
    """The bank refused or returned the direct debit."""

    kind: ClassVar[str] = "collection_failed"
    default_source: ClassVar[EventSource] = EventSource.PLATFORM


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectionConfirmed(Event):
    """The bank confirmed the direct debit: the money is the platform's."""

    kind: ClassVar[str] = "collection_confirmed"
    default_source: ClassVar[EventSource] = EventSource.PLATFORM
    amount: Money | None = None
    reference: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRequestSent(Event):
    """A payment request went to the customer (Draft → Outstanding)."""

    kind: ClassVar[str] = "request_sent"
    default_source: ClassVar[EventSource] = EventSource.PLATFORM


@dataclass(frozen=True, slots=True, kw_only=True)
class DueDatePassed(Event):
    """The overdue sweep found the due date behind us (Outstanding → Overdue)."""

    kind: ClassVar[str] = "due_date_passed"
    default_source: ClassVar[EventSource] = EventSource.SYSTEM


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentReceived(Event):
    """The customer paid a payment request through the platform."""

    kind: ClassVar[str] = "payment_received"
    default_source: ClassVar[EventSource] = EventSource.PLATFORM
    amount: Money | None = None
    reference: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PaidElsewhere(Event):
    """The platform reports that the customer paid outside it (cash, their own bank transfer).

    Nothing is left to collect and nothing is posted: the money never reached the clearing
    account, so the accountant records it in the ledger as it arrived, and no payout settles it.
    """

    kind: ClassVar[str] = "external_payment"
    default_source: ClassVar[EventSource] = EventSource.PLATFORM


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutSent(Event):
    """The platform paid the money out to the business."""

    kind: ClassVar[str] = "payout"
    default_source: ClassVar[EventSource] = EventSource.PLATFORM
    reference: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reschedule(Event):
    """Set a new collection date (clears needs-attention after the last retry)."""

    kind: ClassVar[str] = "reschedule"
    default_source: ClassVar[EventSource] = EventSource.PERSON
    collection_date: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Void(Event):
    """The platform or a person voids the invoice: it no longer requires payment."""

    kind: ClassVar[str] = "void"
    default_source: ClassVar[EventSource] = EventSource.PLATFORM


@dataclass(frozen=True, slots=True, kw_only=True)
class Delete(Event):
    """Delete a draft; only a draft may be deleted."""

    kind: ClassVar[str] = "delete"
    default_source: ClassVar[EventSource] = EventSource.PERSON


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkOriginal(Event):
    """A person says a duplicate is the original after all; it goes through normal placement."""

    kind: ClassVar[str] = "mark_original"
    default_source: ClassVar[EventSource] = EventSource.PERSON


ALL_EVENTS: tuple[type[Event], ...] = (
    LedgerApproved,
    LedgerAmountChanged,
    LedgerPaidExternally,
    LedgerVoided,
    LedgerPaymentMissing,
    Approve,
    CollectionStarted,
    CollectionFailed,
    CollectionConfirmed,
    PaymentRequestSent,
    DueDatePassed,
    PaymentReceived,
    PaidElsewhere,
    PayoutSent,
    Reschedule,
    Void,
    Delete,
    MarkOriginal,
)
