"""What every step of connecting shares: the provider names, the form errors, the look-ups.

Kept apart so each step's module imports it and none imports another step's.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from connector.actions.errors import InvalidInput, NotFound, RefusedAction
from connector.ledgers.errors import LedgerError, ReconnectRequired
from connector.runtime import Runtime
from connector.store.models import Connection

log = logging.getLogger("connector.connections")

PROVIDERS = {"xero": "Xero", "quickbooks": "QuickBooks Online"}


_RESTART = "Start again from the setup page."


class FieldErrors(InvalidInput):
    """Several inputs are wrong at once: ``errors`` maps each field to what is wrong with it,
    so a form can show every message next to its own field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        first = next(iter(self.errors))
        super().__init__("; ".join(self.errors.values()), field=first)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _connection(session: Any, connection_id: int | None) -> Connection:
    row = session.get(Connection, connection_id) if connection_id is not None else None
    if row is None:
        raise NotFound(f"There is no connection #{connection_id}.", field="connection")
    return row


def _only_setup_or_web(row: Connection) -> None:
    if row.origin == "config":
        raise RefusedAction(
            f"{row.name} comes from the config file, which sets its accounts and settings: "
            "change its [[connections]] block and restart."
        )


def _only_setup_or_web_id(rt: Runtime, connection_id: int) -> None:
    with rt.sessions() as session:
        _only_setup_or_web(_connection(session, connection_id))


def _ledger_trouble(provider: str, exc: LedgerError) -> str:
    if isinstance(exc, ReconnectRequired):
        return f"{PROVIDERS[provider]} no longer accepts this connection's sign-in: reconnect it."
    return f"{PROVIDERS[provider]} did not answer well enough ({exc}). Try again in a minute."
