"""Xero's JSON, written the way Xero writes it and read the way Xero reads it.

Out: ``/Date(ms+0000)/`` stamps, date-only fields as midnight UTC of the organisation's
calendar date (the SDK turns any other offset into the UTC date and could shift a day),
amounts as JSON numbers with exactly two places (never binary floats), real booleans,
absent fields left out rather than null, and enum values only from the spec.
In: ``/Date(ms)/`` or ISO dates, numbers as Decimal, ``True``/``False`` query booleans.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from connector.sandbox.xero.model import (
    Account,
    Allocation,
    BankTransaction,
    BankTransfer,
    BatchPayment,
    Contact,
    CreditNote,
    HistoryRecord,
    Invoice,
    Item,
    LineItem,
    Organisation,
    Overpayment,
    Payment,
    Prepayment,
)
from connector.sandbox.xero.model import id_key as model_id_key
from connector.sandbox.xero.model import parse_guid as model_parse_guid
from connector.sandbox.xero.state import Tenant


class Number(str):
    """A JSON number kept as its exact digits ("46.00", never 46.0); written unquoted.

    Being a type (not a marker inside the text) means no string a user typed can turn
    into a number on the way out.
    """

    __slots__ = ()


_Q2, _Q4, _Q6 = Decimal("0.01"), Decimal("0.0001"), Decimal("0.000001")
_EPOCH_DAY = date(1970, 1, 1)


class WireError(ValueError):
    """A value in a request that Xero would not understand."""


# --- writing -----------------------------------------------------------------------------
def amount(value: Decimal) -> str:
    return Number(format(value.quantize(_Q2), "f"))


def amount4(value: Decimal) -> str:
    return Number(format(value.quantize(_Q4), "f"))


def rate(value: Decimal) -> str:
    return Number(format(value.quantize(_Q6), "f"))


def rate4(value: Decimal) -> str:
    return Number(format(value.quantize(_Q4), "f"))


def ms_date(value: date) -> str:
    """A calendar date as Xero sends date-only fields: midnight UTC of that date."""
    return f"/Date({(value - _EPOCH_DAY).days * 86_400_000}+0000)/"


def ms_stamp(ms: int) -> str:
    return f"/Date({ms}+0000)/"


def date_string(value: date) -> str:
    return f"{value.isoformat()}T00:00:00"


def iso_stamp(ms: int) -> str:
    """Xero's ISO companion form (no offset, UTC), e.g. 2024-06-03T09:00:00.123."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def _default(value: Any) -> Any:
    """What orjson hands back: a Number is written unquoted, any other str subclass as its text."""
    if type(value) is Number:
        return orjson.Fragment(str(value))
    if isinstance(value, str):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not part of Xero's wire format")


_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(document: Any) -> bytes:
    """Compact JSON with Numbers unquoted and date literals escaped as Xero writes them.

    orjson (the stdlib's C encoder called back into Python for every string, which was most of the
    sandbox's CPU in a 100k benchmark). Non-ASCII text is UTF-8, not \\u escapes: the same JSON.
    """
    body = orjson.dumps(document, default=_default, option=_OPTIONS)
    # Xero escapes the slashes of its date literals: "\\/Date(1539993600000+0000)\\/". ``\\/`` is
    # JSON's escape for ``/`` anywhere in a string, so escaping every such pair reads the same.
    return body.replace(b'"/Date(', b'"\\/Date(').replace(b')/"', b')\\/"')


def envelope(
    key: str,
    items: list[dict[str, Any]],
    provider: str,
    now_ms: int,
    pagination: dict[str, int] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": provider,
        "DateTimeUTC": f"/Date({now_ms})/",
    }
    if pagination is not None:
        doc["pagination"] = pagination
    doc[key] = items
    return doc


def pagination(page: int, page_size: int, item_count: int) -> dict[str, int]:
    page_count = (item_count + page_size - 1) // page_size
    return {"page": page, "pageSize": page_size, "pageCount": page_count, "itemCount": item_count}


def validation_error(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": elements,
    }


def simple_error(number: int, kind: str, message: str) -> dict[str, Any]:
    return {"ErrorNumber": number, "Type": kind, "Message": message}


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """The identity layer's 401/403 body, exactly as Xero sends it (``Type`` is null there)."""
    return {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }


