"""A small admin surface for tests and demos (not part of Xero): faults, clock, state.

``GET /__sandbox/faults`` shows the live fault table, ``POST`` adds a spec (the body, or
``{"spec": "..."}``), ``DELETE`` clears it. ``POST /__sandbox/clock`` with
``{"advance": seconds}`` moves a FakeClock. ``POST /__sandbox/save`` writes ``--data``.
Those come from :mod:`connector.sandbox.common.admin`; the token route is Xero's own.
"""

from __future__ import annotations

from flask import Response

from connector.sandbox.common.admin import admin_blueprint, json_responder
from connector.sandbox.xero.app import JSON, sandbox

admin = admin_blueprint("xero_admin", __name__, sandbox, JSON)
_json = json_responder(JSON)


@admin.route("/tokens", methods=["POST"])
def tokens() -> Response:
    """A fresh token set for the sandbox app (what the CLI prints), for scripts and curl."""
    return _json(sandbox().issue_tokens())
