"""Connections in the database, kept in step with the config file's ``[[connections]]``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.config import Config, ConnectionConfig
from connector.domain import CollectionPolicy, PostPaymentAt, RetryPolicy
from connector.store.models import Connection


def settings_of(entry: ConnectionConfig) -> dict[str, Any]:
    """The part of a config entry the engines need, as JSON for the ``settings`` column."""
    return {
        "accounts": entry.accounts.model_dump(),
        "post_payment_at": entry.post_payment_at.value,
        "lead_days": entry.lead_days,
        "retry": {
            "max_attempts": entry.retry.max_attempts,
            "interval_days": [i.days for i in entry.retry.intervals],
        },
        "schedule_seconds": {k: int(v.total_seconds()) for k, v in entry.schedule.model_dump().items()},
        "enabled": entry.enabled,
        "max_amount": str(entry.max_amount),
        "ledger_notes": entry.ledger_notes,
        "customer_notices": list(entry.customer_notices),
    }


def policy_from_settings(settings: dict[str, Any]) -> CollectionPolicy:
    retry = settings.get("retry") or {}
    days = retry.get("interval_days") or [3, 5, 7]
    return CollectionPolicy(
        retry=RetryPolicy(
            max_attempts=int(retry.get("max_attempts", 3)),
            intervals=tuple(timedelta(days=int(d)) for d in days),
        ),
        post_payment_at=PostPaymentAt(settings.get("post_payment_at", "paid")),
        lead_days=int(settings.get("lead_days", 3)),
        currency=settings.get("currency") or settings.get("base_currency"),
    )


def sync_connections(session: Session, config: Config) -> list[Connection]:
    """Create or update one row per configured connection; rows no longer configured are left alone."""
    existing = {c.name: c for c in session.scalars(select(Connection))}
    rows = []
    for entry in config.connections:
        row = existing.get(entry.name)
        if row is None:
            row = Connection(name=entry.name, provider=entry.provider, state="active")
            session.add(row)
        row.provider = entry.provider
        if entry.tenant_id:
            row.tenant_id = entry.tenant_id
        row.collection_mode = entry.collection_mode.value
        # What the connector learned of the organisation (currency, time zone) survives a restart.
        row.settings = {**(row.settings or {}), **settings_of(entry)}
        rows.append(row)
    session.flush()
    return rows
