"""Identity endpoints: consent page, token, revocation and /connections."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import urlencode

from flask import Blueprint, Response, g, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from connector.sandbox.common.consent import consent_page, registered_client
from connector.sandbox.xero.model import from_ms
from connector.sandbox.xero.oauth import OAuthError
from connector.sandbox.xero.web import JSON, sandbox, text_response

identity = Blueprint("xero_identity", __name__)

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Xero sandbox: allow access</title>
<style>body{{font-family:sans-serif;max-width:34rem;margin:3rem auto}}
button{{font-size:1rem;padding:.5rem 1rem}}</style>
</head><body>
<h1>{app} wants to connect</h1>
<p>Signed in as {email}. Scopes: <code>{scope}</code></p>
<form method="post" action="{action}">
{hidden}
<fieldset><legend>Organisations</legend>{tenants}</fieldset>
<p><button name="decision" value="allow" id="allow">Allow access</button>
<button name="decision" value="deny">Cancel</button></p>
</form>
{auto}
</body></html>
"""


def _oauth_error(exc: OAuthError) -> Response:
    body = {"error": exc.error}
    return Response(json.dumps(body).encode(), status=exc.status, content_type=JSON)


def _client_credentials() -> tuple[str | None, str | None]:
    """Basic auth (the code exchange in Xero's docs) or form fields (what the SDK sends)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            return client_id, secret
        except (ValueError, UnicodeDecodeError):
            return None, None
    return request.form.get("client_id"), request.form.get("client_secret")


_CONSENT_FIELDS = ("client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method")


def _bad_client() -> Response:
    return text_response("Sorry, something went wrong: unknown client_id or redirect_uri", 400)


@identity.route("/identity/connect/authorize", methods=["GET"])
def authorize_page() -> BaseResponse:
    sb = sandbox()

    def tenants() -> dict[str, str]:
        return {
            "tenants": "".join(
                f'<label><input type="checkbox" name="tenant" value="{t.id}" checked> '
                f"{html.escape(t.org.name)}</label><br>"
                for t in sb.ledger.tenants.values()
            )
        }

    return consent_page(sb, _PAGE, _CONSENT_FIELDS, _bad_client, tenants)


@identity.route("/identity/connect/authorize", methods=["POST"])
def authorize_consent() -> Response:
    sb = sandbox()
    form = request.form
    app, redirect_uri = registered_client(sb.auth, form)
    if app is None:
        return _bad_client()
    state = form.get("state")
    if form.get("decision") != "allow":
        query = {"error": "access_denied", **({"state": state} if state else {})}
        return redirect(f"{redirect_uri}?{urlencode(query)}")
    scopes = form.get("scope", "").split()
    tenant_ids = [t for t in form.getlist("tenant") if t in sb.ledger.tenants] or list(sb.ledger.tenants)
    code = sb.auth.issue_code(
        app.client_id,
        redirect_uri,
        scopes,
        tenant_ids,
        form.get("code_challenge"),
        form.get("code_challenge_method"),
    )
    query = {"code": code, "scope": " ".join(scopes), **({"state": state} if state else {})}
    sep = "&" if "?" in redirect_uri else "?"
    return redirect(f"{redirect_uri}{sep}{urlencode(query)}")


@identity.route("/connect/token", methods=["POST"])
def token() -> Response:
    sb = sandbox()
    client_id, secret = _client_credentials()
    grant_type = request.form.get("grant_type")
    try:
        if grant_type == "authorization_code":
            body = sb.auth.exchange_code(
                request.form.get("code", ""),
                client_id,
                secret,
                request.form.get("redirect_uri", ""),
                request.form.get("code_verifier"),
            )
        elif grant_type == "refresh_token":
            body = sb.auth.refresh(request.form.get("refresh_token", ""), client_id, secret)
        else:
            raise OAuthError("unsupported_grant_type")
    except OAuthError as exc:
        return _oauth_error(exc)
    return Response(json.dumps(body).encode(), content_type=JSON, headers={"Cache-Control": "no-store"})


@identity.route("/connect/revocation", methods=["POST"])
def revocation() -> Response:
    sb = sandbox()
    client_id, secret = _client_credentials()
    try:
        sb.auth.revoke(request.form.get("token", ""), client_id, secret)
    except OAuthError as exc:
        return _oauth_error(exc)
    return Response(b"", status=200)


def _xero_datetime(ms: int) -> str:
    """Identity's timestamp form: no offset, seven fractional digits (2019-12-07T18:46:19.5165400)."""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


@identity.route("/Connections", methods=["GET"])
def connections() -> Response:
    sb = sandbox()
    tenants = sb.ledger.tenants
    links = sb.auth.list_connections(g.grant, request.args.get("authEventId"))
    body = [
        {
            "id": link.id,
            "authEventId": link.auth_event_id,
            "tenantId": link.tenant_id,
            "tenantType": "ORGANISATION",
            "tenantName": tenants[link.tenant_id].org.name,
            "createdDateUtc": _xero_datetime(link.created_ms),
            "updatedDateUtc": _xero_datetime(link.updated_ms),
        }
        for link in links
        if link.tenant_id in tenants
    ]
    return Response(json.dumps(body).encode(), content_type=JSON)


@identity.route("/Connections/<connection_id>", methods=["DELETE"])
def disconnect(connection_id: str) -> Response:
    sb = sandbox()
    if not sb.auth.disconnect(g.grant, connection_id):
        return text_response("", 404)
    return Response(b"", status=204)
