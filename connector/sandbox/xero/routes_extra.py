"""The accounting endpoints clients call around the money: reference data (``/Currencies``,
``/TaxRates``, ``/Items``, ``/BrandingThemes``), an invoice's ``OnlineInvoice`` link and
``Email``, History and notes on every record that has them, ``/BatchPayments`` and
``/Prepayments`` (with their allocations, which lower an invoice's AmountDue).

Prepayments are created as in Xero, through ``PUT /BankTransactions`` with Type
``RECEIVE-PREPAYMENT`` (see :mod:`connector.sandbox.xero.prepayments`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request

from connector.sandbox.xero import inputs, wire, xmlwire
from connector.sandbox.xero.items import note_errors
from connector.sandbox.xero.listing import (
    CURRENCY_FIELDS,
    ITEM_FIELDS,
    TAX_RATE_FIELDS,
    batch_payment_fields,
    prepayment_fields,
)
from connector.sandbox.xero.routes_common import (
    accounting,
    allocation_batch,
    bad_body,
    csv_param,
    current_tenant,
    elements_of,
    envelope,
    list_response,
    not_found,
    read_body,
    record_response,
    summarize_errors,
    unitdp,
    write_batch,
)
from connector.sandbox.xero.state import LedgerError, NotFound, Tenant
from connector.sandbox.xero.web import json_response, sandbox

#: Every collection of Xero's Accounting API (the vendored spec's paths): a route under one of
#: them that the sandbox lacks answers 501, never a 404 that reads like "no such id".
XERO_RESOURCES = frozenset(
    {
        "accounts", "banktransactions", "banktransfers", "batchpayments", "brandingthemes", "budgets", "contacts",
        "contactgroups", "creditnotes", "currencies", "expenseclaims", "invoices", "invoicereminders", "items",
        "journals", "linkedtransactions", "manualjournals", "organisation", "organisations", "overpayments",
        "payments", "paymentservices", "prepayments", "purchaseorders", "quotes", "receipts", "repeatinginvoices",
        "reports", "setup", "taxrates", "trackingcategories", "users", "employees",
    }
)


def _refused(echo: dict[str, Any], errors: list[str]) -> Response:
    return json_response(wire.validation_error([{**echo, "ValidationErrors": wire.errors_list(errors)}]), 400)


# --- currencies, tax rates, branding themes -----------------------------------------------------
def _currencies(t: Tenant) -> list[tuple[str, str]]:
    codes = [t.org.base_currency, *sorted(c for c in t.currencies if c != t.org.base_currency)]
    return [(code, wire.CURRENCY_NAMES.get(code, code)) for code in codes]


@accounting.route("/Currencies", methods=["GET"])
def get_currencies() -> Response:
    """The organisation's base currency first, then the ones it has added."""
    t = current_tenant()
    order = {code: n for n, (code, _) in enumerate(_currencies(t))}
    return list_response(
        "Currencies",
        _currencies(t),
        CURRENCY_FIELDS,
        lambda c: wire.currency(c[0]),
        updated=lambda _c: 0,
        paged=False,
        default_sort=lambda c: order[c[0]],
    )


def _tax_rates(t: Tenant) -> list[tuple[str, Any, str]]:
    return [(code, value, wire.tax_rate(code, value, t)["Name"]) for code, value in sorted(t.org.tax_rates.items())]


@accounting.route("/TaxRates", methods=["GET"])
def get_tax_rates() -> Response:
    """``where``/``order``, and the ``TaxType`` filter the older clients send."""
    t = current_tenant()
    wanted = request.args.get("TaxType")
    return list_response(
        "TaxRates",
        _tax_rates(t),
        TAX_RATE_FIELDS,
        lambda r: wire.tax_rate(r[0], r[1], t),
        updated=lambda _r: 0,
        paged=False,
        extra=(lambda r: r[0] == wanted) if wanted else None,
        default_sort=lambda r: r[2],
    )


