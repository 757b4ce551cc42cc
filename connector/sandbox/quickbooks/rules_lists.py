"""Name lists: accounts and customers.

Neither can be deleted through the API; QBO "deletes" them by ``Active: false`` and then
shows the name with `` (deleted)`` appended. Queries leave inactive ones out unless the
WHERE clause mentions ``Active``. Names are unique (fault 6240). Balances are computed
from the transactions, so they move without a SyncToken change and are rendered fresh.
"""

from __future__ import annotations

from typing import Any, ClassVar

from connector.sandbox.quickbooks.books import Books
from connector.sandbox.quickbooks.model import ZERO, Record, currency_ref, money
from connector.sandbox.quickbooks.rules_base import Ctx, Rules, boolean, check_enum, ref_value
from connector.sandbox.quickbooks.wire import QboError

DELETED = " (deleted)"

CLASSIFICATION = {
    "Bank": "Asset", "Accounts Receivable": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset",
    "Other Asset": "Asset", "Accounts Payable": "Liability", "Credit Card": "Liability",
    "Other Current Liability": "Liability", "Long Term Liability": "Liability", "Equity": "Equity",
    "Income": "Revenue", "Other Income": "Revenue", "Cost of Goods Sold": "Expense", "Expense": "Expense",
    "Other Expense": "Expense", "Non-Posting": "Asset",
}
DEFAULT_SUBTYPE = {
    "Bank": "Checking", "Accounts Receivable": "AccountsReceivable", "Other Current Asset": "OtherCurrentAssets",
    "Fixed Asset": "OtherFixedAssets", "Other Asset": "OtherLongTermAssets", "Accounts Payable": "AccountsPayable",
    "Credit Card": "CreditCard", "Other Current Liability": "OtherCurrentLiabilities",
    "Long Term Liability": "OtherLongTermLiabilities", "Equity": "OpeningBalanceEquity",
    "Income": "SalesOfProductIncome", "Other Income": "OtherMiscellaneousIncome",
    "Cost of Goods Sold": "SuppliesMaterialsCogs", "Expense": "OtherMiscellaneousServiceCost",
    "Other Expense": "OtherMiscellaneousExpense", "Non-Posting": "Estimates",
}
DEBIT_NORMAL = ("Asset", "Expense")


def base_name(name: str) -> str:
    return name[: -len(DELETED)] if name.endswith(DELETED) else name


def _active(doc: dict[str, Any]) -> bool:
    return boolean(doc.get("Active", True), "Active")


def _check_currency(ctx: Ctx, doc: dict[str, Any]) -> str:
    currency = ref_value(doc, "CurrencyRef") or ctx.company.currency
    if ctx.company.rate(currency) is None:
        raise QboError.business(f"The currency {currency} is not enabled for this company")
    return str(currency)


