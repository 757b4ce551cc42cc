"""Payments: money a customer paid, applied to invoices, paying with credit memos, or unapplied.

A payment line links one Invoice (the amount it settles) or one CreditMemo (the credit it
uses). ``TotalAmt`` is the money received: the invoices settled less the credit used, plus
whatever is left over, which QBO keeps as ``UnappliedAmt`` (customer credit; a payment with
no lines is all unapplied, Intuit's own "create a payment" example). Only ``TotalAmt`` moves
money: DepositToAccountRef (Undeposited Funds when absent; a Bank or Other Current Asset
account, in the payment's or the home currency) is debited, Accounts Receivable credited.
A payment that sits in a Deposit can't be voided or deleted until the deposit lets go of it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from connector.sandbox.quickbooks.books import Books
from connector.sandbox.quickbooks.model import ZERO, Posting, Record, money
from connector.sandbox.quickbooks.rules_banking import account_currency
from connector.sandbox.quickbooks.rules_base import (
    CASH_LIKE,
    Ctx,
    Rules,
    amount,
    booking,
    check_line_keys,
    name_ref,
    ref_value,
    sum_amounts,
)
from connector.sandbox.quickbooks.rules_credit import refresh_credit_memo
from connector.sandbox.quickbooks.rules_sales import currency_and_rate, refresh_invoice, set_currency
from connector.sandbox.quickbooks.wire import QboError, number, parse_date

LINKABLE = {"Invoice": "Invoice", "CreditMemo": "Credit memo"}


def payment_line(txn: Record, value: Decimal, open_balance: Decimal) -> dict[str, Any]:
    """A line settling ``value`` of an invoice, or using ``value`` of a credit memo's credit."""
    return {
        "Amount": value,
        "LinkedTxn": [{"TxnId": txn.id, "TxnType": txn.kind}],
        "LineEx": _line_ex(txn, open_balance),
    }


def net_applied(lines: list[dict[str, Any]]) -> Decimal:
    """Invoices settled less credit used: the part of TotalAmt the lines account for."""
    return sum_amounts(-line["Amount"] if _link(line)[0] == "CreditMemo" else line["Amount"] for line in lines)


def complete_payment(ctx: Ctx, doc: dict[str, Any], customer: Record, currency: str, rate: Decimal,
                     total: Decimal, lines: list[dict[str, Any]], deposit_to: Record, txn_date: date) -> None:
    """Fill in everything QBO computes on a payment (shared with the seeder's bulk path)."""
    doc["CustomerRef"] = name_ref(customer)
    doc["DepositToAccountRef"] = name_ref(deposit_to)
    set_currency(ctx, doc, currency, rate)
    doc.update(TxnDate=txn_date.isoformat(), TotalAmt=total, UnappliedAmt=money(total - net_applied(lines)),
               ProcessPayment=False, Line=lines)


def links(doc: dict[str, Any]) -> list[tuple[str, str, Decimal]]:
    """(kind, id, amount) for each payment line linked to an invoice or a credit memo."""
    out = []
    for line in doc.get("Line", []):
        kind, txn_id = _link(line)
        if kind in LINKABLE:
            out.append((kind, txn_id, line.get("Amount", ZERO)))
    return out


def _link(line: dict[str, Any]) -> tuple[str | None, str]:
    linked = line.get("LinkedTxn") or [{}]
    return linked[0].get("TxnType"), str(linked[0].get("TxnId", ""))


