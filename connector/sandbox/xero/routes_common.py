"""Shared plumbing of the accounting routes: the blueprint, paging, envelopes, batches.

Writes follow ``summarizeErrors``: true (the default) makes a batch all-or-nothing and
answers 400 ValidationException listing every element; false answers 200 with each
element marked ``StatusAttributeString`` OK or ERROR. (Updates inside a POST /Invoices
batch are applied one by one; only creations are rolled back.)
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from flask import Blueprint, Response, g, request

from connector.sandbox.xero import inputs, wire, xmlwire
from connector.sandbox.xero.listing import Getter, simple_list
from connector.sandbox.xero.model import money
from connector.sandbox.xero.query import QueryError
from connector.sandbox.xero.state import LedgerError, Tenant
from connector.sandbox.xero.web import json_response, sandbox, text_response

accounting = Blueprint("xero_accounting", __name__)

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


class _Rollback(Exception):
    """Raised inside a summarizeErrors=true batch to undo what it created."""


T = TypeVar("T")


# --- helpers -------------------------------------------------------------------------------
def current_tenant() -> Tenant:
    return g.tenant  # type: ignore[no-any-return]


def envelope(
    key: str, items: list[dict[str, Any]], pagination: dict[str, int] | None = None
) -> dict[str, Any]:
    sb = sandbox()
    app = sb.auth.apps.get(g.grant.client_id)
    return wire.envelope(key, items, app.name if app else "Xero API Partner", sb.ledger.now_ms(), pagination)


def not_found() -> Response:
    return text_response("The resource you're looking for cannot be found", 404)


def record_response(
    key: str, records: Mapping[str, T], record_key: str, render: Callable[[T], dict[str, Any]]
) -> Response:
    """``GET /{key}/{id}``: the record filed under ``record_key`` (the caller says how the id
    is keyed) in its envelope, read under the ledger's lock, or 404."""
    with sandbox().ledger.lock:
        record = records.get(record_key)
        if record is None:
            return not_found()
        document = envelope(key, [render(record)])
    return json_response(document)


def bad_query(exc: Exception) -> Response:
    return json_response(wire.simple_error(16, "QueryParseException", str(exc)), 400)


def bad_body(message: str) -> Response:
    return json_response(wire.simple_error(14, "PostDataInvalidException", message), 400)


def read_body() -> Any:
    """The request body as JSON gives it, from JSON or from Xero's XML (what pyxero sends):
    ``None`` when there is none or it is neither (``elements_of`` turns that into a 400)."""
    raw = request.get_data()
    if not raw:
        return None
    if xmlwire.looks_like_xml(raw, request.mimetype):
        try:
            return xmlwire.parse_body(raw)
        except xmlwire.XmlBodyError:
            return None
    try:
        return json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError):
        return None  # not JSON: elements_of() turns this into a 400


def elements_of(body: Any, key: str) -> list[Any] | None:
    """The list under ``key``, or a bare element (the SDK's single-object forms).

    ``None`` (answered with a 400) when the body is missing, not JSON, or shaped wrong.
    """
    if isinstance(body, dict) and isinstance(body.get(key), list):
        return body[key]
    if isinstance(body, dict) and key not in body:
        return [body]
    return None


def unitdp() -> int:
    """``unitdp=4`` opts in to four decimal places for unit amounts, in and out (default two)."""
    return 4 if (request.args.get("unitdp") or "").strip() == "4" else 2


def summarize_errors() -> bool:
    return wire.parse_bool(request.args.get("summarizeErrors"), default=True)


def csv_param(name: str) -> tuple[str, ...]:
    """A comma-separated list; the SDK's repeated ``name=a&name=b`` form is read too."""
    parts = []
    for raw in request.args.getlist(name):
        parts.extend(part.strip().strip('"') for part in raw.split(","))
    return tuple(p for p in parts if p)


def id_param(name: str) -> tuple[str, ...]:
    """A list of ids (``IDs``, ``ContactIDs``…) as the books key them: any .NET GUID format
    (``N``, ``D``, ``B``, ``P``) reads as the same id."""
    return tuple(wire.id_key(part) for part in csv_param(name))


def paging() -> tuple[int | None, int]:
    """``page`` (1-based; paging is on only when it is given) and ``pageSize``: default 100, at
    most 1000 (Xero, from July 2024: "a custom pagesize … up to a maximum pagesize of 1000";
    a larger one is served as 1000 and the ``pagination`` object says so)."""
    page_text, size_text = request.args.get("page"), request.args.get("pageSize")
    try:
        page = max(1, int(page_text)) if page_text else None
        size = int(size_text) if size_text else DEFAULT_PAGE_SIZE
    except ValueError:
        raise QueryError("page and pageSize must be whole numbers") from None
    return min(page, 10**9) if page else None, min(max(size, 1), MAX_PAGE_SIZE)


def if_modified_since() -> int | None:
    return wire.parse_if_modified_since(request.headers.get("If-Modified-Since"))


