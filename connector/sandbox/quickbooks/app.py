"""The Flask application and the request pipeline every API call goes through.

Order for a ``/v3/company/{realmId}/...`` call, mirroring where QBO does each:

1. ``drop`` fault: close the connection before anything happens;
2. bearer token: 401 in the lower-case ``fault`` envelope with ``WWW-Authenticate``
   (and the ``expire_tokens`` fault);
3. the token's consent must cover the realm in the path (403);
4. per-realm rate limits: 500 requests a minute, 10 at once, and a separate budget for
   ``/batch``; refused calls get the XML ``ThrottleExceeded`` 429;
5. latency, then the ``503``, ``5xx`` and ``429`` faults (nothing is written);
6. ``?requestid=``: a repeat replays the first answer without running again;
7. the route itself; then ``malformed``/``lost`` faults, ``intuit_tid`` and observers.
"""

from __future__ import annotations

import uuid

from flask import Flask, Response, g, request

from connector.sandbox.common.faults import FaultKind
from connector.sandbox.common.pipeline import (
    complete_replay,
    dropped,
    injected_fault,
    notify_observers,
    replay_or_begin,
    response_faults,
)
from connector.sandbox.common.wsgi import CaseInsensitivePaths
from connector.sandbox.quickbooks import wire
from connector.sandbox.quickbooks.model import ENTITIES
from connector.sandbox.quickbooks.oauth import Unauthorized
from connector.sandbox.quickbooks.routes_admin import admin
from connector.sandbox.quickbooks.routes_api import api
from connector.sandbox.quickbooks.routes_oauth import oauth
from connector.sandbox.quickbooks.web import (
    API_PREFIX,
    DEFAULT_OFFSET,
    EXTENSION,
    JSON,
    Services,
    auth_response,
    fault_response,
    sandbox,
    throttle_response,
)
from connector.sandbox.quickbooks.wire import QboError

REQUESTID_MAX = 50

# Fixed path segments in their canonical spelling (QBO matches paths case-insensitively).
SEGMENTS = {name.lower(): name.lower() for name in ENTITIES} | {
    s.lower(): s for s in ("v3", "company", "query", "cdc", "batch", "companyinfo", "preferences", "__sandbox")
}


def _area(path: str) -> str:
    if path.startswith(API_PREFIX):
        return "api"
    if path.startswith("/__sandbox"):
        return "admin"
    if path.startswith(("/.well-known/", "/connect/", "/oauth2/", "/v1/openid_connect/", "/op/")):
        return "oauth"
    return "other"


def _pipeline() -> Response | None:
    sb = sandbox()
    g.area = _area(request.path)
    g.fault = None
    g.release = []
    g.idempotency = None
    if g.area != "api":
        return None
    faults = sb.faults
    if dropped(faults):
        return Response(b"", status=500)
    parts = request.path.split("/")
    realm_id = parts[3] if len(parts) > 3 else ""
    books = sb.ledger.realms.get(realm_id)
    g.offset = books.company.utc_offset_minutes if books else DEFAULT_OFFSET

    authorization = request.headers.get("Authorization")
    try:
        grant = sb.auth.check_access(authorization)
    except Unauthorized as exc:
        return auth_response(exc.detail)
    if faults.hit(FaultKind.EXPIRE_TOKEN):
        g.fault = "expire_tokens"
        sb.auth.expire_token(authorization)
        return auth_response(f"Token expired: {(authorization or '')[7:19]}...")
    if books is None or grant.realm_id != realm_id:
        error = QboError("003100", "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                         f"This token is not authorized for company {realm_id}", type="SERVICE", status=403)
        return fault_response(error)

    for limiter in (sb.limiter, sb.batch_limiter if parts[4:5] == ["batch"] else None):
        if limiter is None:
            continue
        admission = limiter.acquire(realm_id)
        if not admission.admitted:
            return throttle_response()
        g.release.append((limiter, realm_id))

    faulted = injected_fault(
        faults,
        maintenance=lambda: Response(wire.MAINTENANCE_HTML, status=503, content_type="text/html"),
        server_error=lambda: fault_response(QboError.system()),
        rate_limit=throttle_response,
    )
    if faulted is not None:
        return faulted

    requestid = request.args.get("requestid")
    if requestid and request.method == "POST":
        if len(requestid) > REQUESTID_MAX:
            return fault_response(QboError("2050", "Request has invalid or unsupported property",
                                           f"requestid is longer than {REQUESTID_MAX} characters"))
        return replay_or_begin(
            sb.requestids, realm_id, requestid, "",
            conflict=lambda: fault_response(QboError.system("The first request with this requestid is still running")),
        )
    return None


def _finish(response: Response) -> Response:
    sb = sandbox()
    area = g.get("area")
    complete_replay(sb.requestids, response, JSON)
    if area in ("api", "oauth"):
        response.headers["intuit_tid"] = str(uuid.uuid4())
    if area == "api":
        response_faults(sb.faults, response)
    notify_observers(sb.observers, response, area)
    return response


def _teardown(_exc: BaseException | None) -> None:
    for limiter, realm_id in g.pop("release", []):
        limiter.release(realm_id)


def create_app(sb: Services) -> CaseInsensitivePaths:
    """The WSGI app: Flask plus case-insensitive matching of the fixed path segments."""
    app = Flask("connector.sandbox.quickbooks")
    app.extensions[EXTENSION] = sb
    app.url_map.strict_slashes = False
    app.before_request(_pipeline)
    app.after_request(_finish)
    app.teardown_request(_teardown)
    app.register_blueprint(oauth)
    app.register_blueprint(api, url_prefix="/v3/company/<realm_id>")
    app.register_blueprint(admin, url_prefix="/__sandbox")

    @app.errorhandler(QboError)
    def _qbo_error(error: QboError) -> Response:
        return fault_response(error)

    @app.errorhandler(404)
    def _not_found(_err: Exception) -> Response:
        if _area(request.path) == "api":
            return fault_response(QboError("500", "Unsupported Operation",
                                           f"Operation {request.method} {request.path} is not supported by the sandbox",
                                           status=404))
        return Response(b"Not Found", status=404, content_type="text/plain")

    @app.errorhandler(405)
    def _not_allowed(_err: Exception) -> Response:
        return fault_response(QboError("500", "Unsupported Operation",
                                       f"Method {request.method} is not allowed here", status=405))

    @app.errorhandler(500)
    def _crash(_err: Exception) -> Response:
        return fault_response(QboError.system())

    return CaseInsensitivePaths(app, SEGMENTS)
