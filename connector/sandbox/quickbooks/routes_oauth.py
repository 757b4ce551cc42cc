"""Intuit's OAuth endpoints: discovery document, consent page, token, revoke, userinfo.

``AuthClient(..., environment=<sandbox discovery URL>)`` fetches the discovery document
in its constructor and takes every endpoint from it, so nothing in intuit-oauth needs
patching. The consent page redirects with ``code``, ``state`` and ``realmId``.
"""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from connector.sandbox.common.consent import consent_page, registered_client
from connector.sandbox.quickbooks.oauth import ISSUER, OAuthError, Unauthorized, basic_credentials
from connector.sandbox.quickbooks.web import JSON, sandbox

oauth = Blueprint("qbo_oauth", __name__)

DISCOVERY_PATHS = ("/.well-known/openid_configuration", "/.well-known/openid_sandbox_configuration")
AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/oauth2/v1/tokens/revoke"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/op/v1/jwks"

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>QuickBooks sandbox: connect</title>
<style>body{{font-family:sans-serif;max-width:34rem;margin:3rem auto}}
button{{font-size:1rem;padding:.5rem 1rem}}</style>
</head><body>
<h1>{app} wants to connect to QuickBooks</h1>
<p>Signed in as {email}. Scopes: <code>{scope}</code></p>
<form method="post" action="{action}">
{hidden}
<fieldset><legend>Company</legend>{realms}</fieldset>
<p><button name="decision" value="allow" id="allow">Connect</button>
<button name="decision" value="deny">Cancel</button></p>
</form>
{auto}
</body></html>
"""


def _json(document: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(document).encode(), status=status, content_type=JSON, headers=headers)


def _oauth_error(exc: OAuthError) -> Response:
    return _json({"error": exc.error}, exc.status)


def discovery_document(base: str) -> dict[str, object]:
    return {
        "issuer": ISSUER,
        "authorization_endpoint": base + AUTHORIZE_PATH,
        "token_endpoint": base + TOKEN_PATH,
        "userinfo_endpoint": base + USERINFO_PATH,
        "revocation_endpoint": base + REVOKE_PATH,
        "jwks_uri": base + JWKS_PATH,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }


def _discovery() -> Response:
    return _json(discovery_document(request.host_url.rstrip("/")))


for _path in DISCOVERY_PATHS:
    oauth.add_url_rule(_path, f"discovery{_path.count('sandbox')}", _discovery, methods=["GET"])


def _bad_client() -> Response:
    return Response(b"invalid client_id or redirect_uri", status=400, content_type="text/plain")


@oauth.route(AUTHORIZE_PATH, methods=["GET"])
def authorize_page() -> BaseResponse:
    sb = sandbox()

    def realms() -> dict[str, str]:
        return {"realms": "".join(
            f'<label><input type="radio" name="realmId" value="{b.realm_id}"{" checked" if n == 0 else ""}> '
            f"{html.escape(b.company.name)} ({b.company.currency})</label><br>"
            for n, b in enumerate(sb.ledger.realms.values())
        )}

    return consent_page(sb, _PAGE, ("client_id", "redirect_uri", "scope", "state"), _bad_client, realms)


@oauth.route(AUTHORIZE_PATH, methods=["POST"])
def authorize_consent() -> BaseResponse:
    sb = sandbox()
    form = request.form
    app, redirect_uri = registered_client(sb.auth, form)
    if app is None:
        return _bad_client()
    state = form.get("state")
    sep = "&" if "?" in redirect_uri else "?"
    if form.get("decision") != "allow":
        query = {"error": "access_denied", **({"state": state} if state else {})}
        return redirect(f"{redirect_uri}{sep}{urlencode(query)}")
    realm_id = form.get("realmId") or next(iter(sb.ledger.realms))
    if realm_id not in sb.ledger.realms:
        return Response(b"unknown company", status=400, content_type="text/plain")
    scopes = form.get("scope", "").split()
    code = sb.auth.issue_code(app.client_id, redirect_uri, scopes, realm_id)
    query = {"code": code, "state": state or "", "realmId": realm_id}
    return redirect(f"{redirect_uri}{sep}{urlencode(query)}")


@oauth.route(TOKEN_PATH, methods=["POST"])
def token() -> Response:
    sb = sandbox()
    client_id, secret = basic_credentials(request.headers.get("Authorization"))
    if client_id is None:
        client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
    grant_type = request.form.get("grant_type")
    try:
        if grant_type == "authorization_code":
            body = sb.auth.exchange_code(request.form.get("code", ""), client_id, secret,
                                         request.form.get("redirect_uri", ""))
        elif grant_type == "refresh_token":
            body = sb.auth.refresh(request.form.get("refresh_token", ""), client_id, secret)
        else:
            raise OAuthError("unsupported_grant_type")
    except OAuthError as exc:
        return _oauth_error(exc)
    return _json(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@oauth.route(REVOKE_PATH, methods=["POST"])
def revoke() -> Response:
    sb = sandbox()
    client_id, secret = basic_credentials(request.headers.get("Authorization"))
    body = request.get_json(silent=True) or {}
    try:
        sb.auth.revoke(str(body.get("token") or request.form.get("token", "")), client_id, secret)
    except OAuthError as exc:
        return _oauth_error(exc)
    return Response(b"", status=200)


@oauth.route(USERINFO_PATH, methods=["GET"])
def userinfo() -> Response:
    sb = sandbox()
    try:
        sb.auth.check_access(request.headers.get("Authorization"))
    except Unauthorized:
        return _json({"error": "invalid_token"}, 401)
    return _json({"sub": sb.auth.user_id, "email": sb.auth.user_email, "emailVerified": True,
                  "givenName": "Sandbox", "familyName": "Owner"})


@oauth.route(JWKS_PATH, methods=["GET"])
def jwks() -> Response:
    return _json({"keys": []})