@accounting.route("/TaxRates/<tax_type>", methods=["GET"])
def get_tax_rate(tax_type: str) -> Response:
    t = current_tenant()
    value = t.org.tax_rates.get(tax_type.upper())
    if value is None:
        return not_found()
    return json_response(envelope("TaxRates", [wire.tax_rate(tax_type.upper(), value, t)]))


@accounting.route("/BrandingThemes", methods=["GET"])
def get_branding_themes() -> Response:
    return json_response(envelope("BrandingThemes", [wire.branding_theme(current_tenant())]))


@accounting.route("/BrandingThemes/<theme_id>", methods=["GET"])
def get_branding_theme(theme_id: str) -> Response:
    t = current_tenant()
    if wire.id_key(theme_id) != wire.standard_theme_id(t):
        return not_found()
    return json_response(envelope("BrandingThemes", [wire.branding_theme(t)]))


# --- items --------------------------------------------------------------------------------------
@accounting.route("/Items", methods=["GET"])
def get_items() -> Response:
    t, places = current_tenant(), unitdp()
    return list_response(
        "Items",
        t.items.values(),
        ITEM_FIELDS,
        lambda i: wire.item(i, places),
        updated=lambda i: i.updated_ms,
        paged=False,
        default_sort=lambda i: i.code,
    )


@accounting.route("/Items/<item_ref>", methods=["GET"])
def get_item(item_ref: str) -> Response:
    """By ItemID or by Code (Xero takes either)."""
    t = current_tenant()
    found = t.item(item_id=item_ref)
    if found is None:
        return not_found()
    return json_response(envelope("Items", [wire.item(found, unitdp())]))


