"""Steps of the request pipeline every sandbox runs the same way (inside a Flask request).

Each provider's ``app.py`` orders them around its own checks (tokens, tenants or realms,
rate limits) and supplies its own error bodies:

* ``dropped``: the ``drop`` fault, before anything else;
* ``injected_fault``: latency, then the ``503``, ``5xx`` and ``429`` faults;
* ``replay_or_begin`` / ``complete_replay``: idempotency keys (Xero's ``Idempotency-Key``,
  QBO's ``?requestid=``);
* ``response_faults``: the ``malformed``, ``huge`` and ``lost`` faults on the way out;
* ``notify_observers``: hand the finished exchange to every observer.

The steps keep their notes on ``flask.g``: ``fault`` (the fault that fired),
``idempotency`` (the key being run) and ``replayed``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from flask import Response, g, request

from connector.sandbox.common.faults import FaultInjector, FaultKind, corrupt_json, padded_json
from connector.sandbox.common.idempotency import IdempotencyCache, Outcome, StoredResponse
from connector.sandbox.common.recording import Exchange, Observer
from connector.sandbox.common.wsgi import drop_connection


def dropped(faults: FaultInjector) -> bool:
    """The ``drop`` fault: close the client's connection now (the caller answers anything)."""
    if not faults.hit(FaultKind.DROP):
        return False
    g.fault = "drop"
    drop_connection(request.environ)
    return True


def injected_fault(
    faults: FaultInjector,
    *,
    maintenance: Callable[[], Response],
    server_error: Callable[[], Response],
    rate_limit: Callable[[], Response],
) -> Response | None:
    """Sleep the configured latency, then answer a ``503``, ``5xx`` or ``429`` fault if one hits."""
    delay = faults.latency_seconds()
    if delay > 0:
        time.sleep(delay)
    if faults.hit(FaultKind.MAINTENANCE):
        g.fault = "503"
        return maintenance()
    if faults.hit(FaultKind.SERVER_ERROR):
        g.fault = "5xx"
        return server_error()
    if faults.hit(FaultKind.RATE_LIMIT):
        g.fault = "429"
        return rate_limit()
    return None


def replay_or_begin(
    cache: IdempotencyCache, scope: str, key: str, fingerprint: str, conflict: Callable[[], Response]
) -> Response | None:
    """The stored answer for a repeated key, ``conflict()`` for a clash, or None: run the route."""
    decision = cache.begin(scope, key, fingerprint)
    if decision.outcome is Outcome.REPLAY:
        stored = decision.response
        assert stored is not None
        g.replayed = True
        return Response(stored.body, status=stored.status, headers=list(stored.headers))
    if decision.outcome is Outcome.CONFLICT:
        return conflict()
    g.idempotency = (scope, key)
    return None


def complete_replay(cache: IdempotencyCache, response: Response, content_type: str) -> None:
    """Store the route's answer for the key ``replay_or_begin`` let through (200 and 400 only)."""
    if not g.get("idempotency"):
        return
    scope, key = g.idempotency
    replayable = response.status_code in (200, 400)
    headers = (("Content-Type", response.content_type or content_type),)
    stored = StoredResponse(response.status_code, response.get_data(), headers) if replayable else None
    cache.complete(scope, key, stored)


def response_faults(faults: FaultInjector, response: Response) -> None:
    """The ``malformed`` and ``huge`` (200 JSON bodies only) and ``lost`` faults, unless the call was dropped."""
    if g.get("fault") == "drop":
        return
    json_200 = response.status_code == 200 and (response.content_type or "").startswith("application/json")
    if json_200 and faults.hit(FaultKind.MALFORMED):
        g.fault = "malformed"
        response.set_data(corrupt_json(response.get_data()))
    elif json_200 and faults.hit(FaultKind.HUGE):
        g.fault = "huge"
        body = response.get_data()
        g.unpadded_body = body  # what observers see: the answer as the route gave it
        response.response = padded_json(body, faults.huge_bytes, faults.count_streamed)
        response.headers.pop("Content-Length", None)
    if faults.hit(FaultKind.LOST):
        g.fault = "lost"
        drop_connection(request.environ)


def notify_observers(observers: Sequence[Observer], response: Response, area: str | None) -> None:
    """Record the request and its answer as an ``Exchange`` for every observer."""
    if not observers:
        return
    exchange = Exchange(
        method=request.method,
        path=request.path,
        query={k: v for k, v in request.args.items()},
        request_headers=dict(request.headers.items()),
        request_body=request.get_data(),
        status=response.status_code,
        content_type=response.content_type or "",
        response_headers=dict(response.headers.items()),
        body=g.get("unpadded_body", None) if g.get("fault") == "huge" else response.get_data(),
        area=area or "other",
        fault=g.get("fault"),
        notes={"replayed": "yes"} if g.get("replayed") else {},
    )
    for observer in list(observers):
        observer(exchange)
