"""The chart of accounts as the setup wizard sees it, alike for Xero and QuickBooks.

Each ledger names its account types its own way; the wizard only needs to know which accounts
can serve as the clearing account (where platform payments land and payouts leave from), the
bank account (where payouts arrive) and the fee account (an expense), and in which currency.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The name the wizard offers for an account it creates.
CLEARING_NAME = "Payments platform clearing"


@dataclass(frozen=True, slots=True)
class ChartAccount:
    """One account of the ledger's chart, reduced to what choosing accounts needs.

    ``ref`` is what the connector stores and sends back when it posts (Xero: the account code,
    QuickBooks: the account id). ``roles`` are the wizard roles it can take ("clearing", "bank",
    "fees"); ``problem`` says why an account that looks right cannot be used (a Xero bank
    account without a code).
    """

    ref: str
    name: str
    ledger_type: str
    currency: str
    roles: frozenset[str]
    problem: str | None = None
    #: The code a person knows the account by (Xero), shown before its name.
    code: str | None = None

    @property
    def label(self) -> str:
        shown = f"{self.code} · {self.name}" if self.code else self.name
        return f"{shown} ({self.currency})" if self.currency else shown
