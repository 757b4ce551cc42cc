"""A small admin surface for tests and demos (not part of QBO): faults, clock, state, tokens.

``GET /__sandbox/faults`` shows the live fault table, ``POST`` adds a spec (the body, or
``{"spec": "..."}``), ``DELETE`` clears it. ``POST /__sandbox/clock`` with
``{"advance": seconds}`` moves a FakeClock. ``POST /__sandbox/save`` writes ``--data``.
Those come from :mod:`connector.sandbox.common.admin`; QBO adds
``POST /__sandbox/tokens`` (optionally ``{"realmId": ...}``), which hands out a token set, and
``POST /__sandbox/webhooks/flush``, which sends queued webhook events now.
"""

from __future__ import annotations

from flask import Response, request

from connector.sandbox.common.admin import admin_blueprint, json_responder
from connector.sandbox.quickbooks.app import JSON, sandbox

admin = admin_blueprint("qbo_admin", __name__, sandbox, JSON)
_json = json_responder(JSON)


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
