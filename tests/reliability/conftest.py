"""Real processes, a real database and a real (slow) sandbox: crashes, signals and races.

The connector runs here as its own command in child processes (``python -c … main()``), the
Xero sandbox in this process. Nothing is mocked; a wait polls the database for a fact, never
a clock for a duration.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from connector.runtime import Runtime, open_runtime
from connector.sandbox.xero import RateLimits, XeroSandbox
from connector.store.models import Connection, Invoice, SyncRun
from connector.sync.connect import save_token

# The e2e world (the Xero sandbox over HTTP, the real SDK), for the in-process runner tests here.
from tests.e2e.conftest import spec_checker, world, xero  # noqa: F401

ACCOUNTS = {"clearing": "095", "bank": "090", "fees": "404"}
#: The ``connector`` command, run by this interpreter (no reliance on a console script on PATH).
LAUNCH = "import sys; sys.argv[0] = 'connector'; from connector.cli import main; main()"


def connector_command(*args: str) -> list[str]:
    return [sys.executable, "-c", LAUNCH, *args]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CONNECTOR_CONFIG", "CONNECTOR_DATABASE_URL")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def wait_for(what: str, predicate: Callable[[], Any], proc: subprocess.Popen[str] | None = None) -> Any:
    """Poll until ``predicate()`` is truthy; a hang guard, not a timing assertion."""
    for _ in range(6000):
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the process ended (exit {proc.returncode}) before {what}:\n{out}\n{err}")
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


@dataclass
class Deployment:
    """A config file, a database and a Xero organisation, as an operator would have them."""

    xero: XeroSandbox
    config: Path
    rt: Runtime
    connection_id: int
    tenant_id: str

    def command(self, *args: str) -> list[str]:
        return connector_command("--config", str(self.config), *args)

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args), env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), env=child_env(), capture_output=True, text=True, timeout=600)

    def runs(self) -> list[SyncRun]:
        with self.rt.sessions() as session:
            return list(session.scalars(select(SyncRun).where(SyncRun.job == "sync").order_by(SyncRun.id)))

    def connection(self) -> Connection:
        with self.rt.sessions() as session:
            return session.get(Connection, self.connection_id)

    def invoice_count(self) -> int:
        with self.rt.sessions() as session:
            return session.scalar(select(func.count()).select_from(Invoice))

    def sales_invoice_ids(self) -> set[str]:
        tenant = self.xero.ledger.tenant(self.tenant_id)
        return {i.id for i in tenant.invoices.values() if i.type == "ACCREC"}

    def our_external_ids(self) -> list[str]:
        with self.rt.sessions() as session:
            return list(session.scalars(select(Invoice.external_id)))


def write_config(path: Path, db_url: str, sandbox: XeroSandbox) -> None:
    tenant = sandbox.tenant_ids[0]
    accounts = "\n".join(f'{k} = "{v}"' for k, v in ACCOUNTS.items())
    path.write_text(
        f"""
[database]
url = "{db_url}"

[ledgers.xero]
client_id = "{sandbox.client_id}"
client_secret_env = "XERO_SANDBOX_SECRET"
api_url = "{sandbox.accounting_url}"
identity_url = "{sandbox.identity_url}"
token_url = "{sandbox.token_url}"
authorize_url = "{sandbox.authorize_url}"

[[connections]]
name = "nz"
provider = "xero"
tenant_id = "{tenant}"

[connections.accounts]
{accounts}
"""
    )


def deploy(sandbox: XeroSandbox, db_url: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    monkeypatch.setenv("XERO_SANDBOX_SECRET", sandbox.client_secret)
    config = folder / "connector.toml"
    write_config(config, db_url, sandbox)
    rt = open_runtime(config)
    with rt.sessions() as session:
        connection_id = session.scalars(select(Connection.id)).one()
    tenant = sandbox.tenant_ids[0]
    save_token(rt, connection_id, sandbox.issue_tokens(tenants=[tenant]))
    return Deployment(sandbox, config, rt, connection_id, tenant)


@pytest.fixture
def slow_xero() -> Iterator[XeroSandbox]:
    """One organisation with three pages of sales invoices (Xero pages hold 1000)."""
    with XeroSandbox(seed=7, tenants=1, invoices_per_tenant=2600, limits=RateLimits.unlimited()) as sandbox:
        yield sandbox


@pytest.fixture
def deployed(slow_xero, db_url, tmp_path, monkeypatch) -> Iterator[Deployment]:
    d = deploy(slow_xero, db_url, tmp_path, monkeypatch)
    yield d
    d.rt.close()
