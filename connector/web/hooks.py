"""Ledger webhooks (``/webhooks/xero``, ``/webhooks/quickbooks``): signed hints to sync soon.

The signature is checked over the raw body in constant time (:mod:`connector.signing`); a bad
one is 401 with nothing done (Xero's intent-to-receive check sends one on purpose). A good one
queues a debounced sync of the tenant or realm it names and answers 200 at once, well inside
Xero's 5 seconds: the sync itself runs later, in the daemon, and re-reads the ledger.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
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


def _receive(provider: str, header: str, key: str, tenants_of: Callable[[Any], set[str]]) -> Response:
    """Check the signature over the raw body, then queue a hint for each tenant the body names.

    A bad signature is 401 with nothing done. A signed body the connector cannot read is still
    answered 200 (the ledger signed it, and a retry would bring the same body), and ignored.
    """
    body = request.get_data(cache=True)
    try:
        verify_base64_hmac(request.headers.get(header), body, [key], name=header)
    except SignatureError as exc:
        log.warning("%s webhook refused: %s", provider, exc.reason)
        return _empty(401)
    try:
        tenants = tenants_of(json.loads(body or b"null"))
    except (ValueError, AttributeError):
        log.warning("%s webhook with a body that is not its JSON: ignored", provider)
        return _empty(200)
    return _hint(provider, tenants)


@bp.route("/xero", methods=["POST"])
def xero() -> Response:
    return _receive("xero", "x-xero-signature", runtime().config.webhooks.xero_key(), _tenants)


@bp.route("/quickbooks", methods=["POST"])
def quickbooks() -> Response:
    return _receive("quickbooks", "intuit-signature", runtime().config.webhooks.quickbooks_verifier(), _realms)


def _tenants(document: Any) -> set[str]:
    """The organisations a Xero delivery names: ``{"events": [{"tenantId": ...}]}``."""
    events = document.get("events") or []
    return {str(e.get("tenantId", "")) for e in events if isinstance(e, dict)}


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