def errors_list(messages: list[str]) -> list[dict[str, str]]:
    return [{"Message": m} for m in messages]


# --- resources ---------------------------------------------------------------------------
def contact_ref(c: Contact) -> dict[str, Any]:
    doc: dict[str, Any] = {"ContactID": c.id, "Name": c.name}
    if c.email:
        doc["EmailAddress"] = c.email
    return doc


def account_ref(a: Account) -> dict[str, Any]:
    return {"AccountID": a.id, "Code": a.code, "Name": a.name}


def line_item(li: LineItem, unitdp: int = 2) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "LineItemID": li.id,
        "Description": li.description,
        "Quantity": amount4(li.quantity),
        "UnitAmount": amount4(li.unit_amount) if unitdp == 4 else amount(li.unit_amount),
    }
    if li.item_code:
        doc["ItemCode"] = li.item_code
    if li.account_code:
        doc["AccountCode"] = li.account_code
    doc["TaxType"] = li.tax_type
    doc["TaxAmount"] = amount(li.tax_amount)
    doc["LineAmount"] = amount(li.line_amount)
    doc["Tracking"] = []
    return doc


def invoice(inv: Invoice, t: Tenant, view: str = "full", unitdp: int = 2) -> dict[str, Any]:
    """One invoice. ``view``: "full" (single GET, writes, paged lists), "list" (unpaged
    lists: no line items) or "summary" (summaryOnly: no line items, payments or credits)."""
    doc: dict[str, Any] = {"Type": inv.type, "InvoiceID": inv.id, "InvoiceNumber": inv.number}
    if inv.reference is not None:
        doc["Reference"] = inv.reference
    if view != "summary":
        doc["Payments"] = [
            _invoice_payment(t.payments[pid]) for pid in inv.payment_ids if t.payments[pid].status != "DELETED"
        ]
        live = [t.allocations[aid] for aid in inv.allocation_ids if not t.allocations[aid].is_deleted]
        doc["CreditNotes"] = [_invoice_credit(t, a) for a in live if a.credit_note_id]
        doc["Prepayments"] = [_invoice_prepayment(t, a) for a in live if a.prepayment_id is not None]
        doc["Overpayments"] = [_invoice_overpayment(t, a) for a in live if a.overpayment_id is not None]
    doc["AmountDue"] = amount(inv.amount_due)
    doc["AmountPaid"] = amount(inv.amount_paid)
    doc["AmountCredited"] = amount(inv.amount_credited)
    doc["CurrencyRate"] = rate(inv.currency_rate)
    doc["IsDiscounted"] = False
    doc["HasAttachments"] = False
    doc["HasErrors"] = False
    doc["Contact"] = contact_ref(t.contacts[inv.contact_id])
    doc["DateString"] = date_string(inv.date)
    doc["Date"] = ms_date(inv.date)
    doc["DueDateString"] = date_string(inv.due_date)
    doc["DueDate"] = ms_date(inv.due_date)
    doc["Status"] = inv.status
    doc["LineAmountTypes"] = inv.line_amount_types
    if view == "full":
        doc["LineItems"] = [line_item(li, unitdp) for li in inv.lines]
    doc["SubTotal"] = amount(inv.sub_total)
    doc["TotalTax"] = amount(inv.total_tax)
    doc["Total"] = amount(inv.total)
    doc["UpdatedDateUTC"] = ms_stamp(inv.updated_ms)
    doc["CurrencyCode"] = inv.currency
    if inv.fully_paid_on is not None:
        doc["FullyPaidOnDate"] = ms_date(inv.fully_paid_on)
    if inv.type == "ACCREC":
        doc["SentToContact"] = inv.sent_to_contact
    return doc


def _invoice_payment(p: Payment) -> dict[str, Any]:
    doc: dict[str, Any] = {"PaymentID": p.id, "Date": ms_date(p.date), "Amount": amount(p.amount)}
    if p.reference is not None:
        doc["Reference"] = p.reference
    doc["CurrencyRate"] = rate(p.currency_rate)
    doc["HasAccount"] = False
    doc["HasValidationErrors"] = False
    return doc


