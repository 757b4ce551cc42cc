"""Connections once made: the list on ``/connections``, one connection's brief, and disconnecting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from connector.actions.connections.common import PROVIDERS, _connection, log
from connector.actions.connections.grants import _retire_grant
from connector.actions.context import Actor
from connector.actions.errors import RefusedAction
from connector.ledgers.errors import LedgerError, ReconnectRequired
from connector.ledgers.quickbooks import QuickBooksLedger
from connector.ledgers.xero import XeroLedger
from connector.runtime import Runtime
from connector.store.models import Connection, Invoice, SyncRun
from connector.store.secrets import token_holder
from connector.store.types import utcnow
from connector.sync.connect import ledger_for


@dataclass(frozen=True, slots=True)
class DisconnectOutcome:
    name: str
    #: What the provider confirmed: the organisation's connection removed, the grant revoked.
    removed_at_provider: bool
    revoked: bool
    note: str = ""


def disconnect(rt: Runtime, connection_id: int, *, actor: Actor) -> DisconnectOutcome:
    """Let go of a connection: revoke it at the provider, wipe its tokens, keep every invoice
    and timeline. Xero: ``DELETE /connections/{id}`` for this organisation, and the token is
    revoked when no other connection shares the grant. QuickBooks: Intuit's revoke endpoint.

    A grant the provider no longer knows (``invalid_grant``) is let go here all the same. A
    provider that does not answer changes nothing: the person tries again.
    """
    from connector.ledgers import quickbooks_setup, xero_setup

    with rt.sessions() as session:
        row = _connection(session, connection_id)
        if row.state == "disconnected":
            raise RefusedAction(f"{row.name} is already disconnected.")
        name, provider, tenant_id, grant_id = row.name, row.provider, row.tenant_id, row.grant_id
        holder = token_holder(row)
        has_token = holder.token_ciphertext is not None
        sharing = (
            session.scalar(
                select(func.count())
                .select_from(Connection)
                .where(
                    Connection.grant_id == grant_id,
                    Connection.id != connection_id,
                    Connection.state != "disconnected",
                )
            )
            if grant_id is not None
            else 0
        )
    removed = revoked = False
    note = ""
    if has_token and tenant_id:
        try:
            with rt.sessions() as session:
                ledger = ledger_for(rt, session.get(Connection, connection_id))
            if isinstance(ledger, XeroLedger):
                removed = xero_setup.disconnect_tenant(ledger, tenant_id)
                if not sharing:
                    xero_setup.revoke(ledger, str(ledger._load_token().get("refresh_token") or ""))
                    revoked = True
            elif isinstance(ledger, QuickBooksLedger) and not sharing:
                quickbooks_setup.revoke(ledger, ledger._token())
                removed = revoked = True
        except ReconnectRequired:
            note = f"{PROVIDERS[provider]} had already ended this grant."
        except LedgerError:
            raise RefusedAction(
                f"{PROVIDERS[provider]} did not answer, so nothing was changed. Try again in a minute."
            ) from None
    with rt.transaction() as session:
        row = session.get(Connection, connection_id)
        row.state = "disconnected"
        row.state_reason = f"disconnected by {actor.name} on {utcnow():%Y-%m-%d}"
        row.token_ciphertext = None
        row.token_expires_at = None
        row.lock_owner = None
        if not sharing:
            _retire_grant(session, grant_id)
    log.info("%s disconnected %s (removed at provider: %s, revoked: %s)", actor.name, name, removed, revoked)
    return DisconnectOutcome(name, removed, revoked, note)


@dataclass(frozen=True, slots=True)
class ConnectionSummary:
    """One line of ``/connections``: a connection from the wizard or the config file."""

    id: int
    name: str
    provider: str
    organisation: str
    state: str
    state_reason: str | None
    origin: str
    invoices: int
    scheduled: int
    last_sync: datetime | None


def list_connections(rt: Runtime) -> list[ConnectionSummary]:
    with rt.sessions() as session:
        counts: dict[int, dict[str, int]] = {}
        for cid, status, n in session.execute(
            select(Invoice.connection_id, Invoice.status, func.count())
            .where(Invoice.deleted_at.is_(None), Invoice.connection_id.is_not(None))
            .group_by(Invoice.connection_id, Invoice.status)
        ):
            counts.setdefault(cid, {})[status] = n
        last = dict(
            session.execute(
                select(SyncRun.connection_id, func.max(SyncRun.finished_at))
                .where(SyncRun.job == "sync")
                .group_by(SyncRun.connection_id)
            ).all()
        )
        return [
            ConnectionSummary(
                c.id,
                c.name,
                c.provider,
                c.tenant_name or c.tenant_id or "",
                c.state,
                c.state_reason,
                c.origin,
                sum(counts.get(c.id, {}).values()),
                counts.get(c.id, {}).get("scheduled", 0),
                last.get(c.id),
            )
            for c in session.scalars(select(Connection).order_by(Connection.name))
        ]


def in_setup(rt: Runtime) -> list[tuple[int, str, str]]:
    """Connections whose setup is not finished: (id, name, organisation), to continue with."""
    with rt.sessions() as session:
        return [
            (c.id, c.name, c.tenant_name or c.name)
            for c in session.scalars(select(Connection).where(Connection.state == "setup").order_by(Connection.id))
        ]


def connection_brief(rt: Runtime, connection_id: int) -> dict[str, Any]:
    """Name, provider, organisation, state and origin of one connection (for page titles)."""
    with rt.sessions() as session:
        row = _connection(session, connection_id)
        return {
            "id": row.id,
            "name": row.name,
            "provider": row.provider,
            "provider_name": PROVIDERS.get(row.provider, row.provider),
            "organisation": row.tenant_name or row.name,
            "state": row.state,
            "origin": row.origin,
            "accounts": dict((row.settings or {}).get("accounts") or {}),
            "has_settings": "lead_days" in (row.settings or {}),
        }
