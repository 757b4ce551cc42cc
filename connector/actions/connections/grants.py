"""Tokens kept in a grant (or in memory, not yet stored), and a grant let go.

A grant is one consent's encrypted token set, shared by every connection made with it; the
consent, organisation, reconnect and disconnect steps all hold or retire one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from connector.runtime import Runtime
from connector.store.models import Connection, Grant
from connector.store.secrets import TokenSet
from connector.store.types import utcnow
from connector.sync.connect import vault_for


class GrantTokens:
    """The :class:`~connector.ledgers.base.TokenStore` of a grant no connection uses yet (the
    "choose organisation" step): sealed in the grant's row, saved at once like a connection's."""

    def __init__(self, rt: Runtime, grant_id: int) -> None:
        self._rt = rt
        self._grant_id = grant_id
        self._vault = vault_for(rt.config)

    def load(self) -> dict[str, Any] | None:
        with self._rt.sessions() as session:
            grant = session.get(Grant, self._grant_id)
            token = self._vault.load(grant) if grant is not None else None
            return dict(token.data) if token else None

    def save(self, token: dict[str, Any]) -> None:
        with self._rt.transaction() as session:
            grant = session.get(Grant, self._grant_id)
            if grant is None:
                raise LookupError(f"grant #{self._grant_id} is gone")
            self._vault.save(session, grant, TokenSet(dict(token)))


class MemoryTokens:
    """Tokens not stored yet (a reconnect checked before it replaces anything)."""

    def __init__(self, token: dict[str, Any]) -> None:
        self._token = dict(token)

    def load(self) -> dict[str, Any] | None:
        return dict(self._token)

    def save(self, token: dict[str, Any]) -> None:
        self._token = dict(token)


def _retire_grant(session: Any, grant_id: int | None) -> None:
    """Wipe a grant's tokens once no connection uses it (revoked, or replaced by a new consent)."""
    if grant_id is None:
        return
    users = session.scalar(
        select(func.count())
        .select_from(Connection)
        .where(Connection.grant_id == grant_id, Connection.state != "disconnected")
    )
    if users:
        return
    grant = session.get(Grant, grant_id)
    if grant is not None:
        grant.token_ciphertext = None
        grant.token_expires_at = None
        grant.revoked_at = utcnow()
