"""The OAuth 2.0 authorization-code flow, shared by the setup wizard and the demo.

The ledger's consent page sends the person back with a code; the code is exchanged for a
token set at the token endpoint (client credentials in HTTP Basic, as Xero and Intuit
document). Refreshing is the adapters' business (through their SDKs).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from connector.ledgers.errors import ReconnectRequired, TransientError


@dataclass(frozen=True, slots=True)
class OAuthClient:
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    redirect_uri: str
    scopes: tuple[str, ...]


def new_state() -> str:
    """An unguessable ``state`` that ties the callback to the browser that started the flow."""
    return secrets.token_urlsafe(24)


def new_code_verifier() -> str:
    """A PKCE verifier (RFC 7636 §4.1): 43 to 128 unreserved characters; 64 random here."""
    return secrets.token_urlsafe(48)


def code_challenge(verifier: str) -> str:
    """The S256 challenge for ``verifier``: base64url(sha256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def consent_url(client: OAuthClient, state: str, *, code_verifier: str | None = None) -> str:
    """The provider's consent page for ``client``; with ``code_verifier``, PKCE (S256) is asked for.

    Only send a verifier to a provider that documents PKCE (Xero does; Intuit does not).
    """
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": " ".join(client.scopes),
        "state": state,
    }
    if code_verifier:
        query.update(code_challenge=code_challenge(code_verifier), code_challenge_method="S256")
    sep = "&" if "?" in client.authorize_url else "?"
    return f"{client.authorize_url}{sep}{urlencode(query)}"


def exchange_code(
    client: OAuthClient, code: str, *, code_verifier: str | None = None, timeout: float = 30.0
) -> dict[str, Any]:
    """Trade the consent code for a token set; ``scope`` comes back as a list, ``expires_at`` set.

    The ledger's error text is never echoed whole (it could quote what was sent): only its
    ``error`` code goes into the exception.
    """
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri}
    if code_verifier:
        form["code_verifier"] = code_verifier
    try:
        response = requests.post(
            client.token_url,
            data=form,
            auth=(client.client_id, client.client_secret),
            headers={"Accept": "application/json"},
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise TransientError(f"token endpoint unreachable: {type(exc).__name__}") from None
    if response.status_code in (400, 401):
        error = _error_of(response)
        raise ReconnectRequired(
            f"the ledger refused the consent code: {error}", http_status=response.status_code, code=error
        )
    if response.status_code != 200:
        raise TransientError("token endpoint failed", http_status=response.status_code)
    try:
        token = response.json()
    except ValueError:
        raise TransientError("the token endpoint answered with something that is not JSON") from None
    if not isinstance(token, dict) or "access_token" not in token:
        raise TransientError("the token endpoint answered without a token")
    token["scope"] = str(token.get("scope", "")).split()
    if token.get("expires_in") and "expires_at" not in token:
        token["expires_at"] = time.time() + float(token["expires_in"])
    return token


def _error_of(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", "error"))[:60]
    except (ValueError, AttributeError):
        return "error"
