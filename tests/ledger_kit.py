"""Helpers (no fixtures, no conftest) shared by tests that talk to the ledgers and the CLI: the token
store a connection keeps, a clock that moves only when slept on, the real adapters connected to a
sandbox, the head of a Xero invoice as the API sends it, and the ``connector`` command on a test
database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import pytest
from typer.testing import CliRunner

from connector.cli import app as cli_app
from connector.ledgers.calls import RetrySettings
from connector.ledgers.limits import QUICKBOOKS_LIMITS, XERO_LIMITS, RateLimiter
from connector.ledgers.quickbooks import QuickBooksApp, QuickBooksLedger
from connector.ledgers.xero import XeroApp, XeroLedger
from connector.sandbox.quickbooks import QuickBooksSandbox
from connector.sandbox.xero import XeroSandbox

#: The adapters' retries unless a test asks for others: a few quick attempts.
RETRY = RetrySettings(attempts=3, base_delay=0.01, max_delay=0.02, timeout=10)

#: What every Xero invoice in the wire tests starts with; each test adds its amounts and dates.
XERO_INVOICE_HEAD: dict[str, Any] = {
    "InvoiceID": "7ef31b20-de17-4312-8382-412f869b1510",
    "InvoiceNumber": "INV-0003",
    "Type": "ACCREC",
    "Status": "AUTHORISED",
    "Contact": {"ContactID": "c1", "Name": "Ridgeway University"},
    "CurrencyCode": "NZD",
    "Total": Decimal("115.00"),
}


class MemoryTokens:
    """The token store a connection keeps, in memory."""

    def __init__(self, token: dict[str, Any]) -> None:
        self.token = token

    def load(self) -> dict[str, Any] | None:
        return self.token

    def save(self, token: dict[str, Any]) -> None:
        self.token = token


class Waits(Protocol):
    """Time for an adapter's limiter and backoff."""

    def clock(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class FakeTime:
    """A monotonic clock that moves only when someone sleeps on it: backoff passes without sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def xero_adapter(
    sb: XeroSandbox, tenant_index: int = 0, *, retry: RetrySettings = RETRY, waits: Waits | None = None, **options: Any
) -> XeroLedger:
    """The real Xero adapter for one of the sandbox's organisations (``options`` go to the ledger)."""
    tenant_id = sb.tenant_ids[tenant_index]
    body = sb.issue_tokens(tenants=[tenant_id])
    token = {**body, "scope": body["scope"].split(), "expires_at": time.time() + body["expires_in"]}
    app = XeroApp(
        sb.client_id,
        sb.client_secret,
        api_url=sb.accounting_url,
        identity_url=sb.identity_url,
        token_url=sb.token_url,
        authorize_url=sb.authorize_url,
    )
    waits = waits or FakeTime()
    return XeroLedger(
        app,
        tenant_id,
        MemoryTokens(token),
        limiter=RateLimiter(XERO_LIMITS, clock=waits.clock, sleep=waits.sleep),
        retry=retry,
        sleep=waits.sleep,
        **options,
    )


def qbo_adapter(
    sb: QuickBooksSandbox,
    realm_id: str | None = None,
    *,
    retry: RetrySettings = RETRY,
    waits: Waits | None = None,
    **options: Any,
) -> QuickBooksLedger:
    """The real QuickBooks adapter for one of the sandbox's companies (``options`` go to the ledger)."""
    realm_id = realm_id or sb.realm_ids[0]
    token = {**sb.issue_tokens(realm_id), "expires_at": time.time() + 3600}
    app = QuickBooksApp(
        sb.client_id, sb.client_secret, sb.redirect_uri, environment=sb.discovery_url, api_url=sb.api_url
    )
    waits = waits or FakeTime()
    return QuickBooksLedger(
        app,
        realm_id,
        MemoryTokens(token),
        limiter=RateLimiter(QUICKBOOKS_LIMITS, clock=waits.clock, sleep=waits.sleep),
        retry=retry,
        sleep=waits.sleep,
        **options,
    )


def cli_runner(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., tuple[int, str, str]]:
    """Run the command against the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", db_url)
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(cli_app, list(args), input=input)
        return result.exit_code, result.stdout, result.stderr

    return run
