"""Invoices, and the sales-form helpers credit memos share with them.

QBO keeps no status on an invoice: ``Balance`` and ``LinkedTxn`` tell the story. A
payment line linked to an invoice lowers its Balance and adds ``{"TxnId": <payment>,
"TxnType": "Payment"}`` to its LinkedTxn; the invoice gets a new SyncToken and
LastUpdatedTime. Voiding an invoice zeroes every amount and sets PrivateNote "Voided";
payments that were applied to it stay, unapplied (their UnappliedAmt grows). Payments
themselves live in :mod:`~connector.sandbox.quickbooks.rules_payments`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from connector.sandbox.quickbooks.books import Books
from connector.sandbox.quickbooks.model import ZERO, Posting, Record, currency_ref, money
from connector.sandbox.quickbooks.rules_base import (
    Ctx,
    Rules,
    amount,
    booking,
    check_enum,
    check_line_keys,
    decimal,
    home,
    name_ref,
    ref_value,
)
from connector.sandbox.quickbooks.wire import QboError, number, parse_date

PRINT_STATUS = ("NotSet", "NeedToPrint", "PrintComplete")
EMAIL_STATUS = ("NotSet", "NeedToSend", "EmailSent")
GLOBAL_TAX = ("TaxInclusive", "TaxExcluded", "NotApplicable")
DEFAULT_ITEM = {"value": "1", "name": "Services"}
NET_DAYS = 30


def currency_and_rate(ctx: Ctx, doc: dict[str, Any], customer: Record) -> tuple[str, Decimal]:
    """A sales transaction is in its customer's currency, at the rate sent or the company's."""
    expected = ctx.currency_of(customer)
    sent = ref_value(doc, "CurrencyRef")
    if sent is not None and sent != expected:
        raise QboError.business(
            f"The transaction currency {sent} must be the customer's currency {expected}"
        )
    rate = ctx.rate_for(expected, doc.get("ExchangeRate") if expected != ctx.company.currency else None)
    return expected, rate


def set_currency(ctx: Ctx, doc: dict[str, Any], currency: str, rate: Decimal) -> None:
    """CurrencyRef always; ExchangeRate only where multicurrency is on (QBO leaves it out otherwise)."""
    doc["CurrencyRef"] = currency_ref(currency)
    if ctx.company.multicurrency:
        doc["ExchangeRate"] = rate
    else:
        doc.pop("ExchangeRate", None)


def _sales_detail(raw: dict[str, Any], line_amount: Decimal) -> dict[str, Any]:
    detail = dict(raw.get("SalesItemLineDetail") or {})
    detail.setdefault("ItemRef", DEFAULT_ITEM)
    qty = decimal(detail["Qty"], "Qty") if "Qty" in detail else None
    price = decimal(detail["UnitPrice"], "UnitPrice") if "UnitPrice" in detail else None
    if qty and price:
        if money(qty * price) != line_amount:
            raise QboError("6070", "Amount calculation incorrect in the request",
                           f"Amount is not equal to UnitPrice * Qty. Supplied value:{number(line_amount)}")
    else:
        # The SDK sends Qty 0 and UnitPrice 0 when only Amount was set: QBO ignores them.
        detail.pop("Qty", None)
        detail.pop("UnitPrice", None)
    if not detail.get("TaxInclusiveAmt"):
        detail.pop("TaxInclusiveAmt", None)
    for key in ("Qty", "UnitPrice", "TaxInclusiveAmt"):
        if key in detail:
            detail[key] = decimal(detail[key], key)
    return detail


def _a(what: str) -> str:
    return f"an {what}" if what[0] in "aeiou" else f"a {what}"


def invoice_lines(raw_lines: Any, what: str = "invoice") -> tuple[list[dict[str, Any]], Decimal]:
    """Number the lines, compute amounts and append QBO's subtotal line (invoices and credit memos)."""
    if not raw_lines:
        raise QboError.required("Line")
    lines: list[dict[str, Any]] = []
    subtotal = ZERO
    discount = ZERO
    for raw in raw_lines:
        check_line_keys(raw)
        kind = raw.get("DetailType")
        if kind == "SubTotalLineDetail":
            continue  # QBO computes its own subtotal line
        number_ = len(lines) + 1
        if kind == "SalesItemLineDetail":
            value = amount(raw.get("Amount"), "Line.Amount")
            lines.append(sales_line(number_, value, raw.get("Description"), _sales_detail(raw, value)))
            subtotal += value
            continue
        line: dict[str, Any] = {"Id": str(number_), "LineNum": number_}
        if raw.get("Description"):
            line["Description"] = raw["Description"]
        if kind == "DescriptionOnly":
            line.update(Amount=ZERO, DetailType=kind)
            if raw.get("DescriptionLineDetail"):
                line["DescriptionLineDetail"] = dict(raw["DescriptionLineDetail"])
        elif kind == "DiscountLineDetail":
            value = amount(raw.get("Amount"), "Line.Amount")
            line.update(Amount=value, DetailType=kind,
                        DiscountLineDetail={"PercentBased": False})
            discount += value
        elif kind is None:
            raise QboError.required("Line.DetailType")
        else:
            raise QboError.business(f"Line type {kind} cannot be used on {_a(what)} in the sandbox")
        lines.append(line)
    if not any(line["DetailType"] != "DescriptionOnly" for line in lines):
        raise QboError.business(f"{_a(what).capitalize()} needs at least one sales line")
    lines.append(subtotal_line(subtotal))
    total = money(subtotal - discount)
    if total < 0:
        raise QboError.business(f"The {what} total can't be negative")
    return lines, total