class AccountRules(Rules):
    kind = "Account"
    readonly: ClassVar[frozenset[str]] = frozenset({
        "CurrentBalance", "CurrentBalanceWithSubAccounts", "FullyQualifiedName", "SubAccount",
    })
    can_delete = False
    cacheable = False

    def normalize(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        name = base_name(str(doc.get("Name", "")).strip())
        if not name:
            raise QboError.required("Name")
        if ":" in name or '"' in name:
            raise QboError.business("The account name can't contain a colon (:) or a double quote")
        kind = doc.get("AccountType")
        if kind is None:
            raise QboError.required("AccountType")
        check_enum(doc, "AccountType", CLASSIFICATION, "AccountTypeEnum")
        classification = CLASSIFICATION[kind]
        if doc.get("Classification") not in (None, classification):
            raise QboError.business(f"Classification {doc['Classification']} does not match AccountType {kind}")
        full_name = name
        parent_id = ref_value(doc, "ParentRef")
        if parent_id is not None:
            parent = ctx.account(doc, "ParentRef")
            assert parent is not None
            if parent.doc.get("AccountType") != kind:
                raise QboError.business("A sub-account must have the same type as its parent")
            full_name = f"{base_name(str(parent.doc['FullyQualifiedName']))}:{name}"
            doc["ParentRef"] = {"value": parent.id}
        for other in ctx.books.records["Account"].values():
            if other is not ctx.existing and base_name(str(other.doc.get("FullyQualifiedName", ""))) == full_name:
                raise QboError.duplicate_name(other.id)
        active = _active(doc)
        currency = _check_currency(ctx, doc)
        if ctx.existing is not None and ctx.books.balances.get(ctx.existing.id) \
                and ref_value(ctx.existing.doc, "CurrencyRef") != currency:
            raise QboError.business("The currency of an account with transactions can't be changed")
        suffix = "" if active else DELETED
        doc.update(
            Name=name + suffix, SubAccount=parent_id is not None, FullyQualifiedName=full_name + suffix,
            Active=active, Classification=classification, AccountType=kind,
            AccountSubType=doc.get("AccountSubType") or DEFAULT_SUBTYPE[kind], CurrencyRef=currency_ref(currency),
        )

    def dynamic(self, books: Books, record: Record) -> dict[str, Any]:
        """CurrentBalance in the account's own currency (a USD bank of an AUD company shows dollars),
        debit-normal accounts positive when they hold money, the others when they owe it."""
        foreign = ref_value(record.doc, "CurrencyRef") not in (None, books.company.currency)
        balance = (books.native if foreign else books.balances).get(record.id, ZERO)
        if record.doc.get("Classification") not in DEBIT_NORMAL:
            balance = -balance
        balance = money(balance)
        return {"CurrentBalance": balance, "CurrentBalanceWithSubAccounts": balance}


class CustomerRules(Rules):
    kind = "Customer"
    readonly: ClassVar[frozenset[str]] = frozenset({
        "Balance", "BalanceWithJobs", "FullyQualifiedName", "Level", "OverDueBalance", "TotalRevenue",
        "TotalExpense", "V4IDPseudonym", "IntuitId",
    })
    can_delete = False
    cacheable = False

    def normalize(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        given = " ".join(str(doc[k]) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix") if k in doc)
        display = base_name(str(doc.get("DisplayName") or doc.get("CompanyName") or given).strip())
        if not display:
            raise QboError.required("DisplayName")
        wanted = display.lower()
        for other in ctx.books.records["Customer"].values():
            if other is not ctx.existing and base_name(str(other.doc.get("DisplayName", ""))).lower() == wanted:
                raise QboError.duplicate_name(other.id)
        active = _active(doc)
        currency = _check_currency(ctx, doc)
        existing = ctx.existing
        if existing is not None and ref_value(existing.doc, "CurrencyRef") != currency \
                and ctx.books.customer_open.get(existing.id):
            raise QboError.business("The currency of a customer with open invoices can't be changed")
        for key in ("Taxable", "Job", "BillWithParent", "IsProject"):
            if key in doc:
                doc[key] = boolean(doc[key], key)
        check_enum(doc, "PreferredDeliveryMethod", ("Print", "Email", "None"), "PreferredDeliveryMethod")
        suffix = "" if active else DELETED
        doc.update(DisplayName=display + suffix, FullyQualifiedName=display + suffix, Active=active,
                   CurrencyRef=currency_ref(currency))
        doc.setdefault("PrintOnCheckName", display)
        doc.setdefault("Job", False)
        doc.setdefault("BillWithParent", False)
        doc.setdefault("IsProject", False)
        doc.setdefault("PreferredDeliveryMethod", "Print")

    def dynamic(self, books: Books, record: Record) -> dict[str, Any]:
        """What the customer owes: open invoices less the credit they have not used yet
        (unapplied payments, credit memos' remaining credit); negative when they are in credit."""
        balance = money(books.customer_open.get(record.id, ZERO) - books.customer_credit.get(record.id, ZERO))
        return {"Balance": balance, "BalanceWithJobs": balance}
