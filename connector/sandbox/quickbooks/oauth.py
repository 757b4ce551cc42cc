"""Intuit's OAuth 2.0 service: consent codes, bearer tokens, refresh rotation, revocation.

Access tokens live one hour. Every refresh returns a new refresh token; the one it
replaced keeps working for 24 hours after that (a client whose response got lost can
retry) and answers with the newest token of the chain. Unused refresh tokens expire
after ``x_refresh_token_expires_in`` (about 101 days). Anything else is ``invalid_grant``.
Clients authenticate with HTTP Basic (what intuit-oauth sends). One consent covers one
company (realm), as in QuickBooks. No ``id_token`` is ever issued: intuit-oauth would
verify it against Intuit's public keys over the network.
"""

from __future__ import annotations

import base64
import hmac
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from connector.sandbox.common.clock import Clock
from connector.sandbox.common.oauth import OAuthError, TokenTable, Unauthorized
from connector.sandbox.quickbooks.model import to_epoch

ACCESS_TTL = 3600
REFRESH_TTL = 8_726_400  # what Intuit reports in x_refresh_token_expires_in for a new token
REFRESH_GRACE = 24 * 3600
CODE_TTL = 300
SCOPE_ACCOUNTING = "com.intuit.quickbooks.accounting"
ISSUER = "https://oauth.platform.intuit.com/op/v1"


@dataclass
class App:
    client_id: str
    client_secret: str
    name: str = "Connector Sandbox App"
    redirect_uris: list[str] = field(default_factory=list)  # empty: any http(s) URI


@dataclass
class Grant:
    """One consent: an app connected to one company with some scopes."""

    id: str
    client_id: str
    realm_id: str
    scopes: list[str]
    created: int
    revoked: bool = False


@dataclass
class RefreshRecord:
    token: str
    grant_id: str
    issued: int
    expires: int
    superseded: int | None = None  # when a refresh replaced it
    successor: str | None = None


@dataclass
class AccessRecord:
    token: str
    grant_id: str
    issued: int
    expires: int
    expired_early: bool = False


@dataclass
class CodeRecord:
    code: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    realm_id: str
    issued: int
    used: bool = False


def basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    """(client_id, client_secret) from an ``Authorization: Basic`` header."""
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, None
    return client_id, secret