def page_of(items: list[Any], page: int | None, size: int) -> tuple[list[Any], dict[str, int] | None]:
    if page is None:
        return items, None
    start = (page - 1) * size
    return items[start : start + size], wire.pagination(page, size, len(items))


def list_response(
    key: str,
    records: Iterable[T],
    fields: Mapping[str, Getter],
    render: Callable[[T], dict[str, Any]],
    *,
    updated: Callable[[T], int],
    paged: bool = True,
    extra: Callable[[T], bool] | None = None,
    default_sort: Callable[[T], Any] | None = None,
) -> Response:
    """GET of a small collection: ``where``/``order``/``If-Modified-Since`` by a full scan
    (``simple_list``), ``page``/``pageSize`` when ``paged``, the envelope under ``key``.
    ``default_sort`` orders the result when the request gives no ``order``."""
    try:
        page, size = paging() if paged else (None, 0)
        with sandbox().ledger.lock:
            found = simple_list(
                records,
                fields,
                since_ms=if_modified_since(),
                where=request.args.get("where"),
                order=request.args.get("order"),
                updated=updated,
                extra=extra,
            )
            if default_sort is not None and not request.args.get("order"):
                found.sort(key=default_sort)
            chunk, pagination = page_of(found, page, size)
            document = envelope(key, [render(r) for r in chunk], pagination)
    except QueryError as exc:
        return bad_query(exc)
    return json_response(document)


def failed_element(echo: dict[str, Any], errors: list[str], flag: str | None) -> dict[str, Any]:
    doc = dict(echo)
    if flag:
        doc[flag] = True
    doc["StatusAttributeString"] = "ERROR"
    doc["ValidationErrors"] = wire.errors_list(errors)
    return doc


def write_batch(
    key: str,
    raw: list[Any] | None,
    parse: Callable[[dict[str, Any]], tuple[dict[str, Any], list[str]]],
    echo: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
    apply: Callable[[dict[str, Any]], Any],
    render: Callable[[Any], dict[str, Any]],
    flag: str | None,
    summarize: bool,
) -> Response:
    """Create each element; all-or-nothing when ``summarize`` (the ledger undoes creations)."""
    if raw is None:
        return bad_body(f"The request body must contain {key}")
    sb = sandbox()
    outcomes: list[tuple[Any, dict[str, Any], list[str]]] = []
    try:
        with sb.ledger.lock, sb.ledger.batch() if summarize else contextlib.nullcontext():
            for element in raw:
                if not isinstance(element, dict):
                    outcomes.append((None, {}, [f"Each item in {key} must be an object"]))
                    continue
                kwargs, errors = parse(element)
                record = None
                if not errors:
                    try:
                        record = apply(kwargs)
                    except LedgerError as exc:
                        errors = exc.messages
                outcomes.append((record, echo(element, kwargs), errors))
            if summarize and any(errors for _, _, errors in outcomes):
                raise _Rollback
            docs = []
            for record, echoed, errors in outcomes:
                if errors:
                    docs.append(failed_element(echoed, errors, flag))
                else:
                    doc = render(record)
                    if not summarize:
                        doc["StatusAttributeString"] = "OK"
                    docs.append(doc)
            document = envelope(key, docs)
    except _Rollback:
        elements = [
            {**echoed, **({"ValidationErrors": wire.errors_list(errors)} if errors else {})}
            for _, echoed, errors in outcomes
        ]
        return json_response(wire.validation_error(elements), 400)
    return json_response(document)


AllocationCheck = Callable[[dict[str, Any], dict[str, Decimal]], list[str]]


def allocation_batch(check: AllocationCheck, allocate: Callable[[dict[str, Any]], Any]) -> Response:
    """``PUT .../Allocations`` of a credit note or an overpayment: each element is checked
    (``check`` sees the amounts earlier elements claimed), then applied; all-or-nothing when
    summarizeErrors is true, per-element ``StatusAttributeString`` when it is false."""
    sb, t = sandbox(), current_tenant()
    raw = elements_of(read_body(), "Allocations")
    if raw is None:
        return bad_body("The request body must contain Allocations")
    summarize = summarize_errors()
    with sb.ledger.lock:
        today = sb.ledger.today(t.id)
        pending: dict[str, Decimal] = {}
        parsed = []
        for element in raw:
            kwargs, errors = inputs.allocation(element if isinstance(element, dict) else {})
            if not errors:
                kwargs["amount"] = money(kwargs["amount"])
                errors = check(kwargs, pending)
            parsed.append((kwargs, errors))
        if summarize and any(errors for _, errors in parsed):
            elements = [
                {**inputs.echo_allocation(kw, today), **({"ValidationErrors": wire.errors_list(e)} if e else {})}
                for kw, e in parsed
            ]
            return json_response(wire.validation_error(elements), 400)
        docs = []
        for kwargs, errors in parsed:
            if errors:
                docs.append(failed_element(inputs.echo_allocation(kwargs, today), errors, None))
                continue
            doc = wire.allocation(allocate(kwargs), t)
            if not summarize:
                doc["StatusAttributeString"] = "OK"
            docs.append(doc)
        document = envelope("Allocations", docs)
    return json_response(document)
