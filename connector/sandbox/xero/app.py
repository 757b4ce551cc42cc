"""The Flask application and the request pipeline every API call goes through.

Order for an API call (accounting and /connections), mirroring where Xero does each:

1. ``drop`` fault: close the connection before anything happens;
2. bearer token (401) and the ``expire_tokens`` fault;
3. ``xero-tenant-id`` must name a tenant this app is connected to (403), scopes (401);
4. per-tenant rate limits and the concurrency gate (429 with Retry-After);
5. latency, then the ``503``, ``5xx`` and ``429`` faults (nothing is written);
6. Idempotency-Key on PUT/POST: replay or refuse a reused key;
7. the route itself; then the answer as XML unless JSON was asked for (Xero's default), rate
   headers, ``malformed``/``lost`` faults and observers.
"""

from __future__ import annotations

import contextlib
import hashlib
import json

from flask import Flask, Response, g, request

from connector.sandbox.common.faults import FaultKind
from connector.sandbox.common.pipeline import (
    complete_replay,
    dropped,
    injected_fault,
    notify_observers,
    replay_or_begin,
    response_faults,
)
from connector.sandbox.common.wsgi import CaseInsensitivePaths
from connector.sandbox.xero import (
    routes_accounting,
    routes_extra,
    routes_money,
    routes_overpayments,
    routes_reports,
    wire,
    xmlwire,
)
from connector.sandbox.xero.oauth import Unauthorized
from connector.sandbox.xero.routes_admin import admin
from connector.sandbox.xero.routes_common import accounting
from connector.sandbox.xero.routes_oauth import identity
from connector.sandbox.xero.web import (
    ACCOUNTING_PREFIX,
    ADMIN_PREFIX,
    EXTENSION,
    JSON,
    Services,
    json_response,
    problem_response,
    sandbox,
    text_response,
    wants_json,
)

# Importing the route modules registers their routes on the blueprints above.
ROUTE_MODULES = (routes_accounting, routes_extra, routes_money, routes_overpayments, routes_reports)

# Canonical spelling of every fixed path segment (Xero matches paths case-insensitively).
SEGMENTS = [
    "Connections",
    "Invoices",
    "Payments",
    "BankTransfers",
    "BankTransactions",
    "CreditNotes",
    "Overpayments",
    "Allocations",
    "Reports",
    "BankSummary",
    "Accounts",
    "Contacts",
    "Organisation",
    "Organisations",
    "Currencies",
    "TaxRates",
    "Items",
    "BrandingThemes",
    "OnlineInvoice",
    "Email",
    "History",
    "BatchPayments",
    "Prepayments",
    "api.xro",
    "identity",
    "connect",
    "authorize",
    "token",
    "revocation",
    "__sandbox",
]

# Which scopes let a token use an accounting resource (broad legacy scope or granular one).
SCOPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Invoices": (
        ("accounting.transactions", "accounting.invoices"),
        ("accounting.transactions.read", "accounting.invoices.read"),
    ),
    "CreditNotes": (
        ("accounting.transactions", "accounting.invoices"),
        ("accounting.transactions.read", "accounting.invoices.read"),
    ),
    "Payments": (
        ("accounting.transactions", "accounting.payments"),
        ("accounting.transactions.read", "accounting.payments.read"),
    ),
    "BankTransfers": (
        ("accounting.transactions", "accounting.banktransactions"),
        ("accounting.transactions.read", "accounting.banktransactions.read"),
    ),
    "BankTransactions": (
        ("accounting.transactions", "accounting.banktransactions"),
        ("accounting.transactions.read", "accounting.banktransactions.read"),
    ),
    "Overpayments": (
        ("accounting.transactions", "accounting.payments"),
        ("accounting.transactions.read", "accounting.payments.read"),
    ),
    "Prepayments": (
        ("accounting.transactions", "accounting.payments"),
        ("accounting.transactions.read", "accounting.payments.read"),
    ),
    "BatchPayments": (
        ("accounting.transactions", "accounting.payments"),
        ("accounting.transactions.read", "accounting.payments.read"),
    ),
    # The granular scope (apps from 2 March 2026) covers this one report; the sandbox serves only it.
    "Reports": ((), ("accounting.reports.read", "accounting.reports.banksummary.read")),
    "Contacts": (("accounting.contacts",), ("accounting.contacts.read",)),
    "Accounts": (("accounting.settings",), ("accounting.settings.read",)),
    "Organisation": (("accounting.settings",), ("accounting.settings.read",)),
    "Organisations": (("accounting.settings",), ("accounting.settings.read",)),
    "Currencies": (("accounting.settings",), ("accounting.settings.read",)),
    "TaxRates": (("accounting.settings",), ("accounting.settings.read",)),
    "Items": (("accounting.settings",), ("accounting.settings.read",)),
    "BrandingThemes": (("accounting.settings",), ("accounting.settings.read",)),
}


