"""Build the ledger adapter for a stored connection from the config and its encrypted tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.config import Config
from connector.ledgers.base import Ledger
from connector.ledgers.quickbooks import QBO_API_URL, QuickBooksApp, QuickBooksLedger
from connector.ledgers.xero import XERO_API_URL, XERO_IDENTITY_URL, XERO_TOKEN_URL, XeroApp, XeroLedger
from connector.runtime import Runtime
from connector.store.models import Connection
from connector.store.secrets import ConnectionTokens, TokenVault


def xero_app(config: Config) -> XeroApp:
    app = config.ledgers.xero
    return XeroApp(
        client_id=app.client_id,
        client_secret=app.client_secret(),
        api_url=app.api_url or XERO_API_URL,
        identity_url=app.identity_url or XERO_IDENTITY_URL,
        token_url=app.token_url or XERO_TOKEN_URL,
    )


def quickbooks_app(config: Config) -> QuickBooksApp:
    app = config.ledgers.quickbooks
    return QuickBooksApp(
        client_id=app.client_id,
        client_secret=app.client_secret(),
        redirect_uri=app.redirect_uri,
        environment=app.identity_url or "production",  # a discovery document URL points intuit-oauth anywhere
        api_url=app.api_url or QBO_API_URL,
    )


def vault_for(config: Config) -> TokenVault:
    base = Path(config.source).parent if config.source not in ("(defaults)", "") else None
    return TokenVault.from_config(config.security, base)


def ledger_for(rt: Runtime, connection: Connection, **options: Any) -> Ledger:
    """The adapter for ``connection``; ``options`` go to the adapter (tests lower retries, page size)."""
    tokens = ConnectionTokens(rt.sessions, connection.id, vault_for(rt.config))
    if connection.provider == "quickbooks":
        if not connection.tenant_id:
            from connector.ledgers.errors import ReconnectRequired

            raise ReconnectRequired("no QuickBooks company chosen for this connection: connect it first")
        return QuickBooksLedger(quickbooks_app(rt.config), connection.tenant_id, tokens, **options)
    if connection.provider == "xero":
        if not connection.tenant_id:
            from connector.ledgers.errors import ReconnectRequired

            raise ReconnectRequired("no Xero organisation chosen for this connection: connect it first")
        return XeroLedger(xero_app(rt.config), connection.tenant_id, tokens, **options)
    raise NotImplementedError(f"no adapter for {connection.provider} yet")


def save_token(rt: Runtime, connection_id: int, token_response: dict[str, Any]) -> None:
    """Store a fresh token set (from the consent flow) for a connection, encrypted; reopen it for sync."""
    import time

    from connector.store.secrets import TokenSet

    token = dict(token_response)
    if isinstance(token.get("scope"), str):
        token["scope"] = token["scope"].split()
    if token.get("expires_in") and not token.get("expires_at"):
        token["expires_at"] = time.time() + float(token["expires_in"])
    vault = vault_for(rt.config)
    with rt.transaction() as session:
        connection = session.get(Connection, connection_id)
        vault.save(session, connection, TokenSet(token))
        connection.state = "active"
        connection.state_reason = None
        connection.paused_until = None