def _invoice_credit(t: Tenant, a: Allocation) -> dict[str, Any]:
    note = t.credit_notes[a.credit_note_id]
    return {
        "CreditNoteID": note.id,
        "CreditNoteNumber": note.number,
        "AppliedAmount": amount(a.amount),
        "DateString": date_string(note.date),
        "Date": ms_date(note.date),
        "LineItems": [],
        "Total": amount(note.total),
        "HasErrors": False,
    }


def _invoice_overpayment(t: Tenant, a: Allocation) -> dict[str, Any]:
    """An overpayment as the invoice lists it: which one, and how much of it went here."""
    op = t.overpayments[a.overpayment_id or ""]
    return {
        "OverpaymentID": op.id,
        "Date": ms_date(a.date),
        "AppliedAmount": amount(a.amount),
        "Total": amount(op.total),
        "LineItems": [],
    }


def _invoice_prepayment(t: Tenant, a: Allocation) -> dict[str, Any]:
    """A prepayment as the invoice lists it: which one, and how much of it went here."""
    pp = t.prepayments[a.prepayment_id or ""]
    return {
        "PrepaymentID": pp.id,
        "Date": ms_date(a.date),
        "AppliedAmount": amount(a.amount),
        "Total": amount(pp.total),
        "LineItems": [],
    }


def invoice_ref(inv: Invoice, t: Tenant) -> dict[str, Any]:
    """The invoice as embedded in a payment or allocation."""
    return {
        "Type": inv.type,
        "InvoiceID": inv.id,
        "InvoiceNumber": inv.number,
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "IsDiscounted": False,
        "HasErrors": False,
        "Contact": contact_ref(t.contacts[inv.contact_id]),
        "CurrencyCode": inv.currency,
    }


def payment(p: Payment, t: Tenant) -> dict[str, Any]:
    account = t.accounts[p.account_id]
    doc: dict[str, Any] = {"PaymentID": p.id, "Date": ms_date(p.date)}
    bank_amount = p.amount
    inv = t.invoices.get(p.invoice_id or "")
    if inv is not None and (account.currency or t.org.base_currency) != inv.currency and p.currency_rate:
        bank_amount = p.amount / p.currency_rate
    doc["BankAmount"] = amount(bank_amount)
    doc["Amount"] = amount(p.amount)
    if p.reference is not None:
        doc["Reference"] = p.reference
    doc["CurrencyRate"] = rate(p.currency_rate)
    doc["PaymentType"] = p.payment_type
    doc["Status"] = p.status
    doc["UpdatedDateUTC"] = ms_stamp(p.updated_ms)
    doc["HasAccount"] = True
    doc["IsReconciled"] = p.is_reconciled
    doc["Account"] = {"AccountID": account.id, "Code": account.code}
    if inv is not None:
        doc["Invoice"] = invoice_ref(inv, t)
    if p.batch_payment_id is not None:
        doc["BatchPaymentID"] = p.batch_payment_id
    doc["HasValidationErrors"] = False
    return doc


def account(a: Account) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "AccountID": a.id,
        "Code": a.code,
        "Name": a.name,
        "Status": a.status,
        "Type": a.type,
    }
    if a.tax_type:
        doc["TaxType"] = a.tax_type
    if a.description:
        doc["Description"] = a.description
    doc["Class"] = a.account_class
    if a.system_account:
        doc["SystemAccount"] = a.system_account
    doc["EnablePaymentsToAccount"] = a.enable_payments
    doc["ShowInExpenseClaims"] = False
    if a.is_bank:
        doc["BankAccountType"] = "BANK"
        if a.bank_account_number:
            doc["BankAccountNumber"] = a.bank_account_number
    if a.currency:
        doc["CurrencyCode"] = a.currency
    doc["HasAttachments"] = False
    doc["UpdatedDateUTC"] = ms_stamp(a.updated_ms)
    doc["AddToWatchlist"] = False
    return doc


