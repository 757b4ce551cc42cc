"""Fixtures for the Celery engine: real PostgreSQL, RabbitMQ and Redis, isolated per test (see kit.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector.engine.ledgers import PREFIX_ENV
from connector.runtime import Runtime, open_runtime
from connector.store.models import Connection
from connector.sync.connect import save_token
from tests.engine.kit import (
    XERO_ACCOUNTS,
    Cluster,
    pg_database,
    rabbit_vhost,
    redis_prefix,
    services_or_skip,
    write_config,
)


@dataclass
class Services:
    database: str
    broker: str
    prefix: str


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """A database, a broker virtual host and a Redis prefix of this test's own."""
    services_or_skip()
    with pg_database() as database, rabbit_vhost() as vhost, redis_prefix() as prefix:
        monkeypatch.setenv(PREFIX_ENV, prefix)
        monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
        monkeypatch.delenv("CONNECTOR_DATABASE_URL", raising=False)
        yield Services(database, f"amqp://guest:guest@127.0.0.1:5672/{vhost}", prefix)


@dataclass
class Deployment:
    """A config file naming every connection, their tokens stored, and a cluster to start processes in."""

    rt: Runtime
    cluster: Cluster
    xero: Any
    qbo: Any
    #: connection name → (provider, tenant or realm id)
    connections: dict[str, tuple[str, str]]

    def ids(self) -> dict[str, int]:
        with self.rt.sessions() as session:
            return dict(session.execute(select(Connection.name, Connection.id)).all())


def deploy(
    services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    xero: Any = None,
    qbo: Any = None,
    xero_tenants: list[str] = (),  # type: ignore[assignment]
    qbo_realms: list[str] = (),  # type: ignore[assignment]
    schedule: dict[str, str] | None = None,
    concurrency: int = 2,
    connection_names: list[str] | None = None,
) -> Deployment:
    """One connection per tenant and realm given (``connection_names`` to name them, may repeat a tenant)."""
    if xero is not None:
        monkeypatch.setenv("XERO_SANDBOX_SECRET", xero.client_secret)
    if qbo is not None:
        monkeypatch.setenv("QBO_SANDBOX_SECRET", qbo.client_secret)
        monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    entries = []
    connections: dict[str, tuple[str, str]] = {}
    plan = [("xero", t) for t in xero_tenants] + [("quickbooks", r) for r in qbo_realms]
    for i, (provider, tenant) in enumerate(plan):
        name = connection_names[i] if connection_names else f"{'x' if provider == 'xero' else 'q'}{i:03d}"
        if provider == "xero":
            accounts = XERO_ACCOUNTS
        else:
            roles = qbo.ledger.books(tenant).roles
            accounts = {role: roles[role] for role in ("clearing", "bank", "fees")}
        entry: dict[str, Any] = {"name": name, "provider": provider, "tenant_id": tenant, "accounts": accounts}
        if schedule:
            entry["schedule"] = schedule
        entries.append(entry)
        connections[name] = (provider, tenant)
    config = write_config(
        tmp_path / "connector.toml",
        database=services.database,
        broker=services.broker,
        xero=xero,
        qbo=qbo,
        connections=entries,
        concurrency=concurrency,
    )
    rt = open_runtime(config)
    with rt.sessions() as session:
        ids = dict(session.execute(select(Connection.name, Connection.id)).all())
    for name, (provider, tenant) in connections.items():
        token = xero.issue_tokens(tenants=[tenant]) if provider == "xero" else qbo.issue_tokens(tenant)
        save_token(rt, ids[name], token)
    env = {k: v for k, v in os.environ.items() if k not in ("CONNECTOR_CONFIG", "CONNECTOR_DATABASE_URL")}
    env["PYTHONUNBUFFERED"] = "1"
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    return Deployment(rt, Cluster(config, env, logs), xero, qbo, connections)
