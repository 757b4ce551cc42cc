"""What every route module needs from the running sandbox, in one place that imports no route.

Route modules used to import ``app.py`` for the sandbox accessor and the response helpers,
while ``app.py`` imported them to register their routes: a circle hidden behind a
function-level import. Here the sandbox is reached through ``flask.current_app`` and typed
by :class:`Services`, a protocol the :class:`~connector.sandbox.xero.sandbox.XeroSandbox`
satisfies, so neither ``app.py`` nor ``sandbox.py`` has to be imported to name its type.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from flask import Response, current_app, g, has_request_context, request

from connector.sandbox.common.clock import Clock
from connector.sandbox.common.faults import FaultInjector
from connector.sandbox.common.idempotency import IdempotencyCache
from connector.sandbox.common.ratelimit import RateLimiter
from connector.sandbox.common.recording import Observer
from connector.sandbox.xero import wire
from connector.sandbox.xero.listing import QueryCache
from connector.sandbox.xero.oauth import AuthServer
from connector.sandbox.xero.state import Ledger

ACCOUNTING_PREFIX = "/api.xro/2.0"
ADMIN_PREFIX = "/__sandbox"
JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
EXTENSION = "xero_sandbox"


class Services(Protocol):
    """The parts of a running sandbox the request pipeline and the routes use."""

    ledger: Ledger
    auth: AuthServer
    clock: Clock
    faults: FaultInjector
    limiter: RateLimiter
    idempotency: IdempotencyCache
    query_cache: QueryCache
    observers: list[Observer]

    def issue_tokens(
        self,
        scopes: Sequence[str] = ...,
        tenants: Sequence[str] | None = None,
        client_id: str | None = None,
    ) -> dict[str, Any]: ...


def sandbox() -> Services:
    """The sandbox serving the current request (set by ``app.create_app``)."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def json_response(document: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The answer as JSON; the document is kept on ``g`` so the pipeline can write it as XML
    instead when the client did not ask for JSON (see ``app._finish``)."""
    if has_request_context():
        g.wire_document = document
    return Response(wire.dumps(document), status=status, content_type=JSON, headers=headers)


def wants_json() -> bool:
    """Whether the Accept header asks for JSON. Xero answers XML by default (no Accept, ``*/*``,
    ``application/xml``, ``text/xml`` or anything it cannot give), JSON when asked for it."""
    best = request.accept_mimetypes.best_match(
        ["application/xml", "text/xml", "application/json", "text/json"], default="application/xml"
    )
    return best in ("application/json", "text/json")


def text_response(text: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(text.encode(), status=status, content_type=TEXT, headers=headers)


def problem_response(status: int, detail: str) -> Response:
    title = "Unauthorized" if status == 401 else "Forbidden"
    # The identity layer writes "Type": null; dumps() would keep it, which is what Xero sends.
    body = json.dumps(wire.problem(status, title, detail)).encode()
    return Response(body, status=status, content_type=JSON)
