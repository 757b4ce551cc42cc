"""What a reconciliation reads back from a ledger: the money entries that touch the clearing account.

Each reader (``xero_books.py``, ``quickbooks_books.py``) lists them with a bounded number of list
calls (pages of up to 1,000), through the adapter's own call runner, so every call is limited,
retried and counted like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class SeenEntry:
    """One money entry in the ledger, in provider-neutral terms.

    ``kind``: ``payment`` (applied to an invoice, its unapplied part as ``unapplied``),
    ``overpayment`` (the customer's credit), ``transfer`` (``account`` the source, ``to_account`` the
    destination), ``spend`` (money out of ``account``, a fee), ``receive`` (money into ``account``).
    ``account`` is the clearing-side account in the form the connection's settings use
    (Xero: the account code; QuickBooks: the account id).
    """

    kind: str
    external_id: str
    amount: Decimal
    on: date | None
    account: str | None
    reference: str
    invoice_external_id: str | None = None
    to_account: str | None = None
    #: QuickBooks: the part of a Payment not applied to any invoice.
    unapplied: Decimal = Decimal(0)
    #: When the ledger recorded it (Xero UpdatedDateUTC/CreatedDateUTC, QuickBooks MetaData.CreateTime).
    recorded_at: datetime | None = None

    def touches(self, account: str) -> bool:
        return account in (self.account, self.to_account)

    def effect_on(self, account: str) -> Decimal:
        """How much this entry moved ``account``'s balance (in the entry's currency)."""
        if self.kind == "transfer":
            return (self.amount if self.to_account == account else Decimal(0)) - (
                self.amount if self.account == account else Decimal(0)
            )
        if self.account != account:
            return Decimal(0)
        return -self.amount if self.kind == "spend" else self.amount
