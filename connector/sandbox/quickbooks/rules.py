"""The rules of each entity the sandbox serves, by QBO entity name."""

from __future__ import annotations

from connector.sandbox.quickbooks.rules_banking import DepositRules, PurchaseRules, TransferRules
from connector.sandbox.quickbooks.rules_base import Ctx, Rules
from connector.sandbox.quickbooks.rules_credit import CreditMemoRules
from connector.sandbox.quickbooks.rules_lists import AccountRules, CustomerRules
from connector.sandbox.quickbooks.rules_payments import PaymentRules
from connector.sandbox.quickbooks.rules_sales import InvoiceRules

RULES: dict[str, Rules] = {
    rules.kind: rules
    for rules in (
        InvoiceRules(), CreditMemoRules(), PaymentRules(), DepositRules(), TransferRules(), PurchaseRules(),
        AccountRules(), CustomerRules(),
    )
}

__all__ = ["RULES", "Ctx", "Rules"]