def refresh_open(books: Books, record: Record, key: str = "Balance") -> Decimal:
    """What is still open on an invoice or a credit memo: TotalAmt less what payments applied.

    Sets ``key`` and Balance to it (a credit memo keeps its RemainingCredit and Balance equal),
    HomeBalance, and the payment LinkedTxn; returns how much ``key`` moved.
    """
    applied = books.applied.get(record.id, {})
    doc = record.doc
    old = doc.get(key, ZERO)
    balance = money(doc["TotalAmt"] - sum(applied.values(), ZERO))
    doc[key] = balance
    doc["Balance"] = balance
    if "HomeBalance" in doc:
        doc["HomeBalance"] = home(balance, doc.get("ExchangeRate", Decimal(1)))
    doc["LinkedTxn"] = [{"TxnId": pid, "TxnType": "Payment"} for pid in applied]
    record.json = None
    return balance - old


def refresh_invoice(books: Books, invoice: Record) -> None:
    """Recompute Balance, HomeBalance and the payment LinkedTxn; the customer's open balance follows."""
    moved = refresh_open(books, invoice)
    customer = ref_value(invoice.doc, "CustomerRef")
    if customer is not None:
        books.customer_open[customer] = books.customer_open.get(customer, ZERO) + moved


def detach_payments(ctx: Ctx, invoice: Record) -> None:
    """An invoice voided or deleted: the payments applied to it become unapplied credit."""
    books = ctx.books
    for payment_id in list(books.applied.get(invoice.id, {})):
        payment = books.get("Payment", payment_id)
        if payment is None:
            continue
        kept = []
        released = ZERO
        for line in payment.doc.get("Line", []):
            linked = line.get("LinkedTxn") or [{}]
            if linked[0].get("TxnType") == "Invoice" and linked[0].get("TxnId") == invoice.id:
                released += line.get("Amount", ZERO)
            else:
                kept.append(line)
        ctx.mark(payment)
        payment.doc["Line"] = kept
        payment.doc["UnappliedAmt"] = money(payment.doc.get("UnappliedAmt", ZERO) + released)
        books.credit(ref_value(payment.doc, "CustomerRef"), released)
        payment.json = None
    books.applied.pop(invoice.id, None)
    refresh_invoice(books, invoice)


def next_doc_number(books: Books) -> str:
    books.next_doc_number += 1
    return str(books.next_doc_number - 1)


def sales_line(number_: int, amount_: Decimal, description: str | None, detail: dict[str, Any]) -> dict[str, Any]:
    line: dict[str, Any] = {"Id": str(number_), "LineNum": number_}
    if description:
        line["Description"] = description
    line.update(Amount=amount_, DetailType="SalesItemLineDetail", SalesItemLineDetail=detail)
    return line


