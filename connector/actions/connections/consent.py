"""Consent: the provider's sign-in page, its answer checked, the tokens kept in a new grant.

See the package's docstring for the ``state``, browser binding and PKCE rules. A reconnect is a
consent whose fresh tokens go to the connection that lost its grant (:func:`_finish_reconnect`).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from connector.actions.connections.common import _RESTART, PROVIDERS, _connection, _digest, _ledger_trouble, log
from connector.actions.connections.grants import MemoryTokens, _retire_grant
from connector.actions.context import Actor
from connector.actions.errors import InvalidInput, RefusedAction
from connector.config import Config
from connector.ledgers.errors import LedgerError, ReconnectRequired, TransientError
from connector.ledgers.oauth import OAuthClient, consent_url, exchange_code, new_code_verifier, new_state
from connector.ledgers.scopes import scopes_for
from connector.ledgers.xero import XERO_AUTHORIZE_URL, XERO_TOKEN_URL, XeroLedger
from connector.runtime import Runtime
from connector.store.models import Connection, Grant, OAuthRequest
from connector.store.secrets import TokenSet
from connector.store.types import utcnow
from connector.sync.connect import vault_for, xero_app

INTUIT_AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
INTUIT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
#: How long a consent may take, from the click on "Connect" to the provider sending the person back.
CONSENT_TTL = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ConsentStart:
    """Where to send the person (the provider's consent page), and the request it belongs to."""

    url: str
    request_id: int


@dataclass(frozen=True, slots=True)
class ConsentDone:
    """A consent that came back good: what to do next depends on ``purpose``."""

    request_id: int
    provider: str
    purpose: str
    #: The reconnected connection (purpose "reconnect").
    connection_id: int | None = None


def oauth_client(config: Config, provider: str) -> OAuthClient:
    """The OAuth client of ``provider`` from ``[ledgers.<provider>]``, real endpoints by default."""
    _check_provider(provider)
    app = getattr(config.ledgers, provider)
    if not app.client_id:
        raise InvalidInput(
            f"{PROVIDERS[provider]} is not set up yet: put the app's client_id in [ledgers.{provider}] of the "
            f"config file and its secret in the variable named by client_secret_env (see docs/setup.md)",
            field="provider",
        )
    defaults = (XERO_AUTHORIZE_URL, XERO_TOKEN_URL) if provider == "xero" else (INTUIT_AUTHORIZE_URL, INTUIT_TOKEN_URL)
    return OAuthClient(
        client_id=app.client_id,
        client_secret=app.client_secret(),
        authorize_url=app.authorize_url or defaults[0],
        token_url=app.token_url or defaults[1],
        redirect_uri=app.redirect_uri,
        scopes=scopes_for(provider, app.scopes),
    )


def begin_consent(
    rt: Runtime,
    provider: str,
    *,
    browser: str,
    actor: Actor,
    purpose: str = "connect",
    connection_id: int | None = None,
) -> ConsentStart:
    """Remember a consent in flight and give the provider's URL to send the person to."""
    client = oauth_client(rt.config, provider)
    if purpose not in ("connect", "reconnect"):
        raise InvalidInput(f"unknown purpose {purpose!r}", field="purpose")
    if not browser:
        raise InvalidInput("this browser has no session: log in again", field="browser")
    state = new_state()
    verifier = new_code_verifier() if provider == "xero" else None  # Intuit documents no PKCE
    with rt.transaction() as session:
        if purpose == "reconnect":
            row = _connection(session, connection_id)
            if row.provider != provider:
                raise InvalidInput(f"{row.name} is a {PROVIDERS[row.provider]} connection", field="provider")
        request = OAuthRequest(
            state_hash=_digest(state),
            browser=_digest(browser),
            provider=provider,
            purpose=purpose,
            connection_id=connection_id,
            code_verifier=verifier,
            requested_by=actor.name,
            expires_at=utcnow() + CONSENT_TTL,
        )
        session.add(request)
        session.flush()
        request_id = request.id
    return ConsentStart(consent_url(client, state, code_verifier=verifier), request_id)


def complete_consent(
    rt: Runtime,
    *,
    state: str | None,
    browser: str | None,
    code: str | None = None,
    error: str | None = None,
    realm_id: str | None = None,
) -> ConsentDone:
    """Check the provider's answer and, when it is a good one, keep the tokens in a new grant.

    Raises :class:`RefusedAction` with a plain message, having stored no grant, connection or
    token, for: a ``state`` this browser did not start (forged, stolen), one already used
    (replayed), one older than 10 minutes, a refusal at the provider, and a code the provider
    will not exchange.
    """
    request = _claim(rt, state or "", browser or "")
    provider = request.provider
    name = PROVIDERS[provider]
    if error:
        if error == "access_denied":
            raise RefusedAction(
                f"You chose not to allow access in {name}, so nothing was connected. "
                f"To connect, start again and click Allow on {name}'s page."
            )
        raise RefusedAction(f"{name} did not give access ({_word(error)}), so nothing was connected. {_RESTART}")
    if not code:
        raise RefusedAction(f"{name} sent the browser back without a code, so nothing was connected. {_RESTART}")
    if provider == "quickbooks" and not realm_id:
        raise RefusedAction(f"{name} did not say which company was chosen, so nothing was connected. {_RESTART}")
    client = oauth_client(rt.config, provider)
    try:
        token = exchange_code(client, code, code_verifier=request.code_verifier)
    except ReconnectRequired as exc:
        raise RefusedAction(
            f"{name} did not accept this sign-in ({exc.code or 'refused'}), so nothing was connected. {_RESTART}"
        ) from None
    except TransientError:
        raise RefusedAction(
            f"{name} could not be reached to finish signing in, so nothing was connected. Try again in a minute."
        ) from None
    if not token.get("scope"):
        token["scope"] = list(client.scopes)  # Intuit's token answer names no scope
    if request.purpose == "reconnect":
        return _finish_reconnect(rt, request, token, realm_id)
    with rt.transaction() as session:
        grant = Grant(provider=provider, scopes=" ".join(token["scope"]), created_by=request.requested_by)
        session.add(grant)
        vault_for(rt.config).save(session, grant, TokenSet(token))
        session.flush()
        row = session.get(OAuthRequest, request.id)
        row.grant_id = grant.id
        row.realm_id = realm_id
    log.info("consent for %s completed by %s (grant #%s)", provider, request.requested_by, grant.id)
    return ConsentDone(request.id, provider, "connect")


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    provider: str
    purpose: str
    connection_id: int | None
    code_verifier: str | None
    requested_by: str


def _claim(rt: Runtime, state: str, browser: str) -> _Claimed:
    """The request this ``state`` belongs to, used up now; refused unless this browser started it."""
    unknown = RefusedAction(
        "This sign-in was not started from this browser, or it was already used, so nothing was connected. " + _RESTART
    )
    if not state or not browser:
        raise unknown
    with rt.transaction() as session:
        request = session.scalar(select(OAuthRequest).where(OAuthRequest.state_hash == _digest(state)))
        if request is None or not secrets.compare_digest(request.browser, _digest(browser)):
            raise unknown
        if request.used_at is not None:
            raise unknown
        if request.expires_at < utcnow():
            raise RefusedAction(
                f"The sign-in took longer than {int(CONSENT_TTL.total_seconds() // 60)} minutes, "
                f"so nothing was connected. {_RESTART}"
            )
        claimed = session.execute(
            update(OAuthRequest)
            .where(OAuthRequest.id == request.id, OAuthRequest.used_at.is_(None))
            .values(used_at=utcnow())
        )
        if claimed.rowcount != 1:
            raise unknown
        out = _Claimed(
            request.id,
            request.provider,
            request.purpose,
            request.connection_id,
            request.code_verifier,
            request.requested_by,
        )
        request.code_verifier = None  # spent either way: it is never needed again
    return out


def _finish_reconnect(rt: Runtime, request: _Claimed, token: dict[str, Any], realm_id: str | None) -> ConsentDone:
    """Fresh tokens for a connection that lost its grant: same row, so all its history stays."""
    from connector.ledgers import xero_setup

    with rt.sessions() as session:
        row = _connection(session, request.connection_id)
        tenant_id, old_grant, provider = row.tenant_id, row.grant_id, row.provider
        label = row.tenant_name or row.name
    memory = MemoryTokens(token)
    reached: set[str] = set()
    if provider == "xero":
        try:
            ledger = XeroLedger(xero_app(rt.config), "", memory)
            reached = {link.tenant_id for link in xero_setup.tenant_links(ledger)}
        except LedgerError as exc:
            raise RefusedAction(_ledger_trouble(provider, exc)) from None
        if tenant_id not in reached:
            raise RefusedAction(f"{label} was not ticked in Xero, so nothing changed. Reconnect again and tick it.")
    elif realm_id != tenant_id:
        raise RefusedAction(
            f"A different QuickBooks company was chosen, so nothing changed. Reconnect again and choose {label}."
        )
    token = memory.load() or token
    with rt.transaction() as session:
        grant = Grant(provider=provider, scopes=" ".join(token.get("scope") or []), created_by=request.requested_by)
        session.add(grant)
        vault_for(rt.config).save(session, grant, TokenSet(token))
        session.flush()
        mended = [session.get(Connection, request.connection_id)]
        if old_grant is not None and provider == "xero":  # others on the same dead grant, reached again
            mended += [
                c
                for c in session.scalars(select(Connection).where(Connection.grant_id == old_grant))
                if c.id != request.connection_id and c.tenant_id in reached and c.state != "disconnected"
            ]
        for row in mended:
            row.grant_id = grant.id
            row.token_ciphertext = None
            row.token_expires_at = None
            ready = bool((row.settings or {}).get("accounts")) and "lead_days" in (row.settings or {})
            row.state = "active" if ready or row.origin == "config" else "setup"
            row.state_reason = None
            row.paused_until = None
        _retire_grant(session, old_grant)
        session.get(OAuthRequest, request.id).grant_id = grant.id
    log.info("connection #%s reconnected by %s", request.connection_id, request.requested_by)
    return ConsentDone(request.id, provider, "reconnect", request.connection_id)


def _check_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise InvalidInput("Choose Xero or QuickBooks Online.", field="provider")


def _word(error: str) -> str:
    """A provider's error code, safe to show (it came in a URL anyone can type)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "", error)[:40] or "error"
