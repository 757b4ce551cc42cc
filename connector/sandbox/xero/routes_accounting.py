"""Accounting routes for reading and keeping the books' reference data and invoices:
``/Organisation``, ``/Accounts``, ``/Contacts`` and ``/Invoices``.

List semantics: ``If-Modified-Since`` is inclusive at second precision; ``page`` turns on
paging (``pageSize`` up to 1000, default 100) and the ``pagination`` object; paged and
single-invoice responses carry line items, unpaged lists do not, and ``summaryOnly``
drops line items, payments and credit notes.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, request

from connector.sandbox.xero import inputs, wire
from connector.sandbox.xero.listing import (
    ACCOUNT_FIELDS,
    CONTACT_FIELDS,
    InvoiceQuery,
)
from connector.sandbox.xero.query import QueryError
from connector.sandbox.xero.routes_common import (
    accounting,
    bad_body,
    bad_query,
    csv_param,
    current_tenant,
    elements_of,
    envelope,
    id_param,
    if_modified_since,
    list_response,
    not_found,
    page_of,
    paging,
    read_body,
    summarize_errors,
    unitdp,
    write_batch,
)
from connector.sandbox.xero.state import LedgerError
from connector.sandbox.xero.web import json_response, sandbox


# --- organisation, accounts, contacts ----------------------------------------------------------
@accounting.route("/Organisation", methods=["GET"])
@accounting.route("/Organisations", methods=["GET"])  # what pyxero asks for; Xero answers both
def get_organisation() -> Response:
    return json_response(envelope("Organisations", [wire.organisation(current_tenant().org)]))


@accounting.route("/Accounts", methods=["GET"])
def get_accounts() -> Response:
    t = current_tenant()
    return list_response(
        "Accounts",
        t.accounts.values(),
        ACCOUNT_FIELDS,
        wire.account,
        updated=lambda a: a.updated_ms,
        paged=False,
        default_sort=lambda a: a.code,
    )


@accounting.route("/Accounts", methods=["PUT"])
def put_account() -> Response:
    """One account, as xero-python's ``create_account`` sends it (an Account object, not a list)."""
    body = read_body()
    if isinstance(body, dict) and isinstance(body.get("Accounts"), list) and len(body["Accounts"]) == 1:
        body = body["Accounts"][0]  # what an XML or list-shaped client sends
    if not isinstance(body, dict) or not body:
        return bad_body("The request body must contain an Account")
    sb, t = sandbox(), current_tenant()
    try:
        account = sb.ledger.create_account(
            t.id,
            name=str(body.get("Name") or ""),
            type=str(body.get("Type") or ""),
            code=str(body["Code"]) if body.get("Code") not in (None, "") else None,
            bank_account_number=str(body.get("BankAccountNumber") or "") or None,
            currency=str(body["CurrencyCode"]) if body.get("CurrencyCode") else None,
            description=str(body.get("Description") or "") or None,
        )
    except LedgerError as exc:
        echo = {k: body[k] for k in ("Code", "Name", "Type", "BankAccountNumber") if k in body}
        return json_response(wire.validation_error([{**echo, "ValidationErrors": wire.errors_list(exc.messages)}]), 400)
    return json_response(envelope("Accounts", [wire.account(account)]))


@accounting.route("/Accounts/<account_id>", methods=["GET"])
def get_account(account_id: str) -> Response:
    account = current_tenant().account(account_id=account_id)
    if account is None:
        return not_found()
    return json_response(envelope("Accounts", [wire.account(account)]))


@accounting.route("/Contacts", methods=["GET"])
def get_contacts() -> Response:
    t = current_tenant()
    ids = set(id_param("IDs"))
    search = (request.args.get("searchTerm") or "").lower()
    include_archived = wire.parse_bool(request.args.get("includeArchived"))
    summary = wire.parse_bool(request.args.get("summaryOnly"))

    def extra(c: Any) -> bool:
        return (
            (not ids or c.id in ids)
            and (include_archived or c.status != "ARCHIVED")
            and (not search or search in c.name.lower() or search in (c.email or "").lower())
        )

    return list_response(
        "Contacts",
        t.contacts.values(),
        CONTACT_FIELDS,
        lambda c: wire.contact(c, summary),
        updated=lambda c: c.updated_ms,
        extra=extra,
    )


@accounting.route("/Contacts/<contact_id>", methods=["GET"])
def get_contact(contact_id: str) -> Response:
    t = current_tenant()
    contact = t.contacts.get(wire.id_key(contact_id)) or next(
        (c for c in t.contacts.values() if c.number == contact_id), None
    )
    if contact is None:
        return not_found()
    return json_response(envelope("Contacts", [wire.contact(contact)]))


