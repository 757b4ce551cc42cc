"""What actions return: plain values every shell can render (a terminal line, a page, JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from connector.domain import Conflict, NoChange, Outcome, Refused, Transition
from connector.store.models import Invoice


@dataclass(frozen=True, slots=True)
class InvoiceOutcome:
    """What one event did to one invoice."""

    invoice_id: int
    number: str
    #: transition | no_change | conflict | refused | resolved
    outcome: str
    from_status: str
    to_status: str | None
    message: str = ""

    @property
    def accepted(self) -> bool:
        """True for a change or a harmless repeat; a conflict or refusal is logged but not accepted."""
        return self.outcome in ("transition", "no_change", "resolved")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accepted": self.accepted}

    @classmethod
    def of(cls, invoice: Invoice, outcome: Outcome) -> InvoiceOutcome:
        match outcome:
            case Transition(before=b, after=a):
                return cls(
                    invoice.id,
                    invoice.number,
                    "transition",
                    b.status.value,
                    a.status.value if a else None,
                    outcome.note,
                )
            case NoChange(state=s, reason=r):
                return cls(invoice.id, invoice.number, "no_change", s.status.value, s.status.value, r)
            case Conflict(state=s, reason=r):
                return cls(invoice.id, invoice.number, "conflict", s.status.value, s.status.value, r)
            case Refused(state=s, reason=r):
                return cls(invoice.id, invoice.number, "refused", s.status.value, s.status.value, r)
        raise TypeError(f"not an outcome: {outcome!r}")


@dataclass(frozen=True, slots=True)
class PayoutOutcome:
    """A payout: what it did to each invoice, and the ledger write it queued (None when nothing settled)."""

    invoices: list[InvoiceOutcome]
    reference: str
    currency: str | None = None
    gross: str | None = None
    fee: str | None = None
    net: str | None = None
    outbox_entry_id: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return all(o.accepted for o in self.invoices)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accepted": self.accepted}