def contact(c: Contact, summary: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {"ContactID": c.id, "ContactStatus": c.status, "Name": c.name}
    if c.first_name:
        doc["FirstName"] = c.first_name
    if c.last_name:
        doc["LastName"] = c.last_name
    if c.email:
        doc["EmailAddress"] = c.email
    if c.number:
        doc["ContactNumber"] = c.number
    if not summary:
        street: dict[str, Any] = {"AddressType": "STREET"}
        if c.street:
            street.update({"AddressLine1": c.street})
        if c.city:
            street["City"] = c.city
        if c.country:
            street["Country"] = c.country
        doc["Addresses"] = [{"AddressType": "POBOX"}, street]
        doc["Phones"] = [{"PhoneType": "DEFAULT"}, {"PhoneType": "MOBILE"}]
        doc["ContactGroups"] = []
        doc["ContactPersons"] = []
    doc["UpdatedDateUTC"] = ms_stamp(c.updated_ms)
    doc["IsSupplier"] = c.is_supplier
    doc["IsCustomer"] = c.is_customer
    if c.default_currency:
        doc["DefaultCurrency"] = c.default_currency
    doc["HasAttachments"] = False
    doc["HasValidationErrors"] = False
    return doc


def organisation(o: Organisation) -> dict[str, Any]:
    return {
        "OrganisationID": o.id,
        "Name": o.name,
        "LegalName": o.legal_name,
        "PaysTax": True,
        "Version": o.version,
        "OrganisationType": "COMPANY",
        "BaseCurrency": o.base_currency,
        "CountryCode": o.country,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": o.year_end_day,
        "FinancialYearEndMonth": o.year_end_month,
        "SalesTaxBasis": o.sales_tax_basis,
        "SalesTaxPeriod": o.sales_tax_period,
        "DefaultSalesTax": "Tax Exclusive",
        "DefaultPurchasesTax": "Tax Inclusive",
        "CreatedDateUTC": ms_stamp(o.created_ms),
        "OrganisationEntityType": "COMPANY",
        "Timezone": o.timezone,
        "ShortCode": o.short_code,
        "Edition": "BUSINESS",
        "Class": "STANDARD",
        "LineOfBusiness": o.line_of_business,
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def credit_note(n: CreditNote, t: Tenant, unitdp: int = 2) -> dict[str, Any]:
    doc = _credit({"CreditNoteID": n.id, "CreditNoteNumber": n.number, "Type": n.type}, n, t, unitdp, HasErrors=False)
    if n.fully_paid_on is not None:
        doc["FullyPaidOnDate"] = ms_date(n.fully_paid_on)
    return doc


def _credit(
    doc: dict[str, Any], c: CreditNote | Overpayment | Prepayment, t: Tenant, unitdp: int = 2, **flags: bool
) -> dict[str, Any]:
    """What a credit note and an overpayment both show after their ids, in Xero's order: the
    credit left and where it went, then contact, dates and amounts. ``flags`` follow
    HasAttachments (a credit note's HasErrors)."""
    if c.reference is not None:
        doc["Reference"] = c.reference
    doc["RemainingCredit"] = amount(c.remaining_credit)
    doc["Allocations"] = [
        _allocation_summary(t.allocations[a], t) for a in c.allocation_ids if not t.allocations[a].is_deleted
    ]
    doc["Payments"] = []
    doc["HasAttachments"] = False
    doc.update(flags)
    doc["Contact"] = contact_ref(t.contacts[c.contact_id])
    doc["DateString"] = date_string(c.date)
    doc["Date"] = ms_date(c.date)
    _status_and_amounts(doc, c, unitdp)
    doc["CurrencyCode"] = c.currency
    doc["CurrencyRate"] = rate(c.currency_rate)
    return doc


def _allocation_summary(a: Allocation, t: Tenant) -> dict[str, Any]:
    """An allocation as the credit note or overpayment it came from lists it."""
    inv = t.invoices[a.invoice_id]
    return {
        "AllocationID": a.id,
        "Amount": amount(a.amount),
        "Date": ms_date(a.date),
        "Invoice": {"InvoiceID": inv.id, "InvoiceNumber": inv.number},
    }


def allocation(a: Allocation, t: Tenant) -> dict[str, Any]:
    """An allocation as ``PUT .../Allocations`` answers it, naming the credit note or the
    overpayment the credit came from."""
    if a.overpayment_id is not None:
        op = t.overpayments[a.overpayment_id]
        source: dict[str, Any] = {"Overpayment": {"OverpaymentID": op.id, "Type": op.type}}
    elif a.prepayment_id is not None:
        pp = t.prepayments[a.prepayment_id]
        source = {"Prepayment": {"PrepaymentID": pp.id, "Type": pp.type}}
    else:
        note = t.credit_notes[a.credit_note_id]
        source = {"CreditNote": {"CreditNoteID": note.id, "CreditNoteNumber": note.number, "Type": note.type}}
    return {
        "AllocationID": a.id,
        "Amount": amount(a.amount),
        "Date": ms_date(a.date),
        "Invoice": invoice_ref(t.invoices[a.invoice_id], t),
        **source,
        "IsDeleted": a.is_deleted,
    }


def bank_transfer(b: BankTransfer, t: Tenant) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "BankTransferID": b.id,
        "CreatedDateUTC": ms_stamp(b.created_ms),
        "DateString": date_string(b.date),
        "Date": ms_date(b.date),
        "FromBankAccount": account_ref(t.accounts[b.from_account_id]),
        "ToBankAccount": account_ref(t.accounts[b.to_account_id]),
        "Amount": amount(b.amount),
        "FromBankTransactionID": b.from_transaction_id,
        "ToBankTransactionID": b.to_transaction_id,
        "FromIsReconciled": b.from_reconciled,
        "ToIsReconciled": b.to_reconciled,
    }
    if b.reference is not None:
        doc["Reference"] = b.reference
    doc["CurrencyRate"] = rate(b.currency_rate)
    doc["HasAttachments"] = False
    doc["Status"] = b.status
    return doc


def bank_transaction(b: BankTransaction, t: Tenant, unitdp: int = 2) -> dict[str, Any]:
    doc: dict[str, Any] = {"BankTransactionID": b.id, "Type": b.type}
    if b.contact_id:
        doc["Contact"] = contact_ref(t.contacts[b.contact_id])
    doc["BankAccount"] = account_ref(t.accounts[b.bank_account_id])
    doc["IsReconciled"] = b.is_reconciled
    doc["DateString"] = date_string(b.date)
    doc["Date"] = ms_date(b.date)
    if b.reference is not None:
        doc["Reference"] = b.reference
    doc["CurrencyCode"] = b.currency
    doc["CurrencyRate"] = rate(b.currency_rate)
    if b.overpayment_id is not None:
        doc["OverpaymentID"] = b.overpayment_id
    if b.prepayment_id is not None:
        doc["PrepaymentID"] = b.prepayment_id
    _status_and_amounts(doc, b, unitdp)
    doc["HasAttachments"] = False
    return doc


def _status_and_amounts(
    doc: dict[str, Any], x: CreditNote | Overpayment | Prepayment | BankTransaction, unitdp: int = 2
) -> None:
    """Status, lines and totals, and UpdatedDateUTC, as credit notes, overpayments, prepayments
    and bank transactions show them."""
    doc["Status"] = x.status
    doc["LineAmountTypes"] = x.line_amount_types
    doc["LineItems"] = [line_item(li, unitdp) for li in x.lines]
    doc["SubTotal"] = amount(x.sub_total)
    doc["TotalTax"] = amount(x.total_tax)
    doc["Total"] = amount(x.total)
    doc["UpdatedDateUTC"] = ms_stamp(x.updated_ms)


def overpayment(op: Overpayment, t: Tenant) -> dict[str, Any]:
    return _credit({"OverpaymentID": op.id, "Type": op.type}, op, t)


def prepayment(pp: Prepayment, t: Tenant, unitdp: int = 2) -> dict[str, Any]:
    """A prepayment: its Reference is the invoice number Xero gave it (spec: "Returns Invoice
    number field")."""
    doc: dict[str, Any] = {"PrepaymentID": pp.id, "Type": pp.type, "Reference": pp.number, "InvoiceNumber": pp.number}
    doc["RemainingCredit"] = amount(pp.remaining_credit)
    doc["Allocations"] = [
        _allocation_summary(t.allocations[a], t) for a in pp.allocation_ids if not t.allocations[a].is_deleted
    ]
    doc["Payments"] = []
    doc["HasAttachments"] = False
    doc["Contact"] = contact_ref(t.contacts[pp.contact_id])
    doc["DateString"] = date_string(pp.date)
    doc["Date"] = ms_date(pp.date)
    _status_and_amounts(doc, pp, unitdp)
    doc["CurrencyCode"] = pp.currency
    doc["CurrencyRate"] = rate(pp.currency_rate)
    return doc


def batch_payment(b: BatchPayment, t: Tenant) -> dict[str, Any]:
    """A batch payment as the spec's example shows it: the account, the payments (each with its
    invoice), the total."""
    account = t.accounts[b.account_id]
    payments = []
    for payment_id in b.payment_ids:
        p = t.payments[payment_id]
        item: dict[str, Any] = {}
        inv = t.invoices.get(p.invoice_id or "")
        if inv is not None:
            item["Invoice"] = invoice_ref(inv, t)
        item["PaymentID"] = p.id
        item["Amount"] = amount(p.amount)
        item["BankAmount"] = amount(p.amount)
        payments.append(item)
    doc: dict[str, Any] = {"Account": {"AccountID": account.id, "Code": account.code}}
    if b.reference is not None:
        doc["Reference"] = b.reference
    doc["BatchPaymentID"] = b.id
    doc["DateString"] = date_string(b.date)
    doc["Date"] = ms_date(b.date)
    doc["Payments"] = payments
    doc["Type"] = b.type
    doc["Status"] = b.status
    doc["TotalAmount"] = amount(b.total)
    doc["UpdatedDateUTC"] = ms_stamp(b.updated_ms)
    doc["IsReconciled"] = b.is_reconciled
    return doc


def item(i: Item, unitdp: int = 2) -> dict[str, Any]:
    def details(price: Decimal | None, account_code: str | None, tax_type: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if price is not None:
            out["UnitPrice"] = amount4(price) if unitdp == 4 else amount(price)
        if account_code:
            out["AccountCode"] = account_code
        if tax_type:
            out["TaxType"] = tax_type
        return out

    doc: dict[str, Any] = {"ItemID": i.id, "Code": i.code}
    if i.description:
        doc["Description"] = i.description
    if i.purchase_description:
        doc["PurchaseDescription"] = i.purchase_description
    doc["UpdatedDateUTC"] = ms_stamp(i.updated_ms)
    doc["PurchaseDetails"] = details(i.purchase_unit_price, i.purchase_account_code, i.purchase_tax_type)
    doc["SalesDetails"] = details(i.sales_unit_price, i.sales_account_code, i.sales_tax_type)
    doc["Name"] = i.name
    doc["IsTrackedAsInventory"] = False
    doc["IsSold"] = i.is_sold
    doc["IsPurchased"] = i.is_purchased
    return doc


#: Names of the currencies the seeded organisations use (ISO 4217).
CURRENCY_NAMES = {
    "AUD": "Australian Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound",
    "NZD": "New Zealand Dollar",
    "USD": "United States Dollar",
}


def currency(code: str) -> dict[str, Any]:
    return {"Code": code, "Description": CURRENCY_NAMES.get(code, code)}


#: ReportTaxType of each tax type the seeded organisations use (values from the spec's enum).
_REPORT_TAX_TYPE = {"OUTPUT2": "OUTPUT", "INPUT2": "INPUT", "OUTPUT": "OUTPUT", "INPUT": "INPUT"}


def tax_rate(code: str, value: Decimal, t: Tenant) -> dict[str, Any]:
    """One of the organisation's tax rates. Sales types apply to revenue, purchase types to
    expenses and assets, the rest to everything."""
    percent = value * 100
    shown = format(percent.normalize(), "f") if percent else "0"
    tax = "VAT" if t.org.version == "UK" else ("Sales Tax" if t.org.version == "US" else "GST")
    sales, purchases = code.startswith(("OUTPUT", "EXEMPTOUTPUT", "ZERORATEDOUTPUT")), code.startswith("INPUT")
    if code == "NONE":
        name = f"No {tax}"
    elif percent == 0:
        name = f"Zero Rated ({code.title()})"
    else:
        name = f"{shown}% {tax} on {'Income' if sales else 'Expenses'}"
    report = _REPORT_TAX_TYPE.get(code, code if code in ("NONE", "EXEMPTOUTPUT", "ZERORATEDOUTPUT") else "NONE")
    return {
        "Name": name,
        "TaxType": code,
        "ReportTaxType": report,
        "CanApplyToAssets": not sales,
        "CanApplyToEquity": not (sales or purchases),
        "CanApplyToExpenses": not sales,
        "CanApplyToLiabilities": not (sales or purchases),
        "CanApplyToRevenue": not purchases,
        "DisplayTaxRate": rate4(percent),
        "EffectiveRate": rate4(percent),
        "Status": "ACTIVE",
        "TaxComponents": [{"Name": tax, "Rate": rate4(percent), "IsCompound": False, "IsNonRecoverable": False}],
    }


def branding_theme(t: Tenant) -> dict[str, Any]:
    """The one branding theme every organisation starts with ("Standard", sort order 0)."""
    return {
        "BrandingThemeID": standard_theme_id(t),
        "Name": "Standard",
        "Type": "INVOICE",
        "SortOrder": 0,
        "CreatedDateUTC": ms_stamp(t.org.created_ms),
    }


def standard_theme_id(t: Tenant) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero-sandbox/{t.id}/branding-theme/standard"))


def history_record(h: HistoryRecord, created: bool = False) -> dict[str, Any]:
    """A line of History and notes; as ``PUT .../History`` answers a new note (``created``) it
    carries only the note, its dates and no errors, like the spec's example."""
    doc: dict[str, Any] = {}
    if not created:
        doc["Changes"] = h.changes
    doc["DateUTCString"] = iso_stamp(h.date_ms).split(".")[0]
    doc["DateUTC"] = ms_stamp(h.date_ms)
    if not created:
        doc["User"] = h.user
    doc["Details"] = h.details
    if created:
        doc["ValidationErrors"] = []
    return doc


def online_invoice_url(inv: Invoice) -> str:
    """A stable https://in.xero.com/… link for the invoice (40 letters and digits, as Xero's)."""
    digest = uuid.uuid5(uuid.NAMESPACE_URL, f"xero-sandbox/online/{inv.id}").hex
    digest += uuid.uuid5(uuid.NAMESPACE_URL, f"xero-sandbox/online2/{inv.id}").hex
    return "https://in.xero.com/" + digest[:40]


# --- reading -----------------------------------------------------------------------------
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{2,4})?\)/$")


