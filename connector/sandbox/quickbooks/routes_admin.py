"""A small admin surface for tests and demos (not part of QBO): faults, clock, state, tokens.

``GET /__sandbox/faults`` shows the live fault table, ``POST`` adds a spec (the body, or
``{"spec": "..."}``), ``DELETE`` clears it. ``POST /__sandbox/clock`` with
``{"advance": seconds}`` moves a FakeClock. ``POST /__sandbox/save`` writes ``--data``.
``POST /__sandbox/tokens`` (optionally ``{"realmId": ...}``) hands out a token set, and
``POST /__sandbox/webhooks/flush`` sends queued webhook events now.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from connector.sandbox.common.clock import FakeClock
from connector.sandbox.common.faults import FaultSpecError
from connector.sandbox.quickbooks.app import JSON, sandbox

admin = Blueprint("qbo_admin", __name__)


def _json(document: object, status: int = 200) -> Response:
    return Response(json.dumps(document).encode(), status=status, content_type=JSON)


@admin.route("/faults", methods=["GET"])
def show_faults() -> Response:
    sb = sandbox()
    return _json({"faults": sb.faults.describe(), "hits": dict(sb.faults.hits)})


@admin.route("/faults", methods=["POST", "PUT"])
def add_faults() -> Response:
    sb = sandbox()
    raw = request.get_data(as_text=True)
    spec = raw
    if raw.strip().startswith("{"):
        try:
            spec = json.loads(raw).get("spec", "")
        except ValueError:
            return _json({"error": "body is neither a fault spec nor JSON"}, 400)
    try:
        sb.faults.add(spec)
    except FaultSpecError as exc:
        return _json({"error": str(exc)}, 400)
    return _json({"faults": sb.faults.describe()})


@admin.route("/faults", methods=["DELETE"])
def clear_faults() -> Response:
    sandbox().faults.clear()
    return _json({"faults": ""})


@admin.route("/clock", methods=["GET", "POST"])
def clock() -> Response:
    sb = sandbox()
    if request.method == "POST":
        if not isinstance(sb.clock, FakeClock):
            return _json({"error": "the sandbox runs on the system clock"}, 409)
        body = request.get_json(silent=True) or {}
        sb.clock.advance(float(body.get("advance", 0)))
    return _json({"now": sb.clock.now().isoformat()})


@admin.route("/save", methods=["POST"])
def save() -> Response:
    sb = sandbox()
    if sb.data_path is None:
        return _json({"error": "no --data file configured"}, 409)
    sb.save()
    return _json({"saved": str(sb.data_path)})


@admin.route("/tokens", methods=["POST"])
def tokens() -> Response:
    """A fresh token set for the sandbox app and one company (the first by default)."""
    sb = sandbox()
    body = request.get_json(silent=True) or {}
    realm_id = str(body.get("realmId") or sb.realm_ids[0])
    if realm_id not in sb.ledger.realms:
        return _json({"error": f"unknown realm {realm_id}"}, 404)
    return _json({**sb.issue_tokens(realm_id), "realmId": realm_id})


@admin.route("/webhooks/flush", methods=["POST"])
def flush_webhooks() -> Response:
    sb = sandbox()
    if sb.webhooks is None:
        return _json({"error": "no webhook URL configured"}, 409)
    deliveries = sb.webhooks.flush()
    return _json({"deliveries": [{"status": d.status, "attempt": d.attempt} for d in deliveries]})