class AuthServer(TokenTable):
    """All OAuth state of one sandbox; thread-safe."""

    def __init__(self, clock: Clock, seed: int = 0, user_email: str = "owner@sandbox.example.com") -> None:
        self.clock = clock
        self._rng = random.Random(f"qbo-oauth-{seed}")
        self._lock = threading.RLock()
        self.user_email = user_email
        self.user_id = self._token("", 32)
        self.apps: dict[str, App] = {}
        self.grants: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, RefreshRecord] = {}
        self.access_tokens: dict[str, AccessRecord] = {}
        self.codes: dict[str, CodeRecord] = {}
        self.revision = 0

    def _token(self, prefix: str, length: int) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        with self._lock:
            return prefix + "".join(self._rng.choice(alphabet) for _ in range(length))

    def _now(self) -> int:
        return to_epoch(self.clock.now())

    # --- apps ------------------------------------------------------------------------------
    def register_app(self, client_id: str, client_secret: str, name: str = "Connector Sandbox App",
                     redirect_uris: list[str] | None = None) -> App:
        with self._lock:
            app = App(client_id, client_secret, name, list(redirect_uris or []))
            self.apps[client_id] = app
            self.revision += 1
            return app

    def authenticate_client(self, client_id: str | None, client_secret: str | None) -> App:
        app = self.apps.get(client_id or "")
        if app is None or not hmac.compare_digest(app.client_secret, client_secret or ""):
            raise OAuthError("invalid_client", status=401)
        return app

    # --- authorization code ---------------------------------------------------------------------
    def issue_code(self, client_id: str, redirect_uri: str, scopes: list[str], realm_id: str) -> str:
        with self._lock:
            code = self._token("AB11", 40)
            self.codes[code] = CodeRecord(code, client_id, redirect_uri, scopes, realm_id, self._now())
            return code

    def exchange_code(self, code: str, client_id: str | None, client_secret: str | None,
                      redirect_uri: str) -> dict[str, Any]:
        self._token_fault()
        with self._lock:
            app = self.authenticate_client(client_id, client_secret)
            record = self.codes.get(code)
            if record is None or record.used or record.client_id != app.client_id:
                raise OAuthError("invalid_grant")
            if self._now() - record.issued > CODE_TTL or record.redirect_uri != redirect_uri:
                raise OAuthError("invalid_grant")
            record.used = True
            return self.grant_tokens(app.client_id, record.scopes, record.realm_id)

    def grant_tokens(self, client_id: str, scopes: list[str], realm_id: str) -> dict[str, Any]:
        """Consent given: a new grant for the realm and its first token pair."""
        with self._lock:
            if client_id not in self.apps:
                raise OAuthError("invalid_client", status=401)
            grant = Grant(self._token("", 24), client_id, realm_id, list(scopes), self._now())
            self.grants[grant.id] = grant
            return self._issue(grant, self._new_refresh(grant))

    def _new_refresh(self, grant: Grant) -> RefreshRecord:
        now = self._now()
        record = RefreshRecord(self._token(f"AB11{now}", 40), grant.id, now, now + REFRESH_TTL)
        self.refresh_tokens[record.token] = record
        return record

    def _issue(self, grant: Grant, refresh: RefreshRecord) -> dict[str, Any]:
        now = self._now()
        access = self._token("eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..", 120)
        self.access_tokens[access] = AccessRecord(access, grant.id, now, now + ACCESS_TTL)
        self.revision += 1
        return {
            "token_type": "bearer",
            "expires_in": ACCESS_TTL,
            "access_token": access,
            "refresh_token": refresh.token,
            "x_refresh_token_expires_in": max(0, refresh.expires - now),
        }

    # --- refresh and revoke ---------------------------------------------------------------------
    def refresh(self, token: str, client_id: str | None, client_secret: str | None) -> dict[str, Any]:
        self._token_fault()
        with self._lock:
            app = self.authenticate_client(client_id, client_secret)
            record = self.refresh_tokens.get(token)
            grant = self.grants.get(record.grant_id) if record else None
            if record is None or grant is None or grant.revoked or grant.client_id != app.client_id:
                raise OAuthError("invalid_grant")
            now = self._now()
            if now >= record.expires:
                raise OAuthError("invalid_grant")
            if record.superseded is None:
                fresh = self._new_refresh(grant)
                record.superseded, record.successor = now, fresh.token
                return self._issue(grant, fresh)
            if now - record.superseded > REFRESH_GRACE:
                raise OAuthError("invalid_grant")
            latest = record
            while latest.successor is not None:
                latest = self.refresh_tokens[latest.successor]
            return self._issue(grant, latest)

    def revoke(self, token: str, client_id: str | None, client_secret: str | None) -> None:
        """Revoking a refresh or access token ends the whole grant (Intuit disconnects the app)."""
        with self._lock:
            app = self.authenticate_client(client_id, client_secret)
            record: RefreshRecord | AccessRecord | None = self.refresh_tokens.get(token)
            record = record or self.access_tokens.get(token)
            if record is None:
                return
            grant = self.grants[record.grant_id]
            if grant.client_id == app.client_id:
                grant.revoked = True
                self.revision += 1

    # --- bearer checks ----------------------------------------------------------------------------
    def check_access(self, authorization: str | None) -> Grant:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("Token invalid: no bearer token")
        token = authorization[7:].strip()
        with self._lock:
            record = self.access_tokens.get(token)
            grant = self.grants.get(record.grant_id) if record else None
            if record is None or grant is None:
                raise Unauthorized("Token invalid")
            if grant.revoked:
                raise Unauthorized("Token revoked")
            if record.expired_early or self._now() >= record.expires:
                raise Unauthorized(f"Token expired: {token[:12]}...")
            return grant

    def purge_expired(self) -> None:
        """Drop access tokens long expired (keeps a long benchmark's table small)."""
        cutoff = self._now() - ACCESS_TTL
        with self._lock:
            for token in [t for t, r in self.access_tokens.items() if r.expires < cutoff]:
                del self.access_tokens[token]

    # --- persistence ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "user_id": self.user_id,
                "apps": [asdict(a) for a in self.apps.values()],
                "grants": [asdict(g) for g in self.grants.values()],
                "refresh_tokens": [asdict(r) for r in self.refresh_tokens.values()],
                "access_tokens": [asdict(r) for r in self.access_tokens.values()],
            }

    def load_dict(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.user_id = data["user_id"]
            self.apps = {a["client_id"]: App(**a) for a in data["apps"]}
            self.grants = {g["id"]: Grant(**g) for g in data["grants"]}
            self.refresh_tokens = {r["token"]: RefreshRecord(**r) for r in data["refresh_tokens"]}
            self.access_tokens = {r["token"]: AccessRecord(**r) for r in data["access_tokens"]}
            self.revision += 1
