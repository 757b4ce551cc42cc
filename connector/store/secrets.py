"""OAuth tokens encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256, from ``cryptography``).

The key comes from an environment variable, or from a key file created on first use with
mode 0600. Tokens never leave this module in the clear except to the adapter that uses them,
and :class:`TokenSet` hides them from ``repr`` so a log line cannot leak one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from connector.config import SecurityConfig
from connector.store.models import Connection, Grant
from connector.store.types import utcnow

#: How long one process may hold a grant's refresh lease before another may take it over.
REFRESH_LEASE = timedelta(seconds=60)


class SecretKeyError(RuntimeError):
    """The key is missing, unreadable, too open, or not the key the tokens were sealed with.

    The message is the one line the person needs: which variable or file, what is wrong, what
    to do. It never holds the key itself.
    """


class WrongTokenKey(SecretKeyError):
    """The key is a valid key, but not the one this connection's tokens were sealed with."""


@dataclass(frozen=True)
class TokenSet:
    """An OAuth token as the SDKs want it: a dict, with ``scope`` as a list (xero-python's trap)."""

    data: dict[str, Any] = field(repr=False)

    @property
    def expires_at(self) -> datetime | None:
        value = self.data.get("expires_at")
        return datetime.fromtimestamp(float(value), UTC) if value else None

    def __repr__(self) -> str:
        return f"TokenSet(expires_at={self.expires_at}, keys={sorted(self.data)})"


class TokenVault:
    """Seals and opens token sets for storage in ``connections.token_ciphertext``."""

    def __init__(self, key: bytes, *, source: str = "the token key") -> None:
        #: Where the key came from (``$VARIABLE`` or the key file), for messages; never the key.
        self.source = source
        try:
            self._fernet = Fernet(key)
            self._key = bytes(key)
        except (ValueError, TypeError):
            raise SecretKeyError(
                f"{source}: not a valid token key (a Fernet key: 44 characters of url-safe base64): "
                "put back the key the stored tokens were sealed with"
            ) from None

    @classmethod
    def from_config(cls, security: SecurityConfig, base: Path | None = None) -> TokenVault:
        """The key from ``$key_env`` if set, else from ``key_file`` (made on first use, 0600).

        ``key_file`` is absolute once the config is loaded from a file; ``base`` serves a config
        built in code with a relative one.
        """
        env = os.environ.get(security.key_env) if security.key_env else None
        if env:
            return cls(env.encode(), source=f"${security.key_env}")
        path = Path(security.key_file).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        return cls(_key_from_file(path), source=str(path))

    def derive(self, purpose: str) -> bytes:
        """A secret for ``purpose`` (e.g. signing web sessions) derived from this key, so an
        installation keeps one key: changing it logs everyone out along with sealing tokens anew."""
        return hmac.new(self._key, purpose.encode(), hashlib.sha256).digest()

    def seal(self, token: TokenSet) -> bytes:
        data = dict(token.data)
        if isinstance(data.get("scope"), str):
            data["scope"] = data["scope"].split()
        return self._fernet.encrypt(json.dumps(data, sort_keys=True).encode())

    def open(self, ciphertext: bytes) -> TokenSet:
        try:
            return TokenSet(json.loads(self._fernet.decrypt(ciphertext)))
        except InvalidToken:
            raise WrongTokenKey(
                f"the stored tokens cannot be opened with the key from {self.source} (was the key changed, "
                "or the key file replaced?): put back the key they were sealed with, or connect this ledger again"
            ) from None

    def save(self, session: Session, holder: Connection | Grant, token: TokenSet) -> None:
        """Seal ``token`` into ``holder``: a connection's grant when it has one, else the row itself."""
        holder = token_holder(holder)
        holder.token_ciphertext = self.seal(token)
        holder.token_expires_at = token.expires_at

    def load(self, holder: Connection | Grant) -> TokenSet | None:
        holder = token_holder(holder)
        return self.open(holder.token_ciphertext) if holder.token_ciphertext else None


