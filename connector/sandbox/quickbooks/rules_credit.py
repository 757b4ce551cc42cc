"""Credit memos: a credit to a customer, used up by payments.

QBO's CreditMemo API offers create, read, query, update, delete (and send/PDF), no void
(Intuit's API reference; python-quickbooks gives CreditMemo the delete mixin only), so a
void answers 500 Unsupported Operation. A credit memo is applied to an invoice the way QBO
does it: a Payment whose lines link the Invoice (the amount it settles) and the CreditMemo
(the credit it uses), its TotalAmt being what is left to pay, 0 when the credit covers it.
The memo's ``RemainingCredit`` (and ``Balance``, which QBO keeps equal to it) drops, its
LinkedTxn names the payment, and the customer's balance counts the remaining credit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from connector.sandbox.quickbooks.books import Books
from connector.sandbox.quickbooks.model import ZERO, Posting, Record
from connector.sandbox.quickbooks.rules_base import Ctx, Rules, booking, check_enum, name_ref, ref_value
from connector.sandbox.quickbooks.rules_sales import (
    EMAIL_STATUS,
    GLOBAL_TAX,
    PRINT_STATUS,
    currency_and_rate,
    invoice_lines,
    next_doc_number,
    refresh_open,
    sales_form_defaults,
    set_currency,
)
from connector.sandbox.quickbooks.wire import QboError, number, parse_date


def refresh_credit_memo(books: Books, memo: Record) -> None:
    """RemainingCredit and Balance = TotalAmt less what payments used; the customer's credit follows."""
    moved = refresh_open(books, memo, "RemainingCredit")
    books.credit(ref_value(memo.doc, "CustomerRef"), moved)


class CreditMemoRules(Rules):
    kind = "CreditMemo"
    readonly: ClassVar[frozenset[str]] = frozenset({
        "TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt", "RemainingCredit", "LinkedTxn", "TxnTaxDetail",
        "TotalCostAmount", "HomeTotalCostAmount", "CreditMemoEx",
    })

    def normalize(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        customer = ctx.customer(doc)
        assert customer is not None
        existing = ctx.existing
        used = sum(ctx.books.applied.get(existing.id, {}).values(), ZERO) if existing else ZERO
        if existing is not None and used and ref_value(existing.doc, "CustomerRef") != customer.id:
            raise QboError.business("The customer can't be changed on a credit memo a payment has used")
        currency, rate = currency_and_rate(ctx, doc, customer)
        check_enum(doc, "PrintStatus", PRINT_STATUS, "PrintStatusEnum")
        check_enum(doc, "EmailStatus", EMAIL_STATUS, "EmailStatusEnum")
        check_enum(doc, "GlobalTaxCalculation", GLOBAL_TAX, "GlobalTaxCalculationEnum")
        lines, total = invoice_lines(doc.get("Line"), "credit memo")
        if total < used:
            raise QboError.business(
                f"The credit memo total {number(total)} can't be less than the credit payments used ({number(used)})"
            )
        previous = existing.doc if existing else {}
        txn_date = parse_date(doc.get("TxnDate")) or parse_date(previous.get("TxnDate")) or ctx.today
        if not doc.get("DocNumber"):
            doc["DocNumber"] = previous.get("DocNumber") or next_doc_number(ctx.books)
        doc["CustomerRef"] = name_ref(customer)
        set_currency(ctx, doc, currency, rate)
        doc.update(TxnDate=txn_date.isoformat(), Line=lines, TxnTaxDetail={"TotalTax": ZERO}, TotalAmt=total,
                   Balance=total, RemainingCredit=total, LinkedTxn=[])
        sales_form_defaults(ctx, doc, currency, rate, total)

    def postings(self, ctx: Ctx, doc: dict[str, Any]) -> list[Posting]:
        value, rate = doc["TotalAmt"], doc.get("ExchangeRate", Decimal(1))
        if not value:
            return []
        return [booking(ctx.books.roles["ar"], -value, rate), booking(ctx.books.roles["income"], value, rate)]

    def link(self, ctx: Ctx, record: Record) -> None:
        record.doc["RemainingCredit"] = ZERO  # refresh credits the customer with all that is left
        refresh_credit_memo(ctx.books, record)

    def unlink(self, ctx: Ctx, record: Record) -> None:
        ctx.books.credit(ref_value(record.doc, "CustomerRef"), -record.doc.get("RemainingCredit", ZERO))

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        """A memo a payment used stays until that payment lets go of it (the payment's books would
        no longer add up). QBO's own wording for this refusal is not known."""
        users = sorted(ctx.books.applied.get(record.id, {}))
        if users:
            raise QboError.business(
                f"Credit memo {record.doc.get('DocNumber')} is used by payment {', '.join(users)}; "
                "remove it from the payment before you delete it"
            )
