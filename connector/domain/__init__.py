"""The platform's invoice model: statuses, events and the transition table.

Pure on purpose: no I/O, no SQLAlchemy, no SDK. Everything here can be tested
exhaustively and reasoned about as data; the store and the ledger adapters depend
on it, never the reverse.
"""

from connector.domain.events import (
    Approve,
    CollectionConfirmed,
    CollectionFailed,
    CollectionStarted,
    Delete,
    DueDatePassed,
    Event,
    LedgerAmountChanged,
    LedgerApproved,
    LedgerPaidExternally,
    LedgerPaymentMissing,
    LedgerVoided,
    MarkOriginal,
    PaidElsewhere,
    PaymentReceived,
    PaymentRequestSent,
    PayoutSent,
    Reschedule,
    Void,
)
from connector.domain.invoice import InvoiceState, LedgerStatus
from connector.domain.money import Money
from connector.domain.policy import CollectionPolicy, PostPaymentAt, RetryPolicy
from connector.domain.statuses import CollectionMode, EventSource, InvoiceStatus, PaidVia
from connector.domain.transitions import (
    Conflict,
    LedgerWrite,
    NoChange,
    Outcome,
    Refused,
    Transition,
    apply,
    place_new,
)

__all__ = [
    "Approve",
    "CollectionConfirmed",
    "CollectionFailed",
    "CollectionMode",
    "CollectionPolicy",
    "CollectionStarted",
    "Conflict",
    "Delete",
    "DueDatePassed",
    "Event",
    "EventSource",
    "InvoiceState",
    "InvoiceStatus",
    "LedgerAmountChanged",
    "LedgerApproved",
    "LedgerPaidExternally",
    "LedgerPaymentMissing",
    "LedgerStatus",
    "LedgerVoided",
    "LedgerWrite",
    "MarkOriginal",
    "Money",
    "NoChange",
    "Outcome",
    "PaidElsewhere",
    "PaidVia",
    "PaymentReceived",
    "PaymentRequestSent",
    "PayoutSent",
    "PostPaymentAt",
    "Refused",
    "Reschedule",
    "RetryPolicy",
    "Transition",
    "Void",
    "apply",
    "place_new",
]
