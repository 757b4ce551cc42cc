"""What every route module needs from the running sandbox, in one place that imports no route.

Route modules used to import ``app.py`` for the sandbox accessor and the response helpers,
while ``app.py`` imported them to register their routes: a circle hidden behind a
function-level import. Here the sandbox is reached through ``flask.current_app`` and typed
by :class:`Services`, a protocol :class:`~connector.sandbox.quickbooks.sandbox.QuickBooksSandbox`
satisfies, so neither ``app.py`` nor ``sandbox.py`` has to be imported to name its type.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

from flask import Response, current_app, g, request

from connector.sandbox.common.clock import Clock
from connector.sandbox.common.faults import FaultInjector
from connector.sandbox.common.idempotency import IdempotencyCache
from connector.sandbox.common.ratelimit import RateLimiter
from connector.sandbox.common.recording import Observer
from connector.sandbox.quickbooks import wire
from connector.sandbox.quickbooks.ledger import Ledger
from connector.sandbox.quickbooks.limits import QboLimits
from connector.sandbox.quickbooks.oauth import AuthServer
from connector.sandbox.quickbooks.webhooks import QboWebhooks
from connector.sandbox.quickbooks.wire import QboError

API_PREFIX = "/v3/company/"
ADMIN_PREFIX = "/__sandbox"
JSON = "application/json;charset=UTF-8"
XML = "application/xml"
EXTENSION = "qbo_sandbox"
DEFAULT_OFFSET = -8 * 60  # Intuit's own zone, for answers that belong to no company


class Services(Protocol):
    """The parts of a running sandbox the request pipeline and the routes use."""

    ledger: Ledger
    auth: AuthServer
    limits: QboLimits
    clock: Clock
    faults: FaultInjector
    limiter: RateLimiter
    batch_limiter: RateLimiter
    requestids: IdempotencyCache
    observers: list[Observer]
    webhooks: QboWebhooks | None
    auto_consent: bool

    @property
    def realm_ids(self) -> list[str]: ...

    def issue_tokens(self, realm_id: str | None = None, scopes: Sequence[str] = ...) -> dict[str, Any]: ...


def sandbox() -> Services:
    """The sandbox serving the current request (set by ``app.create_app``)."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def time_text() -> str:
    """The ``time`` of an answer, in the company's offset when the request named a company."""
    return wire.response_time(sandbox().clock.now(), g.get("offset", DEFAULT_OFFSET))


def qbo_json(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(wire.dumps(document).encode(), status=status, content_type=JSON, headers=headers)


def fault_response(error: QboError) -> Response:
    return qbo_json(wire.fault_document(error, time_text()), error.status)


def throttle_response() -> Response:
    """QBO's XML throttle page, whatever the client asked for (429, or 403 if so configured)."""
    status = sandbox().limits.throttle_status
    return Response(wire.throttle_xml(time_text(), status), status=status, content_type=XML)


def auth_response(detail: str) -> Response:
    body = json.dumps(wire.auth_fault_document(detail, sandbox().clock.now())).encode()
    return Response(body, status=401, content_type=JSON, headers={"WWW-Authenticate": wire.WWW_AUTHENTICATE})


def read_json() -> Any:
    """The request body as JSON with exact decimals; QBO's parser error otherwise."""
    raw = request.get_data(as_text=True)
    try:
        return json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise QboError("2010", "Request has invalid or unsupported property",
                       f"Property Name:Unexpected character ({exc.msg}) specified is unsupported or invalid") from None