def parse_date(value: Any, field: str = "Date") -> date:
    """A date-only field: ``/Date(ms[+hhmm])/`` (the SDK sends midnight UTC) or ISO."""
    if isinstance(value, str):
        text = value.strip()
        match = _MS_DATE.match(text)
        if match:
            return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()
        try:
            return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text)
        except ValueError:
            pass
    raise WireError(f"{field} is not a valid date")


def parse_decimal(value: Any, field: str = "Amount") -> Decimal:
    if isinstance(value, bool) or value is None:
        raise WireError(f"{field} must be a number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise WireError(f"{field} must be a number") from None
    if not number.is_finite():
        raise WireError(f"{field} must be a number")
    return number


def parse_bool(value: Any, default: bool = False) -> bool:
    """Query and body booleans: the SDK sends Python's ``True``/``False``."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


def parse_guid(value: Any) -> str | None:
    """A GUID in any format Xero takes (see ``model.parse_guid``), canonical; else ``None``."""
    return model_parse_guid(value)


def id_key(ref: str) -> str:
    """The key a record is looked up by (see ``model.id_key``)."""
    return model_id_key(ref)


def parse_if_modified_since(value: str | None) -> int | None:
    """The header as epoch ms, truncated to the second (Xero is "accurate to the second").

    Accepts the SDK's ISO form (``2024-01-02T03:04:05+00:00``, naive = UTC) and RFC 1123.
    Anything unreadable is ignored, as an HTTP server ignores a bad conditional header.
    """
    if not value:
        return None
    text = value.strip()
    when: datetime | None = None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp()) * 1000


def midnight_ms(value: date) -> int:
    return int(datetime.combine(value, time(0), tzinfo=UTC).timestamp() * 1000)