@accounting.route("/Items", methods=["PUT", "POST"])
def put_items() -> Response:
    """PUT creates; POST updates the item an element names (by ItemID or Code) or creates it."""
    sb, t, places = sandbox(), current_tenant(), unitdp()
    updating = request.method == "POST"

    def parse(el: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        data, errors = inputs.item(el, places)
        existing = None
        if updating:
            existing = t.item(item_id=str(el["ItemID"])) if el.get("ItemID") else None
            if el.get("ItemID") and existing is None:
                errors.append("Item could not be found")
            existing = existing or (t.item(code=data.code) if data.code else None)
        if not errors:
            errors = sb.ledger.check_item(t, data, existing)
        return {"data": data, "existing": existing.id if existing else None}, errors

    def apply(kw: dict[str, Any]) -> Any:
        if kw["existing"]:
            return sb.ledger.update_item(t.id, kw["existing"], kw["data"])
        return sb.ledger.create_item(t.id, kw["data"])

    return write_batch(
        "Items",
        elements_of(read_body(), "Items"),
        parse,
        lambda _e, kw: inputs.echo_item(kw["data"]) if "data" in kw else {"Code": ""},
        apply,
        lambda i: wire.item(i, places),
        None,
        summarize_errors(),
    )


@accounting.route("/Items/<item_ref>", methods=["POST"])
def post_item(item_ref: str) -> Response:
    sb, t, places = sandbox(), current_tenant(), unitdp()
    elements = elements_of(read_body(), "Items")
    if not elements or not isinstance(elements[0], dict):
        return bad_body("The request body must contain Items")
    with sb.ledger.lock:
        found = t.item(item_id=item_ref)
        if found is None:
            return not_found()
        data, errors = inputs.item(elements[0], places)
        if not errors:
            try:
                found = sb.ledger.update_item(t.id, found.id, data)
            except LedgerError as exc:
                errors = exc.messages
        if errors:
            return _refused({"ItemID": found.id, **inputs.echo_item(data)}, errors)
        document = envelope("Items", [wire.item(found, places)])
    return json_response(document)


@accounting.route("/Items/<item_ref>", methods=["DELETE"])
def delete_item(item_ref: str) -> Response:
    sb, t = sandbox(), current_tenant()
    with sb.ledger.lock:
        found = t.item(item_id=item_ref)
        if found is None:
            return not_found()
        sb.ledger.delete_item(t.id, found.id)
    return Response(status=204)


# --- an invoice's online link and email ----------------------------------------------------------
@accounting.route("/Invoices/<ref>/OnlineInvoice", methods=["GET"])
def get_online_invoice(ref: str) -> Response:
    """The link a customer views a sales invoice at. Xero: "you can retrieve the online invoice
    url for sales (ACCREC) invoices. Note: you cannot retrieve an online invoice url for DRAFT
    invoices" (the sandbox also refuses SUBMITTED and DELETED ones)."""
    t = current_tenant()
    with sandbox().ledger.lock:
        inv = t.find_invoice(ref)
        if inv is None:
            return not_found()
        problem = None
        if inv.type != "ACCREC":
            problem = "An online invoice is only available for sales invoices (ACCREC)"
        elif inv.status in ("DRAFT", "SUBMITTED", "DELETED"):
            problem = f"An online invoice is not available for an invoice with status {inv.status}"
        if problem:
            return _refused({"InvoiceID": inv.id}, [problem])
        document = envelope("OnlineInvoices", [{"OnlineInvoiceUrl": wire.online_invoice_url(inv)}])
    return json_response(document)


@accounting.route("/Invoices/<ref>/Email", methods=["POST"])
def email_invoice(ref: str) -> Response:
    """Xero emails the invoice to its contact (204, no body) and marks it SentToContact; only
    an approved sales invoice whose contact has an email address can be sent."""
    sb, t = sandbox(), current_tenant()
    with sb.ledger.lock:
        inv = t.find_invoice(ref)
        if inv is None:
            return not_found()
        try:
            sb.ledger.email_invoice(t.id, inv.id)
        except LedgerError as exc:
            return _refused({"InvoiceID": inv.id}, exc.messages)
    return Response(status=204)


# --- history and notes ----------------------------------------------------------------------------
def _by_id_or(collection: str, number: Callable[[Any], str] | None = None) -> Callable[[Tenant, str], str | None]:
    def find(t: Tenant, ref: str) -> str | None:
        records = getattr(t, collection)
        found = records.get(wire.id_key(ref))
        if found is None and number is not None:
            found = next((r for r in records.values() if number(r) == ref), None)
        return found.id if found is not None else None

    return find


#: The records Xero keeps History and notes for, and how a path names one of them.
HISTORY: dict[str, Callable[[Tenant, str], str | None]] = {
    "Invoices": lambda t, ref: inv.id if (inv := t.find_invoice(ref)) else None,
    "CreditNotes": _by_id_or("credit_notes", lambda n: n.number),
    "Payments": _by_id_or("payments"),
    "BankTransactions": _by_id_or("bank_transactions"),
    "BankTransfers": _by_id_or("bank_transfers"),
    "Contacts": _by_id_or("contacts", lambda c: c.number or ""),
    "Overpayments": _by_id_or("overpayments"),
    "Prepayments": _by_id_or("prepayments"),
    "BatchPayments": _by_id_or("batch_payments"),
    "Items": lambda t, ref: i.id if (i := t.item(item_id=ref)) else None,
}


def _no_history(resource: str) -> Response:
    """History of a Xero collection the sandbox does not keep (501), or of no collection (404)."""
    if resource.lower() in XERO_RESOURCES:
        return not_implemented(request.method, request.path)
    return not_found()


@accounting.route("/<resource>/<ref>/History", methods=["GET"])
def get_history(resource: str, ref: str) -> Response:
    """A record's History and notes, newest first."""
    t = current_tenant()
    find = HISTORY.get(resource)
    if find is None:
        return _no_history(resource)
    with sandbox().ledger.lock:
        record_id = find(t, ref)
        if record_id is None:
            return not_found()
        document = envelope("HistoryRecords", [wire.history_record(h) for h in t.history_of(record_id)])
    return json_response(document)


@accounting.route("/<resource>/<ref>/History", methods=["PUT", "POST"])
def put_history(resource: str, ref: str) -> Response:
    """Add notes (the only history the API can write; "a POST is exactly the same as a PUT").
    Each needs ``Details`` of at most 250 characters; one bad note refuses them all."""
    sb, t = sandbox(), current_tenant()
    find = HISTORY.get(resource)
    if find is None:
        return _no_history(resource)
    raw = elements_of(read_body(), "HistoryRecords")
    with sb.ledger.lock:
        record_id = find(t, ref)
        if record_id is None:
            return not_found()
        if raw is None:
            return bad_body("The request body must contain HistoryRecords")
        notes = []
        for element in raw:
            details, errors = inputs.history_note(element if isinstance(element, dict) else {})
            notes.append((details, errors or note_errors(details)))
        if not notes or any(errors for _, errors in notes):
            elements = [
                {"Details": details, **({"ValidationErrors": wire.errors_list(e)} if e else {})}
                for details, e in notes or [("", ["The Details of a history note must be specified"])]
            ]
            return json_response(wire.validation_error(elements), 400)
        created = [sb.ledger.add_note(t.id, record_id, details) for details, _ in notes]
        document = envelope("HistoryRecords", [wire.history_record(h, created=True) for h in created])
    return json_response(document)


# --- batch payments -------------------------------------------------------------------------------
@accounting.route("/BatchPayments", methods=["GET"])
def get_batch_payments() -> Response:
    t = current_tenant()
    return list_response(
        "BatchPayments",
        t.batch_payments.values(),
        batch_payment_fields(t),
        lambda b: wire.batch_payment(b, t),
        updated=lambda b: b.updated_ms,
        paged=False,
    )


@accounting.route("/BatchPayments/<batch_id>", methods=["GET"])
def get_batch_payment(batch_id: str) -> Response:
    t = current_tenant()
    return record_response("BatchPayments", t.batch_payments, wire.id_key(batch_id), lambda r: wire.batch_payment(r, t))


@accounting.route("/BatchPayments", methods=["PUT"])
def put_batch_payments() -> Response:
    """Each batch: an account, a date and payments against invoices (all sales or all bills);
    every payment is checked before any batch is made."""
    sb, t = sandbox(), current_tenant()

    def parse(el: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        kwargs, errors = inputs.batch_payment(el)
        if not errors:
            problems = sb.ledger.check_batch_payment(
                t, kwargs["account_id"], kwargs["account_code"], kwargs["payments"]
            )
            errors = list(dict.fromkeys(m for e in problems for m in e))
        return kwargs, errors

    def apply(kw: dict[str, Any]) -> Any:
        return sb.ledger.create_batch_payment(
            t.id,
            kw["payments"],
            account_id=kw["account_id"],
            account_code=kw["account_code"],
            date=kw["date"],
            reference=kw["reference"],
        )

    return write_batch(
        "BatchPayments",
        elements_of(read_body(), "BatchPayments"),
        parse,
        lambda _e, kw: inputs.echo_batch_payment(kw),
        apply,
        lambda b: wire.batch_payment(b, t),
        None,
        summarize_errors(),
    )


def _delete_batch(batch_id: str | None, status: Any) -> Response:
    sb, t = sandbox(), current_tenant()
    with sb.ledger.lock:
        batch = t.batch_payments.get(wire.id_key(batch_id)) if batch_id else None
        if batch is None:
            return not_found()
        if status != "DELETED":
            return _refused({"BatchPaymentID": batch.id}, ["Batch payments can only be updated to a Status of DELETED"])
        try:
            batch = sb.ledger.delete_batch_payment(t.id, batch.id)
        except LedgerError as exc:
            return _refused({"BatchPaymentID": batch.id}, exc.messages)
        document = envelope("BatchPayments", [wire.batch_payment(batch, t)])
    return json_response(document)


@accounting.route("/BatchPayments", methods=["POST"])
def delete_batch_payment() -> Response:
    """``{"BatchPaymentID": …, "Status": "DELETED"}``: delete the batch and its payments."""
    elements = elements_of(read_body(), "BatchPayments")
    body = elements[0] if elements and isinstance(elements[0], dict) else None
    if body is None:
        return bad_body("The request body must contain a BatchPaymentID and a Status")
    return _delete_batch(str(body.get("BatchPaymentID") or ""), body.get("Status"))


@accounting.route("/BatchPayments/<batch_id>", methods=["POST"])
def delete_batch_payment_by_id(batch_id: str) -> Response:
    elements = elements_of(read_body(), "BatchPayments")
    status = elements[0].get("Status") if elements and isinstance(elements[0], dict) else None
    return _delete_batch(batch_id, status)


# --- prepayments ----------------------------------------------------------------------------------
@accounting.route("/Prepayments", methods=["GET"])
def get_prepayments() -> Response:
    """``where``/``order``/``page``/``pageSize``, and the ``InvoiceNumbers`` list."""
    t = current_tenant()
    numbers = set(csv_param("InvoiceNumbers"))
    return list_response(
        "Prepayments",
        t.prepayments.values(),
        prepayment_fields(t),
        lambda p: wire.prepayment(p, t),
        updated=lambda p: p.updated_ms,
        extra=(lambda p: p.number in numbers) if numbers else None,
    )


@accounting.route("/Prepayments/<prepayment_id>", methods=["GET"])
def get_prepayment(prepayment_id: str) -> Response:
    t = current_tenant()
    return record_response("Prepayments", t.prepayments, wire.id_key(prepayment_id), lambda r: wire.prepayment(r, t))


@accounting.route("/Prepayments/<prepayment_id>/Allocations", methods=["PUT"])
def put_prepayment_allocations(prepayment_id: str) -> Response:
    sb, t = sandbox(), current_tenant()
    if prepayment_id.lower() not in t.prepayments:
        return not_found()
    return allocation_batch(
        lambda kw, pending: sb.ledger.check_prepayment_allocation(
            t, prepayment_id, kw["invoice_id"], kw["amount"], pending
        ),
        lambda kw: sb.ledger.allocate_prepayment(t.id, prepayment_id, kw["invoice_id"], kw["amount"], kw["date"]),
    )


@accounting.route("/Prepayments/<source_id>/Allocations/<allocation_id>", methods=["DELETE"])
def delete_prepayment_allocation(source_id: str, allocation_id: str) -> Response:
    return _delete_credit_allocation("prepayment", source_id, allocation_id)


@accounting.route("/Overpayments/<source_id>/Allocations/<allocation_id>", methods=["DELETE"])
def delete_overpayment_allocation(source_id: str, allocation_id: str) -> Response:
    return _delete_credit_allocation("overpayment", source_id, allocation_id)


def _delete_credit_allocation(source: str, source_id: str, allocation_id: str) -> Response:
    sb, t = sandbox(), current_tenant()
    with sb.ledger.lock:
        try:
            allocation = sb.ledger.delete_credit_allocation(t.id, source, source_id, allocation_id)
        except NotFound:
            return not_found()
        document = wire.allocation(allocation, t)
    return json_response(document)


def not_implemented(method: str, path: str) -> Response:
    """A Xero endpoint the sandbox does not have: 501 (Xero's "Not Implemented"), so it cannot
    pass for "no such id". The body is an XML ApiException, which pyxero reads the message of."""
    document = wire.simple_error(
        20, "NotImplementedException", f"The Xero sandbox does not implement {method} {path} (see docs/fidelity.md)"
    )
    return Response(xmlwire.render(document), status=501, content_type=xmlwire.XML)
