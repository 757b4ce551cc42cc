"""Build the ledger adapter for a stored connection from the config and its encrypted tokens."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.config import Config
from connector.ledgers.base import Ledger
from connector.ledgers.errors import ReconnectRequired
from connector.ledgers.quickbooks import QBO_API_URL, QuickBooksApp, QuickBooksLedger
from connector.ledgers.xero import XERO_API_URL, XERO_IDENTITY_URL, XERO_TOKEN_URL, XeroApp, XeroLedger
from connector.runtime import Runtime
from connector.store.models import Connection
from connector.store.secrets import ConnectionTokens, SecretKeyError, TokenVault, WrongTokenKey


class TokenUnreadable(ReconnectRequired, SecretKeyError):
    """The connection's stored tokens do not open with the configured key (it was changed or replaced).

    A :class:`ReconnectRequired`: the runner marks the connection ``needs_reconnect`` with this
    message and fails the run; the other connections go on. Putting the original key back, or
    connecting the ledger again (which seals fresh tokens with the current key), mends it. Also a
    :class:`~connector.store.secrets.SecretKeyError`, so a command that needs the ledger outside a
    sync (``quarantine release``) answers it in one line, like any other key problem.
    """


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
    """The token vault; :class:`~connector.store.secrets.SecretKeyError` if the key cannot be had at all."""
    base = Path(os.path.abspath(config.source)).parent if config.source not in ("(defaults)", "") else None
    return TokenVault.from_config(config.security, base)


def check_token(rt: Runtime, connection: Connection, vault: TokenVault | None = None) -> None:
    """Open ``connection``'s stored tokens now, before anything is asked of its ledger.

    Raises :class:`TokenUnreadable` (a ``ReconnectRequired``) when they were sealed with another
    key, and :class:`~connector.store.secrets.SecretKeyError` when the key itself cannot be had
    (bad variable, key file unreadable or open to others): a problem of the whole installation,
    not of one connection. No stored token at all is left to the adapter, which says so on its
    first call.
    """
    vault = vault or vault_for(rt.config)
    try:
        vault.load(connection)
    except WrongTokenKey as exc:
        raise TokenUnreadable(str(exc)) from None


def ledger_for(rt: Runtime, connection: Connection, **options: Any) -> Ledger:
    """The adapter for ``connection``; ``options`` go to the adapter (tests lower retries, page size).

    The stored tokens are opened first (:func:`check_token`), so a wrong key is a
    ``ReconnectRequired`` the runner catches, not an error half-way through a run.
    """
    vault = vault_for(rt.config)
    check_token(rt, connection, vault)
    ceiling = (connection.settings or {}).get("max_amount")
    if ceiling and "max_amount" not in options:  # the connection's own ceiling for absurd amounts
        options = {**options, "max_amount": Decimal(str(ceiling))}
    tokens = ConnectionTokens(rt.sessions, connection.id, vault)
    if connection.provider == "quickbooks":
        if not connection.tenant_id:
            raise ReconnectRequired("no QuickBooks company chosen for this connection: connect it first")
        return QuickBooksLedger(quickbooks_app(rt.config), connection.tenant_id, tokens, **options)
    if connection.provider == "xero":
        if not connection.tenant_id:
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
