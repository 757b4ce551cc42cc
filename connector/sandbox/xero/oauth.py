"""Xero's identity service: apps, consent, codes, tokens, refresh rotation, connections.

Access tokens live 30 minutes. Refresh tokens rotate and are single-use, but a used one
still works for 30 minutes after its first use (the response may have been lost) and
then yields ``invalid_grant``. Unused refresh tokens die after 60 days. Tokens are
JWT-shaped like Xero's (HS256 with a sandbox key) but the server only trusts its own
table, never the token's claims.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from connector.sandbox.common.clock import Clock
from connector.sandbox.common.oauth import OAuthError, TokenTable, Unauthorized
from connector.sandbox.xero.model import from_ms, to_ms

ACCESS_TTL = timedelta(minutes=30)
REFRESH_TTL = timedelta(days=60)
REFRESH_GRACE = timedelta(minutes=30)
CODE_TTL = timedelta(minutes=5)
DEFAULT_SCOPES = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.transactions",
    "accounting.settings",
    "accounting.contacts",
    "accounting.reports.read",
)
ISSUER = "https://identity.xero.com"


@dataclass
class App:
    client_id: str
    client_secret: str | None  # None: a PKCE (public) app
    name: str = "Connector Sandbox App"
    redirect_uris: list[str] = field(default_factory=list)  # empty: any http(s) URI is accepted


@dataclass
class Connection:
    id: str
    tenant_id: str
    auth_event_id: str
    created_ms: int
    updated_ms: int


@dataclass
class Grant:
    """One consent (Xero's "authentication event"): an app, a user, scopes, tenants."""

    id: str
    client_id: str
    user_id: str
    scopes: list[str]
    tenant_ids: list[str]
    created_ms: int
    revoked: bool = False


@dataclass
class RefreshRecord:
    token: str
    grant_id: str
    issued_ms: int
    used_ms: int | None = None
    successor: str | None = None


@dataclass
class AccessRecord:
    token: str
    grant_id: str
    issued_ms: int
    expires_ms: int
    expired_early: bool = False


@dataclass
class CodeRecord:
    code: str
    client_id: str
    redirect_uri: str
    scopes: list[str]
    tenant_ids: list[str]
    issued_ms: int
    challenge: str | None = None
    challenge_method: str | None = None
    used: bool = False


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class AuthServer(TokenTable):
    """All identity state of one sandbox; thread-safe."""

    def __init__(self, clock: Clock, seed: int = 0, user_email: str = "owner@sandbox.example.com") -> None:
        self.clock = clock
        self._rng = random.Random(f"oauth-{seed}")
        self._lock = threading.RLock()
        self.signing_key = self._token(32).encode()
        self.user_id = self._uuid()
        self.user_email = user_email
        self.apps: dict[str, App] = {}
        self.grants: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, RefreshRecord] = {}
        self.access_tokens: dict[str, AccessRecord] = {}
        self.codes: dict[str, CodeRecord] = {}
        self.connections: dict[str, dict[str, Connection]] = {}  # client_id -> tenant_id -> connection
        self.revision = 0  # bumps on every change, so autosave knows when to write

    # --- ids ---------------------------------------------------------------------------------
    def _token(self, length: int = 48) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        with self._lock:
            return "".join(self._rng.choice(alphabet) for _ in range(length))

    def _uuid(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _now_ms(self) -> int:
        return to_ms(self.clock.now())

    # --- apps and clients ----------------------------------------------------------------------
    def register_app(
        self,
        client_id: str,
        client_secret: str | None,
        name: str = "Connector Sandbox App",
        redirect_uris: list[str] | None = None,
    ) -> App:
        with self._lock:
            app = App(client_id, client_secret, name, list(redirect_uris or []))
            self.apps[client_id] = app
            return app

    def authenticate_client(
        self, client_id: str | None, client_secret: str | None, public_ok: bool = False
    ) -> App:
        app = self.apps.get(client_id or "")
        if app is None:
            raise OAuthError("invalid_client")
        if app.client_secret is None:
            if not public_ok:
                raise OAuthError("invalid_client")
        elif not hmac.compare_digest(app.client_secret, client_secret or ""):
            raise OAuthError("invalid_client")
        return app

    # --- authorization code flow ----------------------------------------------------------------
    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        scopes: list[str],
        tenant_ids: list[str],
        challenge: str | None = None,
        challenge_method: str | None = None,
    ) -> str:
        with self._lock:
            code = self._token(40)
            self.codes[code] = CodeRecord(
                code, client_id, redirect_uri, scopes, tenant_ids, self._now_ms(), challenge, challenge_method
            )
            return code

    def exchange_code(
        self,
        code: str,
        client_id: str | None,
        client_secret: str | None,
        redirect_uri: str,
        verifier: str | None,
    ) -> dict[str, Any]:
        self._token_fault()
        with self._lock:
            record = self.codes.get(code)
            app = self.authenticate_client(
                client_id or (record.client_id if record else None),
                client_secret,
                public_ok=verifier is not None,
            )
            if record is None or record.used or record.client_id != app.client_id:
                raise OAuthError("invalid_grant")
            if self._now_ms() - record.issued_ms > CODE_TTL.total_seconds() * 1000:
                raise OAuthError("invalid_grant")
            if record.redirect_uri != redirect_uri:
                raise OAuthError("invalid_grant")
            if record.challenge:
                if not verifier:
                    raise OAuthError("invalid_grant")
                if record.challenge_method == "S256":
                    computed = _b64url(hashlib.sha256(verifier.encode()).digest())
                else:
                    computed = verifier
                if not hmac.compare_digest(computed, record.challenge):
                    raise OAuthError("invalid_grant")
            record.used = True
            return self.grant_tokens(app.client_id, record.scopes, record.tenant_ids)

    def grant_tokens(
        self, client_id: str, scopes: list[str] | tuple[str, ...], tenant_ids: list[str]
    ) -> dict[str, Any]:
        """Consent given: record the grant, (re)connect its tenants, return Xero's token body."""
        with self._lock:
            if client_id not in self.apps:
                raise OAuthError("invalid_client")
            now = self._now_ms()
            grant = Grant(self._uuid(), client_id, self.user_id, list(scopes), list(tenant_ids), now)
            self.grants[grant.id] = grant
            links = self.connections.setdefault(client_id, {})
            for tenant_id in tenant_ids:
                existing = links.get(tenant_id)
                if existing is None:
                    links[tenant_id] = Connection(self._uuid(), tenant_id, grant.id, now, now)
                else:
                    existing.auth_event_id, existing.updated_ms = grant.id, now
            return self._issue(grant)

    def _issue(self, grant: Grant, refresh: str | None = None) -> dict[str, Any]:
        self.revision += 1
        if len(self.access_tokens) > 10_000:  # long benchmarks refresh a lot
            self.purge_expired()
        now = self._now_ms()
        expires = now + int(ACCESS_TTL.total_seconds() * 1000)
        access = self._jwt(
            {
                "nbf": now // 1000,
                "exp": expires // 1000,
                "iss": ISSUER,
                "aud": f"{ISSUER}/resources",
                "client_id": grant.client_id,
                "sub": grant.user_id,
                "auth_time": grant.created_ms // 1000,
                "xero_userid": grant.user_id,
                "global_session_id": grant.id.replace("-", ""),
                "jti": self._token(32),
                "authentication_event_id": grant.id,
                "scope": grant.scopes,
            }
        )
        self.access_tokens[access] = AccessRecord(access, grant.id, now, expires)
        body: dict[str, Any] = {}
        if "openid" in grant.scopes:
            body["id_token"] = self._jwt(
                {
                    "nbf": now // 1000,
                    "exp": (now // 1000) + 300,
                    "iss": ISSUER,
                    "aud": grant.client_id,
                    "sub": grant.user_id,
                    "xero_userid": grant.user_id,
                    "email": self.user_email,
                    "given_name": "Sandbox",
                    "family_name": "Owner",
                    "global_session_id": grant.id.replace("-", ""),
                }
            )
        body.update(
            {"access_token": access, "expires_in": int(ACCESS_TTL.total_seconds()), "token_type": "Bearer"}
        )
        if "offline_access" in grant.scopes:
            if refresh is None:
                refresh = self._token(64)
                self.refresh_tokens[refresh] = RefreshRecord(refresh, grant.id, now)
            body["refresh_token"] = refresh
        body["scope"] = " ".join(grant.scopes)
        return body

    def _jwt(self, claims: dict[str, Any]) -> str:
        header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self.signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64url(signature)}"

    # --- refresh and revoke ---------------------------------------------------------------------
    def refresh(self, token: str, client_id: str | None, client_secret: str | None) -> dict[str, Any]:
        self._token_fault()
        with self._lock:
            app = self.authenticate_client(client_id, client_secret, public_ok=True)
            record = self.refresh_tokens.get(token)
            grant = self.grants.get(record.grant_id) if record else None
            if record is None or grant is None or grant.revoked or grant.client_id != app.client_id:
                raise OAuthError("invalid_grant")
            now = self._now_ms()
            if record.used_ms is None:
                if now - record.issued_ms > REFRESH_TTL.total_seconds() * 1000:
                    raise OAuthError("invalid_grant")
                body = self._issue(grant)
                record.used_ms, record.successor = now, body.get("refresh_token")
                return body
            if now - record.used_ms <= REFRESH_GRACE.total_seconds() * 1000 and record.successor:
                # The caller lost the first answer: same successor, fresh access token.
                return self._issue(grant, refresh=record.successor)
            raise OAuthError("invalid_grant")

    def revoke(self, token: str, client_id: str | None, client_secret: str | None) -> None:
        """Revoking a refresh token ends the grant: its tokens and its connections go."""
        with self._lock:
            app = self.authenticate_client(client_id, client_secret, public_ok=True)
            record = self.refresh_tokens.get(token)
            if record is None:
                return
            grant = self.grants[record.grant_id]
            if grant.client_id != app.client_id:
                return
            grant.revoked = True
            self.revision += 1
            links = self.connections.get(grant.client_id, {})
            for tenant_id in grant.tenant_ids:
                link = links.get(tenant_id)
                if link is not None and link.auth_event_id == grant.id:
                    del links[tenant_id]

    # --- bearer checks ----------------------------------------------------------------------------
    def check_access(self, authorization: str | None) -> Grant:
        """The grant behind a ``Bearer`` header, or Unauthorized with Xero's Detail text."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("AuthenticationUnsuccessful")
        token = authorization[7:].strip()
        with self._lock:
            record = self.access_tokens.get(token)
            grant = self.grants.get(record.grant_id) if record else None
            if record is None or grant is None or grant.revoked:
                raise Unauthorized("AuthenticationUnsuccessful")
            if record.expired_early or self._now_ms() >= record.expires_ms:
                stamp = self.clock.now() if record.expired_early else None
                when = stamp or from_ms(record.expires_ms)
                raise Unauthorized(f"TokenExpired: token expired at {when.strftime('%m/%d/%Y %H:%M:%S')}")
            return grant

    def tenant_allowed(self, grant: Grant, tenant_id: str) -> bool:
        links = self.connections.get(grant.client_id, {})
        return tenant_id in links

    def list_connections(self, grant: Grant, auth_event_id: str | None = None) -> list[Connection]:
        with self._lock:
            links = list(self.connections.get(grant.client_id, {}).values())
        if auth_event_id:
            links = [c for c in links if c.auth_event_id == auth_event_id.lower()]
        return sorted(links, key=lambda c: c.created_ms)

    def disconnect(self, grant: Grant, connection_id: str) -> bool:
        with self._lock:
            links = self.connections.get(grant.client_id, {})
            for tenant_id, link in list(links.items()):
                if link.id == connection_id.lower():
                    del links[tenant_id]
                    self.revision += 1
                    return True
        return False

    def purge_expired(self) -> None:
        """Drop access tokens long expired (keeps a long benchmark's table small)."""
        cutoff = self._now_ms() - int(ACCESS_TTL.total_seconds() * 1000)
        with self._lock:
            for token in [t for t, r in self.access_tokens.items() if r.expires_ms < cutoff]:
                del self.access_tokens[token]

    # --- persistence ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "signing_key": self.signing_key.decode(),
                "user_id": self.user_id,
                "apps": [asdict(a) for a in self.apps.values()],
                "grants": [asdict(g) for g in self.grants.values()],
                "refresh_tokens": [asdict(r) for r in self.refresh_tokens.values()],
                "access_tokens": [asdict(r) for r in self.access_tokens.values()],
                "connections": {
                    cid: [asdict(c) for c in links.values()] for cid, links in self.connections.items()
                },
            }

    def load_dict(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.signing_key = data["signing_key"].encode()
            self.user_id = data["user_id"]
            self.apps = {a["client_id"]: App(**a) for a in data["apps"]}
            self.grants = {g["id"]: Grant(**g) for g in data["grants"]}
            self.refresh_tokens = {r["token"]: RefreshRecord(**r) for r in data["refresh_tokens"]}
            self.access_tokens = {r["token"]: AccessRecord(**r) for r in data["access_tokens"]}
            self.connections = {
                cid: {c["tenant_id"]: Connection(**c) for c in links}
                for cid, links in data["connections"].items()
            }