class PaymentRules(Rules):
    kind = "Payment"
    readonly: ClassVar[frozenset[str]] = frozenset({
        "UnappliedAmt", "LinkedTxn", "ProcessPayment", "TotalCostAmount", "HomeTotalCostAmount",
        "PaymentEx",
    })
    can_void = True

    def normalize(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        books = ctx.books
        customer = ctx.customer(doc)
        assert customer is not None
        currency, rate = currency_and_rate(ctx, doc, customer)
        total = amount(doc.get("TotalAmt"), "TotalAmt")
        if total < 0:
            raise QboError.business("The payment amount can't be negative")
        deposit_to = ctx.account(doc, "DepositToAccountRef", CASH_LIKE, required=False) \
            or books.account("undeposited")
        if account_currency(ctx, deposit_to) not in (currency, ctx.company.currency):
            raise QboError.business(
                f"A {currency} payment can't be deposited to {deposit_to.doc.get('Name')}, an account in "
                f"{account_currency(ctx, deposit_to)}"
            )
        ctx.account(doc, "ARAccountRef", ("Accounts Receivable",), required=False)
        lines: list[dict[str, Any]] = []
        taken: dict[str, Decimal] = {}
        for raw in doc.get("Line") or []:
            check_line_keys(raw)
            value = amount(raw.get("Amount"), "Line.Amount")
            txn = self._linked(ctx, raw, customer, currency)
            available = money(self._open(txn) - taken.get(txn.id, ZERO))
            self._check_amount(txn, value, available)
            taken[txn.id] = taken.get(txn.id, ZERO) + value
            lines.append(payment_line(txn, value, available))
        charges = sum_amounts(line["Amount"] for line in lines if _link(line)[0] == "Invoice")
        credits = charges - net_applied(lines)
        if credits > charges:
            raise QboError.business(
                f"The credits used ({number(credits)}) are more than the invoices they pay ({number(charges)})"
            )
        if charges - credits > total:
            raise QboError.business(
                f"The amounts applied ({number(charges - credits)}) are more than the payment total ({number(total)})"
            )
        previous = ctx.existing.doc if ctx.existing else {}
        txn_date = parse_date(doc.get("TxnDate")) or parse_date(previous.get("TxnDate")) or ctx.today
        complete_payment(ctx, doc, customer, currency, rate, total, lines, deposit_to, txn_date)

    @staticmethod
    def _open(txn: Record) -> Decimal:
        return txn.doc["Balance"] if txn.kind == "Invoice" else txn.doc["RemainingCredit"]

    @staticmethod
    def _check_amount(txn: Record, value: Decimal, available: Decimal) -> None:
        doc_number = txn.doc.get("DocNumber")
        if txn.kind == "Invoice":
            if value <= 0:
                raise QboError.business("The amount applied to an invoice must be greater than zero")
            if value > available:
                raise QboError.business(
                    f"The amount applied to invoice {doc_number} ({number(value)}) "
                    f"exceeds its open balance ({number(available)})"
                )
            return
        if value <= 0:
            raise QboError.business("The credit used from a credit memo must be greater than zero")
        if value > available:
            raise QboError.business(
                f"The credit used from credit memo {doc_number} ({number(value)}) "
                f"exceeds its remaining credit ({number(available)})"
            )

    @staticmethod
    def _linked(ctx: Ctx, raw: dict[str, Any], customer: Record, currency: str) -> Record:
        linked = raw.get("LinkedTxn") or []
        if len(linked) != 1 or not isinstance(linked[0], dict):
            raise QboError.business("Each payment line must link exactly one transaction")
        txn_type, txn_id = linked[0].get("TxnType"), str(linked[0].get("TxnId", "")).strip()
        label = LINKABLE.get(str(txn_type))
        if label is None:
            raise QboError.business(f"The sandbox applies payments to invoices and credit memos, not to {txn_type}")
        txn = ctx.books.get(str(txn_type), txn_id)
        if txn is None:
            raise QboError.invalid_reference(str(txn_type), txn_id)
        if ref_value(txn.doc, "CustomerRef") != customer.id:
            raise QboError.business(f"{label} {txn.doc.get('DocNumber')} belongs to another customer")
        if ref_value(txn.doc, "CurrencyRef") != currency:
            raise QboError.business(f"{label} {txn.doc.get('DocNumber')} is in another currency")
        return txn

    def postings(self, ctx: Ctx, doc: dict[str, Any]) -> list[Posting]:
        value, rate = doc["TotalAmt"], doc.get("ExchangeRate", Decimal(1))
        if not value:
            return []
        target = ref_value(doc, "DepositToAccountRef") or ctx.books.roles["undeposited"]
        return [booking(target, value, rate), booking(ctx.books.roles["ar"], -value, rate)]

    def link(self, ctx: Ctx, record: Record) -> None:
        books = ctx.books
        for kind, txn_id, value in links(record.doc):
            txn = books.get(kind, txn_id)
            if txn is None or not value:
                continue
            ctx.mark(txn)
            per_payment = books.applied.setdefault(txn_id, {})
            per_payment[record.id] = per_payment.get(record.id, ZERO) + value
            _refresh(books, txn)
        books.credit(ref_value(record.doc, "CustomerRef"), record.doc.get("UnappliedAmt", ZERO))

    def unlink(self, ctx: Ctx, record: Record) -> None:
        books = ctx.books
        books.credit(ref_value(record.doc, "CustomerRef"), -record.doc.get("UnappliedAmt", ZERO))
        for kind, txn_id, _value in links(record.doc):
            per_payment = books.applied.get(txn_id, {})
            if per_payment.pop(record.id, None) is None:
                continue
            if not per_payment:
                books.applied.pop(txn_id, None)
            txn = books.get(kind, txn_id)
            if txn is not None:
                ctx.mark(txn)
                _refresh(books, txn)

    def check_void(self, ctx: Ctx, record: Record) -> None:
        self._refuse_if_deposited(record)

    def void(self, ctx: Ctx, record: Record) -> None:
        doc = record.doc
        doc["TotalAmt"] = ZERO
        doc["UnappliedAmt"] = ZERO
        for line in doc.get("Line", []):
            line["Amount"] = ZERO
            line.pop("LineEx", None)
        doc["PrivateNote"] = "Voided"

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        self._refuse_if_deposited(record)

    @staticmethod
    def _refuse_if_deposited(record: Record) -> None:
        """Intuit's docs: "If funds for the payment have been deposited, you must delete the associated
        deposit object before voiding the payment object"; the fault is 6540, "Deposited Transaction
        cannot be changed" (Intuit's list of the API's most frequent errors), for a void or a delete."""
        if record.deposited_in:
            raise QboError.deposited()


def _refresh(books: Books, txn: Record) -> None:
    if txn.kind == "Invoice":
        refresh_invoice(books, txn)
    else:
        refresh_credit_memo(books, txn)


def _name_value(name: str, value: str) -> dict[str, Any]:
    """One JAXB-rendered NameValue, as QBO leaks it into payment lines (``LineEx.any``)."""
    return {
        "name": "{http://schema.intuit.com/finance/v3}NameValue",
        "declaredType": "com.intuit.schema.finance.v3.NameValue",
        "scope": "javax.xml.bind.JAXBElement$GlobalScope",
        "value": {"Name": name, "Value": value},
        "nil": False,
        "globalScope": True,
        "typeSubstituted": False,
    }


def _line_ex(txn: Record, open_balance: Decimal) -> dict[str, Any]:
    return {"any": [
        _name_value("txnId", txn.id),
        _name_value("txnOpenBalance", number(open_balance)),
        _name_value("txnReferenceNumber", str(txn.doc.get("DocNumber", ""))),
    ]}
