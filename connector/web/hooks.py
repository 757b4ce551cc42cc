"""Ledger webhooks (``/webhooks/xero``, ``/webhooks/quickbooks``): signed hints to sync soon.

The signature is checked over the raw body in constant time (:mod:`connector.signing`); a bad
one is 401 with nothing done (Xero's intent-to-receive check sends one on purpose). A good one
queues a debounced sync of the tenant or realm it names and answers 200 at once, well inside
Xero's 5 seconds: the sync itself runs later, in the daemon, and re-reads the ledger.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, request
from werkzeug.wrappers import Response

from connector.actions.hints import connections_for, request_sync
from connector.signing import SignatureError, verify_base64_hmac
from connector.web.context import csrf, runtime

bp = Blueprint("hooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)
log = logging.getLogger("connector.webhooks")


def _empty(status: int) -> Response:
    return Response(b"", status=status)


def _hint(provider: str, tenants: set[str]) -> Response:
    rt = runtime()
    ids, unknown = connections_for(rt, provider, tenants)
    for tenant in unknown:
        log.info("%s webhook for %s, which no connection here has: ignored", provider, tenant)
    request_sync(rt, ids, source=f"{provider} webhook", debounce=rt.config.webhooks.debounce)
    return _empty(200)


@bp.route("/xero", methods=["POST"])
def xero() -> Response:
    body = request.get_data(cache=True)
    try:
        verify_base64_hmac(
            request.headers.get("x-xero-signature"),
            body,
            [runtime().config.webhooks.xero_key()],
            name="x-xero-signature",
        )
    except SignatureError as exc:
        log.warning("Xero webhook refused: %s", exc.reason)
        return _empty(401)
    try:
        events = json.loads(body or b"{}").get("events") or []
        tenants = {str(e.get("tenantId", "")) for e in events if isinstance(e, dict)}
    except (ValueError, AttributeError):
        log.warning("Xero webhook with a body that is not Xero's JSON: ignored")
        return _empty(200)  # signed by Xero, so answered; nothing in it to act on
    return _hint("xero", tenants)


@bp.route("/quickbooks", methods=["POST"])
def quickbooks() -> Response:
    body = request.get_data(cache=True)
    try:
        verify_base64_hmac(
            request.headers.get("intuit-signature"),
            body,
            [runtime().config.webhooks.quickbooks_verifier()],
            name="intuit-signature",
        )
    except SignatureError as exc:
        log.warning("QuickBooks webhook refused: %s", exc.reason)
        return _empty(401)
    try:
        realms = _realms(json.loads(body or b"null"))
    except ValueError:
        log.warning("QuickBooks webhook with a body that is not JSON: ignored")
        return _empty(200)
    return _hint("quickbooks", realms)


def _realms(document: Any) -> set[str]:
    """The realms a QuickBooks delivery names, in either format Intuit sends.

    Classic: ``{"eventNotifications": [{"realmId": ...}]}``; CloudEvents (Intuit's newer format):
    a JSON array of events, each with ``intuitaccountid``.
    """
    if isinstance(document, dict):
        notes = document.get("eventNotifications") or []
        return {str(n.get("realmId", "")) for n in notes if isinstance(n, dict)}
    if isinstance(document, list):
        return {str(e.get("intuitaccountid", "")) for e in document if isinstance(e, dict)}
    return set()


xero.public_reason = "signed by Xero with the webhook key (x-xero-signature)"  # type: ignore[attr-defined]
quickbooks.public_reason = "signed by Intuit with the verifier token (intuit-signature)"  # type: ignore[attr-defined]
