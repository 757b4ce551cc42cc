"""End-to-end fixtures: the Xero sandbox over real HTTP, the real SDK, a real database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from connector.config import Config
from connector.ledgers.limits import XERO_LIMITS, RateLimiter
from connector.ledgers.xero import RetrySettings
from connector.runtime import Runtime, open_runtime
from connector.sandbox.xero import RateLimits, XeroSandbox
from connector.store.models import Connection, Invoice
from connector.sync.connect import ledger_for, save_token
from connector.sync.runner import SyncResult, sync_connection
from tests.sandbox.xero.spec_check import SpecChecker

ACCOUNTS = {"clearing": "095", "bank": "090", "fees": "404"}
FAST_RETRY = RetrySettings(attempts=6, base_delay=0.01, max_delay=0.05, timeout=10)


@dataclass
class World:
    """A connector runtime connected to every tenant of a running Xero sandbox."""

    rt: Runtime
    xero: XeroSandbox
    names: dict[str, str]  # connection name -> tenant id
    slept: list[float]

    def __post_init__(self) -> None:
        self.time = FakeTime()
        self.options: dict[str, Any] = {}

    def ledger(self, rt: Runtime, connection: Connection) -> Any:
        """The real adapter; waits (Retry-After, backoff) pass on a fake clock instead of sleeping."""
        limiter = RateLimiter(XERO_LIMITS, clock=self.time.clock, sleep=self.time.sleep)
        return ledger_for(rt, connection, retry=FAST_RETRY, sleep=self.time.sleep, limiter=limiter, **self.options)

    def connection_id(self, name: str) -> int:
        with self.rt.sessions() as session:
            return session.scalars(select(Connection.id).where(Connection.name == name)).one()

    def sync(self, name: str = "nz", **kwargs: Any) -> SyncResult:
        return sync_connection(self.rt, self.connection_id(name), self.ledger, today=TODAY, **kwargs)

    def invoice(self, external_id: str) -> Invoice:
        with self.rt.sessions() as session:
            return session.scalars(select(Invoice).where(Invoice.external_id == external_id)).one()

    def invoices(self, name: str = "nz") -> list[Invoice]:
        with self.rt.sessions() as session:
            return list(
                session.scalars(select(Invoice).join(Connection).where(Connection.name == name).order_by(Invoice.id))
            )

    def tenant(self, name: str = "nz") -> str:
        return self.names[name]


TODAY = date.today()


class FakeTime:
    """A monotonic clock that moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_world(xero: XeroSandbox, db_url: str, monkeypatch: pytest.MonkeyPatch, **connection: Any) -> World:
    monkeypatch.setenv("CONNECTOR_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("XERO_SANDBOX_SECRET", xero.client_secret)
    names = {"nz": xero.tenant_ids[0], "us": xero.tenant_ids[1]}
    config = Config.model_validate(
        {
            "database": {"url": db_url},
            "ledgers": {
                "xero": {
                    "client_id": xero.client_id,
                    "client_secret_env": "XERO_SANDBOX_SECRET",
                    "api_url": xero.accounting_url,
                    "identity_url": xero.identity_url,
                    "token_url": xero.token_url,
                    "authorize_url": xero.authorize_url,
                }
            },
            "connections": [
                {"name": name, "provider": "xero", "tenant_id": tenant, "accounts": ACCOUNTS, **connection}
                for name, tenant in names.items()
            ],
        }
    )
    rt = open_runtime(config=config)
    world = World(rt, xero, names, [])
    for name, tenant in names.items():
        # One consent per organisation: each connection has its own grant and refresh-token chain.
        save_token(rt, world.connection_id(name), xero.issue_tokens(tenants=[tenant]))
    return world


@pytest.fixture(scope="session")
def spec_checker() -> SpecChecker:
    return SpecChecker()


@pytest.fixture
def xero(spec_checker: SpecChecker) -> Iterator[XeroSandbox]:
    """The sandbox the connector syncs with; every response it sends is checked against Xero's spec."""
    first_problem = len(spec_checker.problems)
    with XeroSandbox(seed=11, tenants=2, invoices_per_tenant=45, limits=RateLimits.unlimited()) as sandbox:
        sandbox.add_observer(spec_checker)
        yield sandbox
    problems = spec_checker.problems[first_problem:]
    if problems:
        pytest.fail("responses the Xero spec rejects:\n" + "\n".join(problems[:10]), pytrace=False)


@pytest.fixture
def world(xero, db_url, monkeypatch) -> Iterator[World]:
    w = make_world(xero, db_url, monkeypatch)
    yield w
    w.rt.close()
