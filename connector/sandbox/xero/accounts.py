"""Accounts (``PUT /Accounts``): adding an account to the chart, with Xero's rules.

The setup wizard offers to create the "Payments platform clearing" account here. Xero's rules kept:
Name is required and unique; Type is one of Xero's account types; a Code is required (at most 10
characters) except on a bank account, and unique; a BANK account needs a BankAccountNumber and
takes the organisation's currency unless another is given. The wording of the refusals is the
sandbox's own (not verified against Xero's, see docs/fidelity.md).
"""

from __future__ import annotations

from connector.sandbox.xero.books import Books
from connector.sandbox.xero.model import Account
from connector.sandbox.xero.tenant import LedgerError

#: Xero's AccountType values and the class each belongs to.
ACCOUNT_TYPES = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYGLIABILITY": "LIABILITY",
    "SUPERANNUATIONLIABILITY": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "SUPERANNUATIONEXPENSE": "EXPENSE",
    "WAGESEXPENSE": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}
CODE_MAX = 10
NAME_MAX = 150


class AccountRules(Books):
    def create_account(
        self,
        tenant_id: str,
        *,
        name: str,
        type: str,
        code: str | None = None,
        bank_account_number: str | None = None,
        currency: str | None = None,
        description: str | None = None,
    ) -> Account:
        with self.lock:
            tenant = self.tenant(tenant_id)
            errors: list[str] = []
            name = (name or "").strip()
            code = (code or "").strip() or None
            kind = (type or "").strip().upper()
            if not name:
                errors.append("Please enter a Name.")
            elif len(name) > NAME_MAX:
                errors.append(f"The Name must be {NAME_MAX} characters or fewer.")
            elif any(a.name.lower() == name.lower() for a in tenant.accounts.values()):
                errors.append("Please enter a unique Name.")
            if kind not in ACCOUNT_TYPES:
                errors.append("Please select a valid Account Type.")
            if code is None and kind != "BANK":
                errors.append("Please enter a Code.")
            elif code is not None and len(code) > CODE_MAX:
                errors.append(f"The Code must be {CODE_MAX} characters or fewer.")
            elif code is not None and tenant.account(code=code) is not None:
                errors.append("Please enter a unique Code.")
            if kind == "BANK" and not (bank_account_number or "").strip():
                errors.append("Please enter a Bank Account Number for a bank account.")
            if currency is not None and currency != tenant.org.base_currency and currency not in tenant.currencies:
                errors.append(f"The currency {currency} is not set up in this organisation.")
            if errors:
                raise LedgerError(*errors)
            account = Account(
                id=self.new_id(),
                code=code or "",
                name=name,
                type=kind,
                account_class=ACCOUNT_TYPES[kind],
                updated_ms=self.now_ms(),
                currency=(currency or tenant.org.base_currency) if kind == "BANK" else None,
                bank_account_number=(bank_account_number or "").strip() or None,
                enable_payments=kind == "BANK",
                description=description,
            )
            tenant.accounts[account.id] = account
            tenant.version += 1
            return account
