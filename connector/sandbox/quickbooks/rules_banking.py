"""Money moving between accounts: deposits (the payout), transfers and purchases (fees).

A deposit line either links a payment waiting in Undeposited Funds (``LinkedTxn`` and no
DetailType) or books an amount against an account (``DetailType: DepositLineDetail`` with
``DepositLineDetail.AccountRef``, negative for a fee). A line that says DepositLineDetail
but names no account is refused with 2020, which is exactly what QBO answers the SDK's
``DepositLine`` (it always sets that DetailType, python-quickbooks issues #329, #391).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from connector.sandbox.quickbooks.model import ZERO, Posting, Record, currency_ref
from connector.sandbox.quickbooks.rules_base import (
    BALANCE_SHEET,
    CASH_LIKE,
    Ctx,
    Rules,
    amount,
    booking,
    boolean,
    check_enum,
    check_line_keys,
    home,
    name_ref,
    ref_value,
    sum_amounts,
)
from connector.sandbox.quickbooks.wire import QboError, number, parse_date

PAYMENT_TYPES = ("Cash", "Check", "CreditCard")
BILLABLE = ("Billable", "NotBillable", "HasBeenBilled")
PRINT_STATUS = ("NotSet", "NeedToPrint", "PrintComplete")
GLOBAL_TAX = ("TaxInclusive", "TaxExcluded", "NotApplicable")


def account_currency(ctx: Ctx, account: Record) -> str:
    ref = account.doc.get("CurrencyRef")
    return str(ref["value"]) if isinstance(ref, dict) and ref.get("value") else str(ctx.company.currency)


def _dated(ctx: Ctx, doc: dict[str, Any]) -> str:
    previous = ctx.existing.doc if ctx.existing else {}
    return (parse_date(doc.get("TxnDate")) or parse_date(previous.get("TxnDate")) or ctx.today).isoformat()


def _currency(ctx: Ctx, doc: dict[str, Any], currency: str) -> Decimal:
    sent = ref_value(doc, "CurrencyRef")
    if sent is not None and sent != currency:
        raise QboError.business(f"The transaction currency {sent} must be the account's currency {currency}")
    rate = ctx.rate_for(currency, doc.get("ExchangeRate") if currency != ctx.company.currency else None)
    doc["CurrencyRef"] = currency_ref(currency)
    if ctx.company.multicurrency:
        doc["ExchangeRate"] = rate
    else:
        doc.pop("ExchangeRate", None)
    return rate


class DepositRules(Rules):
    kind = "Deposit"
    readonly: ClassVar[frozenset[str]] = frozenset({"TotalAmt", "HomeTotalAmt", "TotalCostAmount",
                                                    "HomeTotalCostAmount", "LinkedTxn"})

    def normalize(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        target = ctx.account(doc, "DepositToAccountRef", CASH_LIKE)
        assert target is not None
        raw_lines = doc.get("Line")
        if not raw_lines:
            raise QboError.required("Line")
        lines: list[dict[str, Any]] = []
        seen: set[str] = set()
        for raw in raw_lines:
            check_line_keys(raw)
            value = amount(raw.get("Amount"), "Line.Amount")
            number_ = len(lines) + 1
            line: dict[str, Any] = {"Id": str(number_), "LineNum": number_}
            if raw.get("Description"):
                line["Description"] = raw["Description"]
            kind = raw.get("DetailType")
            if kind == "DepositLineDetail":
                line.update(Amount=value, DetailType=kind, DepositLineDetail=self._detail(ctx, raw))
            elif kind is None and raw.get("LinkedTxn"):
                line.update(Amount=value, LinkedTxn=[self._linked_payment(ctx, raw, value, seen)])
            elif kind is None:
                raise QboError.required("Line.DetailType")
            else:
                raise QboError.business(f"Line type {kind} cannot be used on a deposit")
            lines.append(line)
        total = sum_amounts(line["Amount"] for line in lines)
        if total < 0:
            raise QboError.business("The deposit total can't be negative")
        rate = _currency(ctx, doc, account_currency(ctx, target))
        doc.update(DepositToAccountRef=name_ref(target), TxnDate=_dated(ctx, doc), Line=lines, TotalAmt=total)
        check_enum(doc, "GlobalTaxCalculation", GLOBAL_TAX, "GlobalTaxCalculationEnum")
        if ctx.company.multicurrency:  # like ExchangeRate: on every deposit once multicurrency is on
            doc["HomeTotalAmt"] = home(total, rate)

    @staticmethod
    def _detail(ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        detail = dict(raw.get("DepositLineDetail") or {})
        account = ctx.account(detail, "AccountRef", required=False)
        if account is None:
            raise QboError.required("Line.DepositLineDetail.AccountRef")
        if raw.get("LinkedTxn"):
            raise QboError.business("A deposit line either links a payment or names an account, not both")
        detail["AccountRef"] = name_ref(account)
        entity = detail.get("Entity")
        if isinstance(entity, dict) and entity.get("type", "Customer") == "Customer" and entity.get("value"):
            customer = ctx.customer(detail, "Entity")
            assert customer is not None
            detail["Entity"] = {**name_ref(customer), "type": "CUSTOMER"}
        return detail

    @staticmethod
    def _linked_payment(ctx: Ctx, raw: dict[str, Any], value: Decimal, seen: set[str]) -> dict[str, Any]:
        linked = raw["LinkedTxn"]
        if len(linked) != 1 or not isinstance(linked[0], dict):
            raise QboError.business("A deposit line links exactly one payment")
        txn_type, txn_id = linked[0].get("TxnType"), str(linked[0].get("TxnId", "")).strip()
        if txn_type != "Payment":
            raise QboError.business(f"The sandbox deposits payments, not {txn_type}")
        payment = ctx.books.get("Payment", txn_id)
        if payment is None:
            raise QboError.invalid_reference("Payment", txn_id)
        if ref_value(payment.doc, "DepositToAccountRef") != ctx.books.roles["undeposited"]:
            raise QboError.business(f"Payment {txn_id} is not waiting in Undeposited Funds")
        own = ctx.existing.id if ctx.existing else None
        if (payment.deposited_in and payment.deposited_in != own) or txn_id in seen:
            raise QboError.business(f"Payment {txn_id} has already been deposited")
        if value != payment.doc.get("TotalAmt"):
            raise QboError.business(
                f"The line amount {number(value)} must equal the payment amount {number(payment.doc['TotalAmt'])}"
            )
        seen.add(txn_id)
        return {"TxnId": txn_id, "TxnType": "Payment", "TxnLineId": "0"}

    def postings(self, ctx: Ctx, doc: dict[str, Any]) -> list[Posting]:
        rate = doc.get("ExchangeRate", Decimal(1))
        target = ref_value(doc, "DepositToAccountRef")
        assert target is not None
        out = [booking(target, doc["TotalAmt"], rate)]
        for line in doc.get("Line", []):
            source = ref_value(line["DepositLineDetail"], "AccountRef") if "DepositLineDetail" in line \
                else ctx.books.roles["undeposited"]
            assert source is not None
            out.append(booking(source, -line["Amount"], rate))
        return [posting for posting in out if posting[2]]

    def link(self, ctx: Ctx, record: Record) -> None:
        for payment_id in _deposited(record.doc):
            payment = ctx.books.get("Payment", payment_id)
            if payment is not None:
                payment.deposited_in = record.id

    def unlink(self, ctx: Ctx, record: Record) -> None:
        for payment_id in _deposited(record.doc):
            payment = ctx.books.get("Payment", payment_id)
            if payment is not None and payment.deposited_in == record.id:
                payment.deposited_in = None


def _deposited(doc: dict[str, Any]) -> list[str]:
    return [line["LinkedTxn"][0]["TxnId"] for line in doc.get("Line", []) if line.get("LinkedTxn")]


class TransferRules(Rules):
    kind = "Transfer"

    def normalize(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        source = ctx.account(doc, "FromAccountRef", BALANCE_SHEET)
        target = ctx.account(doc, "ToAccountRef", BALANCE_SHEET)
        assert source is not None and target is not None
        if source.id == target.id:
            raise QboError.business("The From and To accounts of a transfer must be different")
        value = amount(doc.get("Amount"), "Amount")
        if value <= 0:
            raise QboError.business("The transfer amount must be greater than zero")
        currency = account_currency(ctx, source)
        if account_currency(ctx, target) != currency:
            raise QboError.business("The sandbox transfers only between accounts of the same currency")
        _currency(ctx, doc, currency)
        doc.update(FromAccountRef=name_ref(source), ToAccountRef=name_ref(target), Amount=value,
                   TxnDate=_dated(ctx, doc))

    def postings(self, ctx: Ctx, doc: dict[str, Any]) -> list[Posting]:
        rate = doc.get("ExchangeRate", Decimal(1))
        source, target = ref_value(doc, "FromAccountRef"), ref_value(doc, "ToAccountRef")
        assert source is not None and target is not None
        return [booking(target, doc["Amount"], rate), booking(source, -doc["Amount"], rate)]


class PurchaseRules(Rules):
    kind = "Purchase"
    readonly: ClassVar[frozenset[str]] = frozenset({"TotalAmt", "TotalCostAmount", "HomeTotalCostAmount",
                                                    "LinkedTxn", "PurchaseEx"})

    def normalize(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        payer = ctx.account(doc, "AccountRef", ("Bank", "Credit Card", "Other Current Asset"))
        assert payer is not None
        kind = doc.get("PaymentType")
        if kind is None:
            raise QboError.required("PaymentType")
        if kind not in PAYMENT_TYPES:
            raise QboError.invalid_value(str(kind), "PaymentTypeEnum")
        if (kind == "CreditCard") != (payer.doc.get("AccountType") == "Credit Card"):
            raise QboError.business(f"PaymentType {kind} does not match account {payer.doc.get('Name')}")
        raw_lines = doc.get("Line")
        if not raw_lines:
            raise QboError.required("Line")
        lines = [self._line(ctx, raw, n) for n, raw in enumerate(raw_lines, start=1)]
        check_enum(doc, "PrintStatus", PRINT_STATUS, "PrintStatusEnum")
        check_enum(doc, "GlobalTaxCalculation", GLOBAL_TAX, "GlobalTaxCalculationEnum")
        if "Credit" in doc:
            doc["Credit"] = boolean(doc["Credit"], "Credit")
        entity = doc.get("EntityRef")
        if isinstance(entity, dict) and entity.get("type") == "Customer":
            customer = ctx.customer(doc, "EntityRef")
            assert customer is not None
            doc["EntityRef"] = {**name_ref(customer), "type": "Customer"}
        _currency(ctx, doc, account_currency(ctx, payer))
        doc.update(AccountRef=name_ref(payer), TxnDate=_dated(ctx, doc), Line=lines,
                   TotalAmt=sum_amounts(line["Amount"] for line in lines))

    @staticmethod
    def _line(ctx: Ctx, raw: Any, number_: int) -> dict[str, Any]:
        check_line_keys(raw)
        value = amount(raw.get("Amount"), "Line.Amount")
        kind = raw.get("DetailType")
        if kind != "AccountBasedExpenseLineDetail":
            if kind is None:
                raise QboError.required("Line.DetailType")
            raise QboError.business(f"Line type {kind} cannot be used on a purchase in the sandbox")
        detail = dict(raw.get(kind) or {})
        account = ctx.account(detail, "AccountRef", required=False)
        if account is None:
            raise QboError.required("Line.AccountBasedExpenseLineDetail.AccountRef")
        detail["AccountRef"] = name_ref(account)
        check_enum(detail, "BillableStatus", BILLABLE, "BillableStatusEnum")
        if not detail.get("TaxInclusiveAmt"):
            detail.pop("TaxInclusiveAmt", None)
        if detail.get("CustomerRef"):
            customer = ctx.customer(detail)
            assert customer is not None
            detail["CustomerRef"] = name_ref(customer)
        line: dict[str, Any] = {"Id": str(number_), "LineNum": number_, "Amount": value, "DetailType": kind,
                                kind: detail}
        if raw.get("Description"):
            line["Description"] = raw["Description"]
        return line

    def postings(self, ctx: Ctx, doc: dict[str, Any]) -> list[Posting]:
        rate = doc.get("ExchangeRate", Decimal(1))
        sign = -1 if doc.get("Credit") else 1
        payer = ref_value(doc, "AccountRef")
        assert payer is not None
        out = [booking(payer, -sign * doc["TotalAmt"], rate)]
        for line in doc.get("Line", []):
            account = ref_value(line["AccountBasedExpenseLineDetail"], "AccountRef")
            assert account is not None
            out.append(booking(account, sign * line["Amount"], rate))
        return [posting for posting in out if posting[2] != ZERO]