def _unimplemented(path: str) -> bool:
    if not path.startswith(ACCOUNTING_PREFIX + "/"):
        return False
    return _resource(path).lower() in routes_extra.XERO_RESOURCES


def _area(path: str) -> str:
    if path.startswith(ACCOUNTING_PREFIX + "/"):
        return "accounting"
    if path == "/Connections" or path.startswith("/Connections/"):
        return "identity"
    if path.startswith(ADMIN_PREFIX):
        return "admin"
    if path.startswith(("/connect/", "/identity/")):
        return "oauth"
    return "other"


def _resource(path: str) -> str:
    rest = path[len(ACCOUNTING_PREFIX) + 1 :]
    return rest.split("/", 1)[0]


def _fingerprint() -> str:
    body = request.get_data()
    with contextlib.suppress(ValueError):
        body = json.dumps(json.loads(body), sort_keys=True).encode() if body else b""
    query = "&".join(sorted(f"{k}={v}" for k, v in request.args.items(multi=True)))
    return hashlib.sha256(
        b"\n".join([request.method.encode(), request.path.encode(), query.encode(), body])
    ).hexdigest()


def _pipeline() -> Response | None:
    sb = sandbox()
    g.area = _area(request.path)
    g.fault = None
    g.tenant = None
    g.admission = None
    g.idempotency = None
    if g.area not in ("accounting", "identity"):
        return None
    faults = sb.faults
    if dropped(faults):
        return text_response("", 500)

    authorization = request.headers.get("Authorization")
    try:
        grant = sb.auth.check_access(authorization)
    except Unauthorized as exc:
        return problem_response(401, exc.detail)
    if faults.hit(FaultKind.EXPIRE_TOKEN):
        g.fault = "expire_tokens"
        sb.auth.expire_token(authorization)
        try:
            sb.auth.check_access(authorization)
        except Unauthorized as exc:
            return problem_response(401, exc.detail)
    g.grant = grant
    if g.area == "identity":
        return None

    tenant_id = wire.parse_guid(request.headers.get("xero-tenant-id"))
    if (
        tenant_id is None
        or tenant_id not in sb.ledger.tenants
        or not sb.auth.tenant_allowed(grant, tenant_id)
    ):
        return problem_response(403, "AuthenticationUnsuccessful")
    resource = _resource(request.path)
    if resource in SCOPES:
        write_scopes, read_scopes = SCOPES[resource]
        wanted = write_scopes if request.method in ("PUT", "POST", "DELETE") else write_scopes + read_scopes
        if not set(wanted) & set(grant.scopes):
            return problem_response(401, "AuthorizationUnsuccessful")
    tenant = sb.ledger.tenants[tenant_id]
    g.tenant = tenant

    admission = sb.limiter.acquire(tenant.id)
    g.admission = admission
    if not admission.admitted:
        headers = {"X-Rate-Limit-Problem": admission.problem or "minute"}
        if admission.retry_after is not None:
            headers["Retry-After"] = str(admission.retry_after)
        return text_response("", 429, headers)
    g.release_tenant = tenant.id

    faulted = injected_fault(
        faults,
        maintenance=lambda: text_response("The Xero API is currently offline for maintenance", 503),
        server_error=lambda: json_response(
            {
                "Title": "An error occurred",
                "Detail": "An error occurred in Xero. Check the API Status page "
                "http://status.developer.xero.com for current service status.",
                "Status": 500,
                "Instance": wire.parse_guid(sb.ledger.new_id()),
            },
            500,
        ),
        rate_limit=lambda: text_response(
            "", 429, {"X-Rate-Limit-Problem": "minute", "Retry-After": str(faults.retry_after)}
        ),
    )
    if faulted is not None:
        return faulted

    key = request.headers.get("Idempotency-Key")
    if key and request.method in ("PUT", "POST", "PATCH"):
        if len(key) > 128:
            return json_response(
                wire.simple_error(
                    10, "ValidationException", "The Idempotency-Key header can be at most 128 characters"
                ),
                400,
            )
        return replay_or_begin(
            sb.idempotency,
            f"{tenant.id}:{grant.client_id}",
            key,
            _fingerprint(),
            conflict=lambda: json_response(
                wire.simple_error(
                    10,
                    "ValidationException",
                    f"The Idempotency-Key '{key}' is already used with a different request",
                ),
                400,
            ),
        )
    return None


