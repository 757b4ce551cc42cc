"""A small admin surface for tests and demos (not part of QBO): faults, clock, state, tokens.

``GET /__sandbox/faults`` shows the live fault table, ``POST`` adds a spec (the body, or
``{"spec": "..."}``), ``DELETE`` clears it. ``POST /__sandbox/clock`` with
``{"advance": seconds}`` moves a FakeClock. ``POST /__sandbox/save`` writes ``--data``.
Those come from :mod:`connector.sandbox.common.admin`; QBO adds
``POST /__sandbox/tokens`` (optionally ``{"realmId": ...}``), which hands out a token set,
``POST /__sandbox/webhooks/flush``, which sends queued webhook events now, and
``POST /__sandbox/close-books`` (``{"realmId": ..., "date": "YYYY-MM-DD" | null}``), which does
what an accountant does once a period is reconciled: QBO's API has no "reconciled" flag, but
closing the books makes it refuse every write to a transaction dated on or before that day.
"""

from __future__ import annotations

from datetime import date

from flask import Response, request

from connector.sandbox.common.admin import admin_blueprint, json_responder
from connector.sandbox.quickbooks.web import JSON, sandbox

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


@admin.route("/close-books", methods=["POST"])
def close_books() -> Response:
    """Close (or, with ``"date": null``, reopen) one company's books through a date."""
    sb = sandbox()
    body = request.get_json(silent=True) or {}
    realm_id = str(body.get("realmId") or sb.realm_ids[0])
    if realm_id not in sb.ledger.realms:
        return _json({"error": f"unknown realm {realm_id}"}, 404)
    try:
        through = date.fromisoformat(body["date"]) if body.get("date") else None
    except (TypeError, ValueError):
        return _json({"error": "date must be YYYY-MM-DD or null"}, 400)
    sb.ledger.close_books(realm_id, through)
    return _json({"realmId": realm_id, "BookCloseDate": through.isoformat() if through else None})
