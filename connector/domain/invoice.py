"""The state of one invoice as the domain sees it: the inputs every decision needs, nothing more."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from connector.domain.money import Money
from connector.domain.statuses import CollectionMode, InvoiceStatus, PaidVia


class LedgerStatus(StrEnum):
    """What the ledger says of the invoice, once mapped from its own words (mappings/*.toml).

    ``open`` is approved and awaiting payment (partly paid included); ``draft`` covers the
    ledger's draft and awaiting-approval states; ``paid`` is fully paid; ``voided`` covers
    voided and deleted.
    """

    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOIDED = "voided"


@dataclass(frozen=True, slots=True)
class InvoiceState:
    """One invoice's platform-side state. Immutable: a transition returns a new one."""

    status: InvoiceStatus
    mode: CollectionMode
    amount_due: Money
    due_date: date | None = None
    collection_date: date | None = None
    attempts: int = 0
    paid_via: PaidVia | None = None
    needs_attention: bool = False
    ledger_status: LedgerStatus = LedgerStatus.OPEN
    #: True when the ledger already holds a payment we posted (post_payment_at = submitted).
    payment_posted: bool = False
    #: What the platform collected; a payout settles exactly this.
    paid_amount: Money | None = None

    def but(self, **changes: object) -> InvoiceState:
        """A copy with some fields changed (a thin, typed-enough ``dataclasses.replace``)."""
        return replace(self, **changes)  # type: ignore[arg-type]
