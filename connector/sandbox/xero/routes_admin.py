"""A small admin surface for tests and demos (not part of Xero): faults, clock, state.

``GET /__sandbox/faults`` shows the live fault table, ``POST`` adds a spec (the body, or
``{"spec": "..."}``), ``DELETE`` clears it. ``POST /__sandbox/clock`` with
``{"advance": seconds}`` moves a FakeClock. ``POST /__sandbox/save`` writes ``--data``.
Those come from :mod:`connector.sandbox.common.admin`; the token route is Xero's own, and
``POST /__sandbox/Payments/{PaymentID}/reconcile`` (body ``{"reconciled": false}`` to undo)
does what an accountant does in bank reconciliation, which Xero's API cannot.
"""

from __future__ import annotations

import json

from flask import Response, request

from connector.sandbox.common.admin import admin_blueprint, json_responder
from connector.sandbox.xero.state import LedgerError, NotFound
from connector.sandbox.xero.web import JSON, sandbox

admin = admin_blueprint("xero_admin", __name__, sandbox, JSON)
_json = json_responder(JSON)


@admin.route("/tokens", methods=["POST"])
def tokens() -> Response:
    """A fresh token set for the sandbox app (what the CLI prints), for scripts and curl."""
    return _json(sandbox().issue_tokens())


@admin.route("/Payments/<payment_id>/reconcile", methods=["POST"])
def reconcile_payment(payment_id: str) -> Response:
    """Mark a payment reconciled (or not) in whichever organisation holds it."""
    ledger = sandbox().ledger
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        return _json({"error": "the body must be JSON"}, 400)
    reconciled = bool(body.get("reconciled", True)) if isinstance(body, dict) else True
    tenant = next((t for t in ledger.tenants.values() if payment_id.lower() in t.payments), None)
    if tenant is None:
        return _json({"error": f"no payment {payment_id}"}, 404)
    try:
        payment = ledger.reconcile_payment(tenant.id, payment_id, reconciled)
    except NotFound:
        return _json({"error": f"no payment {payment_id}"}, 404)
    except LedgerError as exc:
        return _json({"error": str(exc)}, 400)
    return _json({"PaymentID": payment.id, "IsReconciled": payment.is_reconciled})
