"""The admin surface every sandbox shares (not part of any ledger): faults, clock, save.

``GET /faults`` shows the live fault table, ``POST`` adds a spec (the body, or
``{"spec": "..."}``), ``DELETE`` clears it. ``POST /clock`` with ``{"advance": seconds}``
moves a FakeClock. ``POST /save`` writes ``--data``. Each provider mounts the blueprint
under ``/__sandbox`` and adds its own routes (tokens, webhooks) to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from connector.sandbox.common.clock import FakeClock
from connector.sandbox.common.faults import FaultSpecError

JsonResponder = Callable[..., Response]


def json_responder(content_type: str) -> JsonResponder:
    """``respond(document, status=200)``: a JSON response with the provider's content type."""

    def respond(document: object, status: int = 200) -> Response:
        return Response(json.dumps(document).encode(), status=status, content_type=content_type)

    return respond


def admin_blueprint(name: str, import_name: str, sandbox: Callable[[], Any], content_type: str) -> Blueprint:
    """The faults, clock and save routes; ``sandbox()`` is the running sandbox of the request."""
    admin = Blueprint(name, import_name)
    _json = json_responder(content_type)

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

    return admin