def token_holder(row: Connection | Grant) -> Connection | Grant:
    """Where a connection's token lives: the grant it shares, or its own row (a connection made
    from the config file and connected on its own)."""
    if isinstance(row, Connection) and row.grant_id is not None and row.grant is not None:
        return row.grant
    return row


def _key_from_file(path: Path) -> bytes:
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key())
        except OSError as exc:
            raise SecretKeyError(
                f"{path}: cannot create the token key file ({exc.strerror or exc}): make its folder writable, "
                "or set [security] key_file (or the key_env variable) to a key you have"
            ) from None
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise SecretKeyError(f"{path}: the token key file is not a file: set [security] key_file to a file")
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretKeyError(f"{path}: the token key file must be readable only by its owner (chmod 600)")
        return path.read_bytes().strip()
    except OSError as exc:
        raise SecretKeyError(f"{path}: cannot read the token key file ({exc.strerror or exc})") from None


class ConnectionTokens:
    """The :class:`~connector.ledgers.base.TokenStore` of one connection: encrypted in its row.

    ``save`` commits at once, in its own transaction, so a rotated refresh token is on disk
    before the SDK uses the new access token (a crash after a refresh must not lose the only
    valid refresh token). Reads are cached in memory; the row is the truth after a restart.
    """

    def __init__(self, sessions: Any, connection_id: int, vault: TokenVault) -> None:
        self._sessions = sessions
        self._connection_id = connection_id
        self._vault = vault
        self._cached: dict[str, Any] | None = None

    def load(self) -> dict[str, Any] | None:
        if self._cached is None:
            with self._sessions() as session:
                row = session.get(Connection, self._connection_id)
                token = self._vault.load(row) if row is not None else None
                self._cached = dict(token.data) if token else None
        return dict(self._cached) if self._cached else None

    def save(self, token: dict[str, Any]) -> None:
        with self._sessions() as session, session.begin():
            session.connection(execution_options={"sqlite_immediate": True})
            row = session.get(Connection, self._connection_id)
            if row is None:
                raise LookupError(f"connection #{self._connection_id} is gone")
            self._vault.save(session, row, TokenSet(dict(token)))
        self._cached = dict(token)

    @contextmanager
    def refreshing(self, *, wait: float = 30.0, poll: float = 0.1) -> Iterator[None]:
        """Hold the right to refresh this connection's token, across processes, then re-read it.

        Connections sharing a grant share one refresh token: if two processes refreshed at once,
        the second would present a spent token and lose the grant. The lease is a conditional
        UPDATE on the grant row (a column pair, not a held transaction, so SQLite writers are
        not blocked meanwhile); an expired lease (a killed process) is taken over. Inside, the
        cache is dropped, so the caller sees a token another process may just have refreshed.
        A connection without a grant has no one to share with: the adapter's own lock suffices.
        """
        grant_id = self._grant_id()
        if grant_id is None:
            self._cached = None
            yield
            return
        owner = f"{os.getpid()}:{uuid.uuid4().hex[:12]}"
        deadline = time.monotonic() + wait
        while not self._take_lease(grant_id, owner):
            if time.monotonic() > deadline:
                raise TimeoutError(f"grant #{grant_id}: another process has been refreshing its token for {wait:.0f} s")
            time.sleep(poll)
        try:
            self._cached = None
            yield
        finally:
            with self._sessions() as session, session.begin():
                session.execute(
                    update(Grant)
                    .where(Grant.id == grant_id, Grant.refresh_owner == owner)
                    .values(refresh_owner=None, refresh_until=None)
                )

    def _grant_id(self) -> int | None:
        with self._sessions() as session:
            row = session.get(Connection, self._connection_id)
            return row.grant_id if row is not None else None

    def _take_lease(self, grant_id: int, owner: str) -> bool:
        now = utcnow()
        with self._sessions() as session, session.begin():
            taken = session.execute(
                update(Grant)
                .where(Grant.id == grant_id, or_(Grant.refresh_owner.is_(None), Grant.refresh_until < now))
                .values(refresh_owner=owner, refresh_until=now + REFRESH_LEASE)
            )
            return taken.rowcount == 1
