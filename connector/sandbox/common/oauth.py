"""OAuth pieces both sandboxes' auth servers share: the two errors and the token-table
operations that work the same for Xero and Intuit (redirect checks, expiring tokens)."""

from __future__ import annotations

import threading
from typing import Any, Protocol


class OAuthError(Exception):
    """An RFC 6749 error for the token endpoint: ``{"error": code}`` with ``status``."""

    def __init__(self, error: str, description: str = "", status: int = 400) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status


class Unauthorized(Exception):
    """A bearer token the API refuses; ``detail`` is the text the provider's 401 carries."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _RegisteredApp(Protocol):
    redirect_uris: list[str]


class TokenTable:
    """Mixin for an auth server with ``_lock`` and ``access_tokens`` (records that have
    ``expired_early``)."""

    _lock: threading.RLock
    access_tokens: dict[str, Any]

    def check_redirect(self, app: _RegisteredApp, redirect_uri: str) -> bool:
        """An app's registered redirect URIs, or any http(s) URI when it registered none."""
        if app.redirect_uris:
            return redirect_uri in app.redirect_uris
        return redirect_uri.startswith(("http://", "https://"))

    def expire_token(self, authorization: str | None) -> None:
        """Fault injection: the presented access token stops working now."""
        if not authorization:
            return
        with self._lock:
            record = self.access_tokens.get(authorization[7:].strip())
            if record is not None:
                record.expired_early = True

    def fail_token_requests(self, times: int = 1, status: int = 503) -> None:
        """Fault injection at the token endpoint: the next ``times`` code exchanges or refreshes
        answer ``status`` with ``temporarily_unavailable`` and change nothing (the API's own
        ``--faults`` leave the token endpoint alone)."""
        with self._lock:
            self.token_failures = [*getattr(self, "token_failures", []), *[status] * times]

    def _token_fault(self) -> None:
        """Raise the next injected token-endpoint failure, if one is queued."""
        with self._lock:
            queued = getattr(self, "token_failures", [])
            if queued:
                raise OAuthError("temporarily_unavailable", status=queued.pop(0))

    def expire_all_access_tokens(self) -> int:
        with self._lock:
            for record in self.access_tokens.values():
                record.expired_early = True
            return len(self.access_tokens)
