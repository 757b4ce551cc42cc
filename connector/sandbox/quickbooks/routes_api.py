"""The Accounting API under ``/v3/company/{realmId}``: query, cdc, batch and the entities.

``POST /{entity}`` creates, updates (body with ``Id``), voids (``?operation=void``, or
``?operation=update&include=void`` as the SDK sends for payments) and deletes
(``?operation=delete``). ``GET /{entity}/{id}`` reads (an Id that is not a whole number is
2030 Invalid ID, one that names nothing 610). Queries come as ``GET ?query=`` or as ``POST``
with ``Content-Type: application/text`` (what python-quickbooks sends), ``SELECT *`` or a
property list.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from connector.sandbox.quickbooks.books import Books
from connector.sandbox.quickbooks.model import BY_LOWER, ENTITIES, Record
from connector.sandbox.quickbooks.query import cdc_response, query_response
from connector.sandbox.quickbooks.render import fragment
from connector.sandbox.quickbooks.web import qbo_json, read_json, sandbox, time_text
from connector.sandbox.quickbooks.wire import QboError, local_stamp

api = Blueprint("qbo_api", __name__)

MAX_BATCH_ITEMS = 30
TIME_ZONES = {-480: "Etc/GMT+8", -360: "America/Regina", 0: "Etc/UTC", 600: "Australia/Brisbane"}


def _books(realm_id: str) -> Books:
    return sandbox().ledger.books(realm_id)


def _kind(entity: str) -> str:
    kind = BY_LOWER.get(entity.lower())
    if kind is None:
        raise QboError("500", "Unsupported Operation",
                       f"Operation on entity {entity} is not supported by the sandbox", status=400)
    return kind


def deleted_stub(record: Record) -> dict[str, Any]:
    """What QBO answers a delete with: the Id and status, nothing else."""
    return {"domain": "QBO", "status": "Deleted", "Id": record.id}


def _written(books: Books, record: Record) -> Any:
    return deleted_stub(record) if record.deleted else fragment(books, record)


@api.route("/query", methods=["GET", "POST"])
def query(realm_id: str) -> Response:
    if request.method == "GET":
        text = request.args.get("query", "")
    elif request.mimetype == "application/x-www-form-urlencoded":
        text = request.form.get("query", "")
    else:
        text = request.get_data(as_text=True)
    if not text.strip():
        raise QboError.parse_error('Encountered "<EOF>". Was expecting "SELECT"')
    ledger = sandbox().ledger
    with ledger.lock:
        books = _books(realm_id)
        body = query_response(books, text, fragment)
    return qbo_json({"QueryResponse": body, "time": time_text()})


@api.route("/cdc", methods=["GET"])
def cdc(realm_id: str) -> Response:
    sb = sandbox()
    with sb.ledger.lock:
        books = _books(realm_id)
        responses = cdc_response(books, request.args.get("entities"), request.args.get("changedSince"),
                                 sb.clock.now().timestamp(), fragment)
    return qbo_json({"CDCResponse": [{"QueryResponse": responses}], "time": time_text()})


@api.route("/batch", methods=["POST"])
def batch(realm_id: str) -> Response:
    body = read_json()
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    if not isinstance(items, list) or not items:
        raise QboError.required("BatchItemRequest")
    if len(items) > MAX_BATCH_ITEMS:
        raise QboError("4000", "Operation failed",
                       f"The number of batch items ({len(items)}) exceeds the maximum of {MAX_BATCH_ITEMS}")
    sb = sandbox()
    answers: list[dict[str, Any]] = []
    for item in items:
        bid = item.get("bId") if isinstance(item, dict) else None
        try:
            if not isinstance(item, dict):
                raise QboError.required("BatchItemRequest.bId")
            answers.append({"bId": bid, **_batch_item(realm_id, item)})
        except QboError as error:
            answers.append({"bId": bid, "Fault": error.fault()})
    with sb.ledger.lock:
        return qbo_json({"BatchItemResponse": answers, "time": time_text()})


def _batch_item(realm_id: str, item: dict[str, Any]) -> dict[str, Any]:
    ledger = sandbox().ledger
    if "Query" in item:
        with ledger.lock:
            return {"QueryResponse": query_response(_books(realm_id), str(item["Query"]), fragment)}
    kinds = [key for key in item if key in ENTITIES]
    if len(kinds) != 1:
        raise QboError("2010", "Request has invalid or unsupported property",
                       "A batch item carries exactly one entity, or a Query")
    kind = kinds[0]
    with ledger.lock:
        return {kind: _batch_write(realm_id, kind, item)}


def _batch_write(realm_id: str, kind: str, item: dict[str, Any]) -> Any:
    ledger = sandbox().ledger
    operation = str(item.get("operation", "")).lower()
    options = str(item.get("optionsData", "")).lower()
    payload = item[kind]
    if operation == "create":
        record = ledger.create(realm_id, kind, payload)
    elif operation == "update" and options == "void":
        record = ledger.void(realm_id, kind, payload)
    elif operation == "update":
        record = ledger.update(realm_id, kind, payload)
    elif operation == "delete":
        record = ledger.delete(realm_id, kind, payload)
    elif not operation:
        raise QboError.required("operation")
    else:
        raise QboError.unsupported_operation(operation, kind)
    return _written(_books(realm_id), record)


@api.route("/companyinfo/<company_id>", methods=["GET"])
def company_info(realm_id: str, company_id: str) -> Response:
    books = _books(realm_id)
    if company_id != realm_id:
        raise QboError.not_found("CompanyInfo", company_id)
    company = books.company
    offset = company.utc_offset_minutes
    address = {"Id": "1", "Line1": "1 Market Lane", "City": company.city, "Country": company.country}
    info = {
        "CompanyName": company.name,
        "LegalName": company.legal_name,
        "CompanyAddr": address,
        "LegalAddr": address,
        "CompanyEmailAddr": {"Address": company.email},
        "Email": {"Address": company.email},
        "CompanyStartDate": local_stamp(company.created, offset)[:10],
        "FiscalYearStartMonth": "January",
        "Country": company.country,
        "SupportedLanguages": "en",
        "DefaultTimeZone": TIME_ZONES.get(offset, "Etc/UTC"),
        "NameValue": [{"Name": "NeoEnabled", "Value": "true"}, {"Name": "IsQbdtMigrated", "Value": "false"}],
        "domain": "QBO",
        "sparse": False,
        "Id": "1",
        "SyncToken": "1",
        "MetaData": {"CreateTime": local_stamp(company.created, offset),
                     "LastUpdatedTime": local_stamp(company.created, offset)},
    }
    return qbo_json({"CompanyInfo": info, "time": time_text()})


@api.route("/preferences", methods=["GET"])
def preferences(realm_id: str) -> Response:
    company = _books(realm_id).company
    offset = company.utc_offset_minutes
    prefs: dict[str, Any] = {
        "AccountingInfoPrefs": {"BookCloseDate": company.book_close_date},
        "CurrencyPrefs": {"MultiCurrencyEnabled": company.multicurrency, "HomeCurrency": {"value": company.currency}},
        "domain": "QBO",
        "sparse": False,
        "Id": "1",
        "SyncToken": "0",
        "MetaData": {"CreateTime": local_stamp(company.created, offset),
                     "LastUpdatedTime": local_stamp(company.created, offset)},
    }
    if not company.book_close_date:
        del prefs["AccountingInfoPrefs"]
    return qbo_json({"Preferences": prefs, "time": time_text()})


@api.route("/<entity>", methods=["POST"])
def write(realm_id: str, entity: str) -> Response:
    kind = _kind(entity)
    body = read_json()
    ledger = sandbox().ledger
    with ledger.lock:  # render the state this write left, not a later one
        record = ledger.write(realm_id, kind, body, request.args.get("operation"), request.args.get("include"))
        return qbo_json({kind: _written(_books(realm_id), record), "time": time_text()})


@api.route("/<entity>/<entity_id>", methods=["GET"])
def read(realm_id: str, entity: str, entity_id: str) -> Response:
    kind = _kind(entity)
    ledger = sandbox().ledger
    with ledger.lock:
        record = ledger.read(realm_id, kind, entity_id)
        return qbo_json({kind: fragment(_books(realm_id), record), "time": time_text()})