@accounting.route("/Contacts", methods=["PUT", "POST"])
def put_contacts() -> Response:
    """PUT creates; POST creates, or updates the contact an element names by ContactID (or,
    failing that, by its exact Name), as Xero's update-or-create does."""
    sb, t = sandbox(), current_tenant()
    updating = request.method == "POST"

    def parse(el: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        kwargs, errors = inputs.contact(el)
        if updating:
            guid = wire.parse_guid(el.get("ContactID"))
            if el.get("ContactID") not in (None, "") and guid is None:
                errors.append("ContactID is not a valid ID")
            existing = t.contacts.get(guid or "") if guid else t.contact_by_name(kwargs["name"] or "")
            if guid and existing is None:
                errors.append("The contact does not exist or is not valid.")
            if existing is not None:
                kwargs["__update__"] = existing.id
        return kwargs, errors

    def apply(kw: dict[str, Any]) -> Any:
        if "__update__" in kw:
            contact_id = kw.pop("__update__")
            return sb.ledger.update_contact(t.id, contact_id, **kw)
        name = kw.pop("name")
        return sb.ledger.create_contact(t.id, name, **{k: v for k, v in kw.items() if v is not None})

    return write_batch(
        "Contacts",
        elements_of(read_body(), "Contacts"),
        parse,
        lambda _e, kw: inputs.echo_contact(kw),
        apply,
        wire.contact,
        "HasValidationErrors",
        summarize_errors(),
    )


# --- invoices ---------------------------------------------------------------------------------
@accounting.route("/Invoices", methods=["GET"])
def get_invoices() -> Response:
    sb, t = sandbox(), current_tenant()
    args = request.args
    summary = wire.parse_bool(args.get("summaryOnly"))
    places = unitdp()
    try:
        page, size = paging()
        query = InvoiceQuery(
            since_ms=if_modified_since(),
            where=args.get("where"),
            order=args.get("order"),
            ids=id_param("IDs"),
            numbers=csv_param("InvoiceNumbers"),
            contact_ids=id_param("ContactIDs"),
            statuses=tuple(s.upper() for s in csv_param("Statuses")),
            search=args.get("searchTerm") or None,
            created_by=g.grant.client_id if wire.parse_bool(args.get("createdByMyApp")) else None,
        )
        with sb.ledger.lock:
            matched = sb.query_cache.invoices(t, query)
            chunk, pagination = page_of(matched, page, size)
            view = "summary" if summary else ("full" if page is not None else "list")
            document = envelope("Invoices", [wire.invoice(inv, t, view, places) for inv in chunk], pagination)
    except QueryError as exc:
        return bad_query(exc)
    return json_response(document)


@accounting.route("/Invoices/<ref>", methods=["GET"])
def get_invoice(ref: str) -> Response:
    t = current_tenant()
    with sandbox().ledger.lock:
        inv = t.find_invoice(ref)
        if inv is None:
            return not_found()
        document = envelope("Invoices", [wire.invoice(inv, t, "full", unitdp())])
    return json_response(document)


def _create_invoice(kw: dict[str, Any]) -> Any:
    return sandbox().ledger.create_invoice(current_tenant().id, created_by=g.grant.client_id, **kw)


@accounting.route("/Invoices", methods=["PUT"])
def put_invoices() -> Response:
    t, places = current_tenant(), unitdp()
    return write_batch(
        "Invoices",
        elements_of(read_body(), "Invoices"),
        lambda el: inputs.invoice(el, places),
        inputs.echo_invoice,
        _create_invoice,
        lambda inv: wire.invoice(inv, t, "full", places),
        "HasErrors",
        summarize_errors(),
    )


@accounting.route("/Invoices", methods=["POST"])
def post_invoices() -> Response:
    """Update or create: an element naming an existing invoice updates it."""
    sb, t, places = sandbox(), current_tenant(), unitdp()

    def parse(el: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        ref = wire.parse_guid(el.get("InvoiceID")) or el.get("InvoiceNumber")
        existing = t.find_invoice(str(ref)) if ref else None
        if existing is not None:
            kwargs, errors = inputs.invoice_update(el, places)
            return {"__update__": existing.id, **kwargs}, errors
        if el.get("InvoiceID") not in (None, ""):
            # Xero: naming an invoice that is not there is an error, not a new invoice.
            return {}, ["Invoice could not be found"]
        return inputs.invoice(el, places)

    def apply(kw: dict[str, Any]) -> Any:
        if "__update__" in kw:
            invoice_id = kw.pop("__update__")
            return sb.ledger.update_invoice(t.id, invoice_id, **kw)
        return _create_invoice(kw)

    return write_batch(
        "Invoices",
        elements_of(read_body(), "Invoices"),
        parse,
        inputs.echo_invoice,
        apply,
        lambda inv: wire.invoice(inv, t, "full", places),
        "HasErrors",
        summarize_errors(),
    )


@accounting.route("/Invoices/<ref>", methods=["POST"])
def post_invoice(ref: str) -> Response:
    sb, t = sandbox(), current_tenant()
    body = read_body()
    elements = elements_of(body, "Invoices")
    if not elements or not isinstance(elements[0], dict):
        return bad_body("The request body must contain Invoices")
    with sb.ledger.lock:
        inv = t.find_invoice(ref)
        if inv is None:
            return not_found()
        kwargs, errors = inputs.invoice_update(elements[0], unitdp())
        if not errors:
            try:
                inv = sb.ledger.update_invoice(t.id, inv.id, **kwargs)
            except LedgerError as exc:
                errors = exc.messages
        if errors:
            echo = {"InvoiceID": inv.id, **inputs.echo_invoice(elements[0], kwargs)}
            return json_response(wire.validation_error([{**echo, "ValidationErrors": wire.errors_list(errors)}]), 400)
        document = envelope("Invoices", [wire.invoice(inv, t, "full", unitdp())])
    return json_response(document)