def subtotal_line(subtotal: Decimal) -> dict[str, Any]:
    return {"Amount": money(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}


def sales_form_defaults(ctx: Ctx, doc: dict[str, Any], currency: str, rate: Decimal, total: Decimal) -> None:
    """What QBO fills in on every sales form (invoice, credit memo) when it was not sent: print and
    email status, tax after discount; and where multicurrency is on, the home-currency total and
    balance, on every sales form, the home currency's own included (``ExchangeRate: 1``,
    ``HomeTotalAmt`` = ``TotalAmt``: real responses of multicurrency companies show both). A
    company without multicurrency gets neither, as it gets no ExchangeRate."""
    doc.setdefault("PrintStatus", "NotSet")
    doc.setdefault("EmailStatus", "NotSet")
    doc.setdefault("ApplyTaxAfterDiscount", False)
    if ctx.company.multicurrency:
        doc["HomeTotalAmt"] = home(total, rate)
        doc["HomeBalance"] = home(total, rate)
    else:
        doc.pop("HomeTotalAmt", None)
        doc.pop("HomeBalance", None)


def complete_invoice(ctx: Ctx, doc: dict[str, Any], customer: Record, currency: str, rate: Decimal,
                     lines: list[dict[str, Any]], total: Decimal, txn_date: date, due: date) -> None:
    """Fill in everything QBO computes on an invoice (shared with the seeder's bulk path)."""
    if not doc.get("DocNumber"):
        previous = ctx.existing.doc if ctx.existing else {}
        doc["DocNumber"] = previous.get("DocNumber") or next_doc_number(ctx.books)
    for key in ("AllowIPNPayment", "AllowOnlinePayment", "AllowOnlineCreditCardPayment", "AllowOnlineACHPayment"):
        doc.setdefault(key, False)
    doc["CustomerRef"] = name_ref(customer)
    set_currency(ctx, doc, currency, rate)
    doc.update(
        TxnDate=txn_date.isoformat(), DueDate=due.isoformat(), Line=lines, TxnTaxDetail={"TotalTax": ZERO},
        TotalAmt=total, Balance=total, LinkedTxn=[],
    )
    sales_form_defaults(ctx, doc, currency, rate, total)

class InvoiceRules(Rules):
    kind = "Invoice"
    readonly: ClassVar[frozenset[str]] = frozenset({
        "TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt", "LinkedTxn", "InvoiceLink", "TxnTaxDetail",
        "TotalCostAmount", "HomeTotalCostAmount", "ECloudStatusTimeStamp", "EInvoiceStatus", "Deposit",
        "AutoDocNumber",
    })
    can_void = True

    def normalize(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        books, existing = ctx.books, ctx.existing
        customer = ctx.customer(doc)
        assert customer is not None
        if existing is not None and ref_value(existing.doc, "CustomerRef") != customer.id \
                and books.applied.get(existing.id):
            raise QboError.business("The customer can't be changed on an invoice with payments applied")
        currency, rate = currency_and_rate(ctx, doc, customer)
        check_enum(doc, "PrintStatus", PRINT_STATUS, "PrintStatusEnum")
        check_enum(doc, "EmailStatus", EMAIL_STATUS, "EmailStatusEnum")
        check_enum(doc, "GlobalTaxCalculation", GLOBAL_TAX, "GlobalTaxCalculationEnum")
        lines, total = invoice_lines(doc.get("Line"))
        applied = sum(books.applied.get(existing.id, {}).values(), ZERO) if existing else ZERO
        if total < applied:
            raise QboError.business(
                f"The invoice total {number(total)} can't be less than the payments applied to it ({number(applied)})"
            )
        previous = existing.doc if existing else {}
        txn_date = parse_date(doc.get("TxnDate")) or parse_date(previous.get("TxnDate")) or ctx.today
        due = parse_date(doc.get("DueDate")) or parse_date(previous.get("DueDate")) or txn_date + timedelta(NET_DAYS)
        complete_invoice(ctx, doc, customer, currency, rate, lines, total, txn_date, due)

    def postings(self, ctx: Ctx, doc: dict[str, Any]) -> list[Posting]:
        value, rate = doc["TotalAmt"], doc.get("ExchangeRate", Decimal(1))
        if not value:
            return []
        return [booking(ctx.books.roles["ar"], value, rate), booking(ctx.books.roles["income"], -value, rate)]

    def link(self, ctx: Ctx, record: Record) -> None:
        record.doc["Balance"] = ZERO  # refresh adds the whole balance to the customer
        if "HomeBalance" in record.doc:
            record.doc["HomeBalance"] = ZERO
        refresh_invoice(ctx.books, record)

    def unlink(self, ctx: Ctx, record: Record) -> None:
        customer = ref_value(record.doc, "CustomerRef")
        if customer is not None:
            books = ctx.books
            books.customer_open[customer] = books.customer_open.get(customer, ZERO) - record.doc.get("Balance", ZERO)

    def check_void(self, ctx: Ctx, record: Record) -> None:
        detach_payments(ctx, record)

    def void(self, ctx: Ctx, record: Record) -> None:
        doc = record.doc
        for line in doc.get("Line", []):
            line["Amount"] = ZERO
        doc["TotalAmt"] = ZERO
        doc["Balance"] = ZERO
        doc["TxnTaxDetail"] = {"TotalTax": ZERO}
        for key in ("HomeTotalAmt", "HomeBalance"):
            if key in doc:
                doc[key] = ZERO
        doc["PrivateNote"] = "Voided"

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        detach_payments(ctx, record)
