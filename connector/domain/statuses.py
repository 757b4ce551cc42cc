"""The enumerations of the status model (docs/architecture.md)."""

from enum import StrEnum


class InvoiceStatus(StrEnum):
    """Where an invoice stands in the platform, independent of any ledger's words."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SUBMITTED = "submitted"
    OUTSTANDING = "outstanding"
    OVERDUE = "overdue"
    PAID = "paid"
    SETTLED = "settled"
    VOIDED = "voided"
    DUPLICATE = "duplicate"


class CollectionMode(StrEnum):
    """How the platform collects: direct debit on a date, or a payment request the customer answers."""

    AUTO_COLLECT = "auto_collect"
    ON_DEMAND = "on_demand"


class PaidVia(StrEnum):
    """Who took the money: settlement (payout) exists only for platform payments."""

    PLATFORM = "platform"
    EXTERNAL = "external"


class EventSource(StrEnum):
    """Who caused an activity event; support reads this first when explaining a status."""

    LEDGER = "ledger"
    PLATFORM = "platform"
    PERSON = "person"
    SYSTEM = "system"


#: Statuses from which the platform may still collect; ledger edits are applied silently here.
EDITABLE = frozenset({InvoiceStatus.DRAFT, InvoiceStatus.SCHEDULED, InvoiceStatus.OUTSTANDING, InvoiceStatus.OVERDUE})
#: Statuses after which nothing further happens automatically.
FINAL = frozenset({InvoiceStatus.SETTLED, InvoiceStatus.VOIDED})
