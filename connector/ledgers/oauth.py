"""The OAuth 2.0 authorization-code flow, shared by the setup wizard and the demo.

The ledger's consent page sends the person back with a code; the code is exchanged for a
token set at the token endpoint (client credentials in HTTP Basic, as Xero and Intuit
document). Refreshing is the adapters' business (through their SDKs).
"""

from __future__ import annotations

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


def consent_url(client: OAuthClient, state: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": " ".join(client.scopes),
        "state": state,
    }
    return f"{client.authorize_url}?{urlencode(query)}"


def exchange_code(client: OAuthClient, code: str, *, timeout: float = 30.0) -> dict[str, Any]:
    """Trade the consent code for a token set; ``scope`` comes back as a list, ``expires_at`` set."""
    try:
        response = requests.post(
            client.token_url,
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri},
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
    token = response.json()
    token["scope"] = str(token.get("scope", "")).split()
    if token.get("expires_in") and "expires_at" not in token:
        token["expires_at"] = time.time() + float(token["expires_in"])
    return token


def _error_of(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", "error"))
    except ValueError:
        return response.text[:100] or "error"
