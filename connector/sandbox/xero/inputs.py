"""Turn Xero request elements (what the SDK PUTs/POSTs) into ledger calls, and echo them back.

Parsing is forgiving where Xero is (either an ID or a code/number/name may identify a
record) and strict where the ledger needs it (dates, amounts). A parse problem becomes a
validation message on that element, never a crash. Echoes copy back only values the
sandbox itself re-serialises, so an error body is always valid against the spec.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from connector.sandbox.xero import wire
from connector.sandbox.xero.items import ItemInput
from connector.sandbox.xero.model import money
from connector.sandbox.xero.state import LineInput, PaymentInput
from connector.sandbox.xero.wire import WireError

Element = dict[str, Any]
#: The spec's BankTransaction.Type values: the only ones an echo may carry.
BANK_TRANSACTION_TYPES = (
    "RECEIVE",
    "RECEIVE-OVERPAYMENT",
    "RECEIVE-PREPAYMENT",
    "SPEND",
    "SPEND-OVERPAYMENT",
    "SPEND-PREPAYMENT",
    "RECEIVE-TRANSFER",
    "SPEND-TRANSFER",
)


def _ref(el: Element, key: str) -> Element:
    value = el.get(key)
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).replace("\x00", "")


def _guid(value: Any, errors: list[str], what: str) -> str | None:
    if value in (None, ""):
        return None
    guid = wire.parse_guid(value)
    if guid is None:
        errors.append(f"{what} is not a valid ID")
    return guid


def _date(el: Element, key: str, errors: list[str]) -> Any:
    if el.get(key) in (None, ""):
        return None
    try:
        return wire.parse_date(el[key], key)
    except WireError as exc:
        errors.append(str(exc))
        return None


#: The largest amount the sandbox takes (Xero keeps amounts as .NET decimals; beyond this a
#: figure is nonsense and would only overflow the arithmetic).
_LIMIT = Decimal("1e15")


def _decimal(el: Element, key: str, errors: list[str]) -> Any:
    if el.get(key) is None or el.get(key) == "":
        return None
    try:
        value = wire.parse_decimal(el[key], key)
    except WireError as exc:
        errors.append(str(exc))
        return None
    if abs(value) >= _LIMIT:
        errors.append(f"{key} is too large")
        return None
    return value


def _places(value: Decimal | None, places: int) -> Decimal | None:
    """Rounded (half up) to ``places`` decimals, as Xero keeps quantities (4) and unit amounts
    (2, or 4 with ``unitdp=4``)."""
    if value is None:
        return None
    try:
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return value


def lines(raw: Any, errors: list[str], unitdp: int = 2) -> list[LineInput] | None:
    """Line items; unit amounts are rounded to ``unitdp`` places (Xero: "By default, the API
    accepts unit prices (UnitAmount) to two decimals places"; ``unitdp=4`` opts in to four)."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        errors.append("LineItems must be a list")
        return []
    out = []
    for item in raw:
        if not isinstance(item, dict):
            errors.append("LineItems must be a list of objects")
            continue
        out.append(
            LineInput(
                description=_text(item.get("Description")) or "",
                quantity=_places(_decimal(item, "Quantity", errors), 4),
                unit_amount=_places(_decimal(item, "UnitAmount", errors), 4 if unitdp == 4 else 2),
                line_amount=_decimal(item, "LineAmount", errors),
                account_code=_text(item.get("AccountCode")),
                tax_type=_text(item.get("TaxType")),
                item_code=_text(item.get("ItemCode")),
            )
        )
    return out


def payment(el: Element) -> tuple[PaymentInput, list[str]]:
    errors: list[str] = []
    invoice, account = _ref(el, "Invoice"), _ref(el, "Account")
    amount = _decimal(el, "Amount", errors)
    p = PaymentInput(
        amount=money(amount) if amount is not None else None,
        invoice_id=_guid(invoice.get("InvoiceID"), errors, "InvoiceID"),
        invoice_number=_text(invoice.get("InvoiceNumber") or el.get("InvoiceNumber")),
        account_id=_guid(account.get("AccountID"), errors, "AccountID"),
        account_code=_text(account.get("Code") or el.get("Code")),
        date=_date(el, "Date", errors),
        reference=_text(el.get("Reference")),
        currency_rate=_decimal(el, "CurrencyRate", errors),
        is_reconciled=wire.parse_bool(el.get("IsReconciled")),
        credit_note_given=bool(_ref(el, "CreditNote") or el.get("CreditNoteNumber")),
    )
    if p.currency_rate is not None and p.currency_rate <= 0:
        errors.append("CurrencyRate must be greater than zero")
    return p, errors


def echo_payment(p: PaymentInput) -> Element:
    doc: Element = {}
    if p.date is not None:
        doc["Date"] = wire.ms_date(p.date)
    if p.amount is not None:
        doc["Amount"] = wire.amount(p.amount)
    if p.reference is not None:
        doc["Reference"] = p.reference
    invoice: Element = {}
    if p.invoice_id:
        invoice["InvoiceID"] = p.invoice_id
    if p.invoice_number:
        invoice["InvoiceNumber"] = p.invoice_number
    if invoice:
        doc["Invoice"] = invoice
    account: Element = {}
    if p.account_id:
        account["AccountID"] = p.account_id
    if p.account_code:
        account["Code"] = p.account_code
    if account:
        doc["Account"] = account
    return doc


def _contact(el: Element, errors: list[str]) -> dict[str, str | None]:
    contact = _ref(el, "Contact")
    return {
        "contact_id": _guid(contact.get("ContactID"), errors, "ContactID"),
        "contact_name": _text(contact.get("Name")),
    }


def invoice(el: Element, unitdp: int = 2) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    kwargs: dict[str, Any] = {
        **_contact(el, errors),
        "type": _text(el.get("Type")) or "ACCREC",
        "status": _text(el.get("Status")) or "DRAFT",
        "date": _date(el, "Date", errors),
        "due_date": _date(el, "DueDate", errors),
        "number": _text(el.get("InvoiceNumber")),
        "reference": _text(el.get("Reference")),
        "currency": _text(el.get("CurrencyCode")),
        "currency_rate": _decimal(el, "CurrencyRate", errors),
        "line_amount_types": _text(el.get("LineAmountTypes")) or "Exclusive",
        "lines": lines(el.get("LineItems"), errors, unitdp),
    }
    return kwargs, errors


def invoice_update(el: Element, unitdp: int = 2) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    kwargs: dict[str, Any] = {
        "status": _text(el.get("Status")),
        "date": _date(el, "Date", errors),
        "due_date": _date(el, "DueDate", errors),
        "reference": _text(el.get("Reference")),
        "lines": lines(el.get("LineItems"), errors, unitdp),
        "line_amount_types": _text(el.get("LineAmountTypes")),
        "sent_to_contact": wire.parse_bool(el["SentToContact"]) if "SentToContact" in el else None,
    }
    return kwargs, errors


def echo_invoice(el: Element, kwargs: dict[str, Any]) -> Element:
    doc: Element = {}
    if kwargs.get("type") in ("ACCREC", "ACCPAY"):
        doc["Type"] = kwargs["type"]
    if kwargs.get("number"):
        doc["InvoiceNumber"] = kwargs["number"]
    if kwargs.get("reference") is not None:
        doc["Reference"] = kwargs["reference"]
    if kwargs.get("date") is not None:
        doc["Date"] = wire.ms_date(kwargs["date"])
    if kwargs.get("due_date") is not None:
        doc["DueDate"] = wire.ms_date(kwargs["due_date"])
    if kwargs.get("status") in ("DRAFT", "SUBMITTED", "AUTHORISED", "DELETED", "VOIDED", "PAID"):
        doc["Status"] = kwargs["status"]
    guid = wire.parse_guid(el.get("InvoiceID"))
    if guid:
        doc["InvoiceID"] = guid
    return doc


def credit_note(el: Element, unitdp: int = 2) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    kwargs: dict[str, Any] = {
        **_contact(el, errors),
        "type": _text(el.get("Type")) or "ACCRECCREDIT",
        "status": _text(el.get("Status")) or "DRAFT",
        "date": _date(el, "Date", errors),
        "number": _text(el.get("CreditNoteNumber")),
        "reference": _text(el.get("Reference")),
        "currency": _text(el.get("CurrencyCode")),
        "currency_rate": _decimal(el, "CurrencyRate", errors),
        "line_amount_types": _text(el.get("LineAmountTypes")) or "Exclusive",
        "lines": lines(el.get("LineItems"), errors, unitdp),
    }
    return kwargs, errors


def echo_credit_note(kwargs: dict[str, Any]) -> Element:
    doc: Element = {}
    if kwargs.get("type") in ("ACCRECCREDIT", "ACCPAYCREDIT"):
        doc["Type"] = kwargs["type"]
    if kwargs.get("number"):
        doc["CreditNoteNumber"] = kwargs["number"]
    if kwargs.get("reference") is not None:
        doc["Reference"] = kwargs["reference"]
    if kwargs.get("date") is not None:
        doc["Date"] = wire.ms_date(kwargs["date"])
    return doc


#: What Xero writes for a reference it was not given.
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def allocation(el: Element) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    invoice = _ref(el, "Invoice")
    ref = _guid(invoice.get("InvoiceID"), errors, "InvoiceID") or _text(invoice.get("InvoiceNumber"))
    if not ref:
        errors.append("An Invoice must be specified")
    # pyxero writes an allocation's amount as AppliedAmount (as Xero's own XML examples do).
    amount = _decimal(el, "Amount" if el.get("Amount") not in (None, "") else "AppliedAmount", errors)
    if amount is None:
        errors.append("Amount must be specified")
    return {"invoice_id": ref, "amount": amount, "date": _date(el, "Date", errors)}, errors


def echo_allocation(kwargs: dict[str, Any], today: date) -> Element:
    """Amount, Invoice and Date are required by the spec and by the SDK's model: a refused element
    echoes what it could not read as Xero echoes an empty value, a zero amount and the empty GUID."""
    doc: Element = {"Amount": wire.amount(kwargs["amount"] if kwargs.get("amount") is not None else Decimal(0))}
    doc["Date"] = wire.ms_date(kwargs.get("date") or today)
    ref = kwargs.get("invoice_id")
    if ref and wire.parse_guid(ref):
        doc["Invoice"] = {"InvoiceID": ref}
    elif ref:
        doc["Invoice"] = {"InvoiceNumber": ref}
    else:
        doc["Invoice"] = {"InvoiceID": EMPTY_GUID}
    return doc


def _account_ref(el: Element, key: str, errors: list[str]) -> tuple[str | None, str | None]:
    ref = _ref(el, key)
    return _guid(ref.get("AccountID"), errors, f"{key}.AccountID"), _text(ref.get("Code"))


def bank_transfer(el: Element) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    from_id, from_code = _account_ref(el, "FromBankAccount", errors)
    to_id, to_code = _account_ref(el, "ToBankAccount", errors)
    kwargs = {
        "amount": _decimal(el, "Amount", errors),
        "from_account_id": from_id,
        "from_code": from_code,
        "to_account_id": to_id,
        "to_code": to_code,
        "date": _date(el, "Date", errors),
        "reference": _text(el.get("Reference")),
        "from_reconciled": wire.parse_bool(el.get("FromIsReconciled")),
        "to_reconciled": wire.parse_bool(el.get("ToIsReconciled")),
    }
    return kwargs, errors


def echo_bank_transfer(kwargs: dict[str, Any]) -> Element:
    doc: Element = {}
    for key, side in (("FromBankAccount", "from"), ("ToBankAccount", "to")):
        ref: Element = {}
        if kwargs.get(f"{side}_account_id"):
            ref["AccountID"] = kwargs[f"{side}_account_id"]
        if kwargs.get(f"{side}_code"):
            ref["Code"] = kwargs[f"{side}_code"]
        doc[key] = ref
    if kwargs.get("amount") is not None:
        doc["Amount"] = wire.amount(kwargs["amount"])
    if kwargs.get("date") is not None:
        doc["Date"] = wire.ms_date(kwargs["date"])
    if kwargs.get("reference") is not None:
        doc["Reference"] = kwargs["reference"]
    return doc


def bank_transaction(el: Element, unitdp: int = 2) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    account_id, account_code = _account_ref(el, "BankAccount", errors)
    kwargs: dict[str, Any] = {
        **_contact(el, errors),
        "type": _text(el.get("Type")) or "",
        "bank_account_id": account_id,
        "bank_account_code": account_code,
        "date": _date(el, "Date", errors),
        "reference": _text(el.get("Reference")),
        "line_amount_types": _text(el.get("LineAmountTypes")) or "Exclusive",
        "currency": _text(el.get("CurrencyCode")),
        "currency_rate": _decimal(el, "CurrencyRate", errors),
        "is_reconciled": wire.parse_bool(el.get("IsReconciled")),
        "status": _text(el.get("Status")) or "AUTHORISED",
        "lines": lines(el.get("LineItems"), errors, unitdp) or [],
    }
    return kwargs, errors


def _echo_lines(lines: list[LineInput] | None) -> list[Element]:
    out: list[Element] = []
    for line in lines or []:
        doc: Element = {"Description": line.description}
        if line.quantity is not None:
            doc["Quantity"] = wire.amount4(line.quantity)
        if line.unit_amount is not None:
            doc["UnitAmount"] = wire.amount(line.unit_amount)
        if line.line_amount is not None:
            doc["LineAmount"] = wire.amount(line.line_amount)
        if line.account_code:
            doc["AccountCode"] = line.account_code
        if line.tax_type:
            doc["TaxType"] = line.tax_type
        out.append(doc)
    return out


def echo_bank_transaction(kwargs: dict[str, Any]) -> Element:
    """Type, LineItems and BankAccount are required by the spec and by the SDK's model."""
    doc: Element = {}
    if kwargs.get("type") in BANK_TRANSACTION_TYPES:
        doc["Type"] = kwargs["type"]
    contact: Element = {}
    if kwargs.get("contact_id"):
        contact["ContactID"] = kwargs["contact_id"]
    if kwargs.get("contact_name"):
        contact["Name"] = kwargs["contact_name"]
    if contact:
        doc["Contact"] = contact
    doc["LineItems"] = _echo_lines(kwargs.get("lines"))
    account: Element = {}
    if kwargs.get("bank_account_id"):
        account["AccountID"] = kwargs["bank_account_id"]
    if kwargs.get("bank_account_code"):
        account["Code"] = kwargs["bank_account_code"]
    doc["BankAccount"] = account
    if kwargs.get("date") is not None:
        doc["Date"] = wire.ms_date(kwargs["date"])
    if kwargs.get("reference") is not None:
        doc["Reference"] = kwargs["reference"]
    if kwargs.get("line_amount_types") in ("Exclusive", "Inclusive", "NoTax"):
        doc["LineAmountTypes"] = kwargs["line_amount_types"]
    return doc


def contact(el: Element) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    kwargs = {
        "name": _text(el.get("Name")) or "",
        "email": _text(el.get("EmailAddress")),
        "first_name": _text(el.get("FirstName")),
        "last_name": _text(el.get("LastName")),
        "number": _text(el.get("ContactNumber")),
    }
    return kwargs, errors


def echo_contact(kwargs: dict[str, Any]) -> Element:
    return {"Name": kwargs["name"]} if kwargs.get("name") else {}


def item(el: Element, unitdp: int = 2) -> tuple[ItemInput, list[str]]:
    errors: list[str] = []
    sales, purchase = _ref(el, "SalesDetails"), _ref(el, "PurchaseDetails")
    places = 4 if unitdp == 4 else 2
    data = ItemInput(
        code=_text(el.get("Code")),
        name=_text(el.get("Name")),
        description=_text(el.get("Description")),
        purchase_description=_text(el.get("PurchaseDescription")),
        is_sold=wire.parse_bool(el["IsSold"]) if el.get("IsSold") not in (None, "") else None,
        is_purchased=wire.parse_bool(el["IsPurchased"]) if el.get("IsPurchased") not in (None, "") else None,
        sales_unit_price=_places(_decimal(sales, "UnitPrice", errors), places),
        sales_account_code=_text(sales.get("AccountCode")),
        sales_tax_type=_text(sales.get("TaxType")),
        purchase_unit_price=_places(_decimal(purchase, "UnitPrice", errors), places),
        purchase_account_code=_text(purchase.get("AccountCode")),
        purchase_tax_type=_text(purchase.get("TaxType")),
    )
    if wire.parse_bool(el.get("IsTrackedAsInventory")):
        errors.append("The sandbox does not track inventory: IsTrackedAsInventory must be false")
    return data, errors


def echo_item(data: ItemInput) -> Element:
    """Code is required by the spec and by the SDK's model."""
    doc: Element = {"Code": data.code or ""}
    if data.name:
        doc["Name"] = data.name
    return doc


def batch_payment(el: Element) -> tuple[dict[str, Any], list[str]]:
    """A batch: the account and date it is made on, and its payments (each an invoice and an amount)."""
    errors: list[str] = []
    account = _ref(el, "Account")
    raw = el.get("Payments")
    payments: list[PaymentInput] = []
    if not isinstance(raw, list):
        errors.append("A batch payment must contain at least one payment")
    else:
        for one in raw:
            p, problems = payment(one if isinstance(one, dict) else {})
            errors.extend(problems)
            payments.append(p)
    kwargs = {
        "payments": payments,
        "account_id": _guid(account.get("AccountID"), errors, "AccountID"),
        "account_code": _text(account.get("Code")),
        "date": _date(el, "Date", errors),
        "reference": _text(el.get("Reference")),
    }
    if not (kwargs["account_id"] or kwargs["account_code"]):
        errors.append("An Account must be specified")
    return kwargs, errors


def echo_batch_payment(kwargs: dict[str, Any]) -> Element:
    doc: Element = {}
    account: Element = {}
    if kwargs.get("account_id"):
        account["AccountID"] = kwargs["account_id"]
    if kwargs.get("account_code"):
        account["Code"] = kwargs["account_code"]
    if account:
        doc["Account"] = account
    if kwargs.get("reference") is not None:
        doc["Reference"] = kwargs["reference"]
    if kwargs.get("date") is not None:
        doc["Date"] = wire.ms_date(kwargs["date"])
    doc["Payments"] = [echo_payment(p) for p in kwargs.get("payments") or []]
    return doc


def history_note(el: Element) -> tuple[str, list[str]]:
    details = _text(el.get("Details"))
    return details or "", [] if details and details.strip() else ["The Details of a history note must be specified"]
