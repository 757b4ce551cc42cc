"""``/api/v1``: the payments platform's events API, signed and idempotent (see the OpenAPI document).

A thin shell: the signature is checked here (constant time, with a replay window), the body is
parsed and applied by :mod:`connector.actions.events`, and a retried request with the same
``Idempotency-Key`` is answered from :mod:`connector.actions.requests`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, g, jsonify, request
from werkzeug.wrappers import Response

from connector.actions.errors import ActionError, InvalidInput, NotFound
from connector.actions.events import apply_events, parse
from connector.actions.requests import Answer, body_hash, once
from connector.domain import InvoiceStatus
from connector.platform_api import openapi, reads
from connector.signing import SignatureError, verify_platform
from connector.web.context import csrf, runtime

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # signed requests from a server, not forms from a browser

PUBLIC_REASON = "signed with the platform account's shared secret (X-Connector-Signature)"


def error(status: int, code: str, message: str, field: str | None = None) -> tuple[Response, int]:
    return jsonify(error={"error": code, "message": message, "field": field}), status


def signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only a request signed by a configured platform account, within the replay window, gets in."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        config = runtime().config.api
        secrets = {account.name: account.secret() for account in config.accounts}
        try:
            who = verify_platform(
                request.headers.get("X-Connector-Signature"),
                request.get_data(cache=True),
                secrets,
                now=time.time(),
                window=config.replay_window.total_seconds(),
            )
        except SignatureError as exc:
            return error(401, "unauthorized", exc.reason, "X-Connector-Signature")
        g.platform_account = who.account
        return view(*args, **kwargs)

    checked.public_reason = PUBLIC_REASON  # type: ignore[attr-defined]
    return checked


def _answer(answer: Answer) -> tuple[Response, int]:
    response = jsonify(answer.body)
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, answer.status


@bp.route("/events", methods=["POST"])
@signed
def events() -> tuple[Response, int]:
    rt = runtime()
    body = request.get_data(cache=True)
    try:
        parsed, batch = parse(body)
    except InvalidInput as exc:
        return error(422, exc.code, exc.message, exc.field)

    def run() -> Answer:
        answers = apply_events(rt, g.platform_account, parsed)
        if not batch:
            return answers[0]
        return Answer(200, {"results": [{**a.body, "status": a.status} for a in answers]})

    key = request.headers.get("Idempotency-Key")
    try:
        answer = once(rt, g.platform_account, key, body_hash(body), run) if key is not None else run()
    except ActionError as exc:
        status = 422 if exc.code == "invalid" else 409
        return error(status, exc.code, exc.message, exc.field)
    return _answer(answer)


@bp.route("/invoices/<int:invoice_id>", methods=["GET"])
@signed
def invoice(invoice_id: int) -> tuple[Response, int]:
    with runtime().sessions() as session:
        found = reads.invoice(session, invoice_id)
    if found is None:
        exc = NotFound(f"no invoice #{invoice_id}", field="invoice_id")
        return error(404, exc.code, exc.message, exc.field)
    return jsonify(found), 200


@bp.route("/invoices", methods=["GET"])
@signed
def invoices() -> tuple[Response, int]:
    args = request.args
    status = args.get("status") or None
    if status is not None and status not in {s.value for s in InvoiceStatus}:
        return error(422, "invalid", f"status: expected one of {', '.join(s.value for s in InvoiceStatus)}", "status")
    try:
        since = _stamp(args.get("updated_since"), "updated_since")
        after = _cursor(args.get("after"))
        limit = int(args.get("limit", "100"))
        if not 1 <= limit <= reads.MAX_PAGE:
            raise InvalidInput(f"limit: 1 to {reads.MAX_PAGE}", field="limit")
    except ValueError:
        return error(422, "invalid", "limit: expected a whole number", "limit")
    except InvalidInput as exc:
        return error(422, exc.code, exc.message, exc.field)
    with runtime().sessions() as session:
        rows, following = reads.changed_invoices(session, status=status, updated_since=since, after=after, limit=limit)
    cursor = f"{round(following[0].timestamp() * 1_000_000)}-{following[1]}" if following else None
    return jsonify(invoices=rows, next=cursor), 200


@bp.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    return jsonify(openapi.document())


openapi_document.public_reason = "the published contract: no data in it"  # type: ignore[attr-defined]


def _stamp(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{field}: expected an ISO 8601 date-time with its offset", field=field) from None
    if stamp.tzinfo is None:
        raise InvalidInput(f"{field}: give the offset (e.g. 2026-12-01T09:00:00Z)", field=field)
    return stamp


def _cursor(value: str | None) -> tuple[datetime, int] | None:
    """The opaque ``next`` cursor: microseconds since the epoch and the last id (URL-safe as it is)."""
    if not value:
        return None
    micros, _, last = value.partition("-")
    if not micros.isdigit() or not last.isdigit():
        raise InvalidInput("after: pass the `next` value of the previous page as it is", field="after")
    return datetime.fromtimestamp(int(micros) / 1_000_000, UTC), int(last)
