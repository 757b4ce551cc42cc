"""End-to-end fixtures: the Xero sandbox over real HTTP, the real SDK, a real database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from connector.config import Config
from connector.ledgers.limits import QUICKBOOKS_LIMITS, XERO_LIMITS, RateLimiter
from connector.ledgers.xero import RetrySettings
from connector.runtime import Runtime, open_runtime
from connector.sandbox.quickbooks import QuickBooksSandbox
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

    # --- the ledger-neutral face the parametrised tests use ---------------------------------------

    provider = "xero"

    @property
    def faults(self) -> Any:
        return self.xero.faults

    def ledger_invoice_ids(self, name: str = "nz") -> set[str]:
        tenant = self.xero.ledger.tenant(self.tenant(name))
        return {i.id for i in tenant.invoices.values() if i.type == "ACCREC"}

    def open_invoices(self, n: int, name: str = "nz") -> list[str]:
        """Unpaid, uncredited, approved invoices in the organisation's own currency."""
        tenant = self.xero.ledger.tenant(self.tenant(name))
        base = tenant.org.base_currency
        found = [
            i.id
            for i in tenant.invoices.values()
            if i.type == "ACCREC"
            and i.status == "AUTHORISED"
            and i.amount_paid == 0
            and i.amount_credited == 0
            and i.currency == base
        ]
        assert len(found) >= n
        return found[:n]

    def our_payment_count(self, invoice_id: str, name: str = "nz") -> int:
        tenant = self.xero.ledger.tenant(self.tenant(name))
        return sum(
            1
            for p in tenant.payments.values()
            if p.invoice_id == invoice_id and p.status == "AUTHORISED" and "cx:" in (p.reference or "")
        )

    def payout_counts(self, reference: str, name: str = "nz") -> tuple[int, int]:
        tenant = self.xero.ledger.tenant(self.tenant(name))
        transfers = sum(1 for t in tenant.bank_transfers.values() if reference in (t.reference or ""))
        fees = sum(
            1 for t in tenant.bank_transactions.values() if t.type == "SPEND" and reference in (t.reference or "")
        )
        return transfers, fees

    def forget_idempotency(self) -> None:
        from connector.sandbox.common.idempotency import IdempotencyCache

        self.xero.idempotency = IdempotencyCache(self.xero.clock)

    def our_external_ids(self, name: str = "nz") -> set[str]:
        return {r.external_id for r in self.invoices(name)}

    def release_lock(self, name: str = "nz") -> None:
        with self.rt.transaction() as session:
            session.get(Connection, self.connection_id(name)).lock_owner = None


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


@pytest.fixture
def qbo(monkeypatch) -> Iterator[QuickBooksSandbox]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # requests-oauthlib refuses http:// otherwise
    with QuickBooksSandbox(seed=5, realms=1, invoices_per_realm=45, limits=RateLimits.unlimited()) as sandbox:
        yield sandbox


class QboWorld:
    def __init__(self, qbo: QuickBooksSandbox, db_url: str, monkeypatch: pytest.MonkeyPatch, **connection: Any):
        monkeypatch.setenv("CONNECTOR_SECRET_KEY", Fernet.generate_key().decode())
        monkeypatch.setenv("QBO_SANDBOX_SECRET", qbo.client_secret)
        self.qbo = qbo
        self.realm = qbo.realm_ids[0]
        books = qbo.ledger.books(self.realm)
        self.accounts = {role: books.roles[role] for role in ("clearing", "bank", "fees")}
        config = Config.model_validate(
            {
                "database": {"url": db_url},
                "ledgers": {
                    "quickbooks": {
                        "client_id": qbo.client_id,
                        "client_secret_env": "QBO_SANDBOX_SECRET",
                        "redirect_uri": qbo.redirect_uri,
                        "api_url": qbo.api_url,
                        "identity_url": qbo.discovery_url,
                    }
                },
                "connections": [
                    {
                        "name": "qbo",
                        "provider": "quickbooks",
                        "tenant_id": self.realm,
                        "accounts": self.accounts,
                        **connection,
                    }
                ],
            }
        )
        self.rt = open_runtime(config=config)
        self.time = FakeTime()
        self.options: dict[str, Any] = {}
        with self.rt.sessions() as session:
            self.connection_id = session.scalars(select(Connection.id)).one()
        save_token(self.rt, self.connection_id, qbo.issue_tokens(self.realm))

    def ledger(self, rt, connection):
        limiter = RateLimiter(QUICKBOOKS_LIMITS, clock=self.time.clock, sleep=self.time.sleep)
        return ledger_for(rt, connection, retry=FAST_RETRY, sleep=self.time.sleep, limiter=limiter, **self.options)

    def sync(self, **kwargs):
        return sync_connection(self.rt, self.connection_id, self.ledger, today=TODAY, **kwargs)

    def release_lock(self) -> None:
        with self.rt.transaction() as session:
            session.get(Connection, self.connection_id).lock_owner = None

    def invoices(self) -> dict[str, Invoice]:
        with self.rt.sessions() as session:
            return {i.external_id: i for i in session.scalars(select(Invoice))}

    # --- the ledger-neutral face the parametrised tests use ---------------------------------------

    provider = "quickbooks"

    @property
    def faults(self) -> Any:
        return self.qbo.faults

    def invoice(self, external_id: str) -> Invoice:
        return self.invoices()[external_id]

    def our_external_ids(self) -> set[str]:
        return set(self.invoices())

    def ledger_invoice_ids(self) -> set[str]:
        records = self.qbo.ledger.books(self.realm).records.get("Invoice", {})
        return {rid for rid, rec in records.items() if not rec.deleted}

    def our_payment_count(self, invoice_id: str) -> int:
        records = self.qbo.ledger.books(self.realm).records.get("Payment", {})
        return sum(
            1
            for rec in records.values()
            if not rec.deleted
            and "cx:" in str(rec.doc.get("PrivateNote", ""))
            and any(t.get("TxnId") == invoice_id for line in rec.doc.get("Line", []) for t in line.get("LinkedTxn", []))
        )

    def payout_counts(self, reference: str) -> tuple[int, int]:
        records = self.qbo.ledger.books(self.realm).records
        count = lambda kind: sum(  # noqa: E731
            1
            for r in records.get(kind, {}).values()
            if not r.deleted and reference in str(r.doc.get("PrivateNote", ""))
        )
        return count("Transfer"), count("Purchase")

    def forget_idempotency(self) -> None:
        self.qbo.requestids = type(self.qbo.requestids)(self.qbo.clock, ttl=timedelta(hours=24))

    def entity(self, kind: str, entity_id: str) -> dict[str, Any]:
        return self.qbo.entity(self.realm, kind, entity_id)

    def open_invoices(self, n: int) -> list[str]:
        home = None
        found = []
        for external_id, row in sorted(self.invoices().items(), key=lambda kv: kv[1].id):
            home = home or row.currency
            if row.status == "scheduled" and row.currency == home:
                inv = self.entity("Invoice", external_id)
                if Decimal(str(inv["Balance"])) == Decimal(str(inv["TotalAmt"])):
                    found.append(external_id)
        assert len(found) >= n
        return found[:n]


@pytest.fixture(params=["xero", "quickbooks"])
def any_world(request: pytest.FixtureRequest) -> Any:
    """The same test, once against each ledger."""
    return request.getfixturevalue("world" if request.param == "xero" else "qbo_world")


@pytest.fixture
def qbo_world(qbo: QuickBooksSandbox, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[QboWorld]:
    w = QboWorld(qbo, db_url, monkeypatch)
    yield w
    w.rt.close()