def _element_kind(path: str) -> str:
    """What an error element is (its ``xsi:type`` in XML): the resource the path names, singular."""
    parts = [p for p in path[len(ACCOUNTING_PREFIX) :].split("/") if p]
    named = [p for p in parts if p in SEGMENTS]
    return xmlwire.singular(named[-1]) if named else "DataContractBase"


def _as_xml(response: Response) -> None:
    """Write an accounting answer (200 or 400) as XML unless the client asked for JSON."""
    document = g.pop("wire_document", None)
    if document is None or not isinstance(document, dict) or response.status_code not in (200, 400):
        return
    if wants_json():
        return
    response.set_data(xmlwire.render(document, _element_kind(request.path)))
    response.content_type = xmlwire.XML


def _finish(response: Response) -> Response:
    sb = sandbox()
    area = g.get("area")
    if area == "accounting":
        _as_xml(response)
    complete_replay(sb.idempotency, response, JSON)
    admission = g.get("admission")
    if admission is not None:
        names = {
            "minute": "X-MinLimit-Remaining",
            "day": "X-DayLimit-Remaining",
            "appminute": "X-AppMinLimit-Remaining",
        }
        for name, header in names.items():
            if name in admission.remaining:
                response.headers[header] = str(admission.remaining[name])
    if area in ("accounting", "identity"):
        response_faults(sb.faults, response)
    notify_observers(sb.observers, response, area)
    return response


def _teardown(_exc: BaseException | None) -> None:
    tenant_id = g.pop("release_tenant", None)
    if tenant_id is not None:
        sandbox().limiter.release(tenant_id)


def create_app(sb: Services) -> CaseInsensitivePaths:
    """The WSGI app: Flask plus case-insensitive path matching in front of it."""
    app = Flask("connector.sandbox.xero")
    app.extensions[EXTENSION] = sb
    app.url_map.strict_slashes = False
    app.before_request(_pipeline)
    app.after_request(_finish)
    app.teardown_request(_teardown)
    app.register_blueprint(identity)
    app.register_blueprint(accounting, url_prefix=ACCOUNTING_PREFIX)
    app.register_blueprint(admin, url_prefix=ADMIN_PREFIX)

    @app.errorhandler(404)
    def _not_found(_err: Exception) -> Response:
        if _unimplemented(request.path):
            return routes_extra.not_implemented(request.method, request.path)
        return text_response("The resource you're looking for cannot be found", 404)

    @app.errorhandler(405)
    def _not_allowed(_err: Exception) -> Response:
        return text_response("The requested method is not allowed for this resource", 405)

    @app.errorhandler(500)
    def _crash(_err: Exception) -> Response:
        return json_response(
            wire.simple_error(500, "UnknownErrorException", "An unexpected error occurred"), 500
        )

    return XeroPaths(app, {s: s for s in SEGMENTS})


class XeroPaths(CaseInsensitivePaths):
    """Xero's path matching: known segments case-insensitively, and an id in any of .NET's GUID
    formats (``N`` 32 digits, ``D`` with hyphens, ``B`` in braces, ``P`` in parentheses, any
    case) read as the same id."""

    def canonical(self, path: str) -> str:
        return "/".join(self.segments.get(part.lower(), None) or _guid_segment(part) for part in path.split("/"))


def _guid_segment(part: str) -> str:
    if len(part) in (32, 36, 38) and (guid := wire.parse_guid(part)) is not None:
        return guid
    return part
