"""Helpers (no fixtures, no conftest) shared by the money tests of the Xero sandbox and of the
Xero adapter: a spec-checked sandbox, the real adapter connected to it, and a fresh invoice.

Everything goes over real HTTP through the real xero-python SDK; time passes on fake clocks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from connector.ledgers.calls import RetrySettings
from connector.ledgers.limits import XERO_LIMITS, RateLimiter
from connector.ledgers.xero import XeroApp, XeroLedger
from connector.sandbox.xero import FakeClock, RateLimits, XeroSandbox
from connector.sandbox.xero.model import Invoice
from tests.sandbox.xero.spec_check import SpecChecker

_CHECKER: SpecChecker | None = None


def spec_checker() -> SpecChecker:
    """One checker per test process (parsing the spec is the slow part)."""
    global _CHECKER
    if _CHECKER is None:
        _CHECKER = SpecChecker()
    return _CHECKER


@contextmanager
def checked_sandbox(**kwargs: Any) -> Iterator[XeroSandbox]:
    """A started sandbox (fake clock, no rate limits) whose every response must pass the spec."""
    checker = spec_checker()
    first = len(checker.problems)
    options: dict[str, Any] = {"seed": 3, "clock": FakeClock(), "invoices_per_tenant": 20}
    options.update(kwargs)
    options.setdefault("limits", RateLimits.unlimited())
    with XeroSandbox(**options) as sb:
        sb.add_observer(checker)
        yield sb
    problems = checker.problems[first:]
    if problems:
        pytest.fail("responses the Xero spec rejects:\n" + "\n".join(problems[:10]), pytrace=False)


class MemoryTokens:
    """The token store a connection keeps, in memory."""

    def __init__(self, token: dict[str, Any]) -> None:
        self.token = token

    def load(self) -> dict[str, Any] | None:
        return self.token

    def save(self, token: dict[str, Any]) -> None:
        self.token = token


class FakeTime:
    """A monotonic clock that moves only when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def adapter(sb: XeroSandbox, tenant_index: int = 0) -> XeroLedger:
    """The real Xero adapter for one of the sandbox's organisations."""
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
    fake = FakeTime()
    return XeroLedger(
        app,
        tenant_id,
        MemoryTokens(token),
        limiter=RateLimiter(XERO_LIMITS, clock=fake.clock, sleep=fake.sleep),
        retry=RetrySettings(attempts=3, base_delay=0.01, max_delay=0.02, timeout=10),
        sleep=fake.sleep,
    )


def open_invoice(sb: XeroSandbox, amount: str = "100.00", tenant_index: int = 0, contact: str | None = None) -> Invoice:
    """A new AUTHORISED sales invoice in the organisation's own currency, nothing paid."""
    tenant_id = sb.tenant_ids[tenant_index]
    name = contact or f"Kit Customer {len(sb.ledger.tenant(tenant_id).invoices)}"
    return sb.ledger.create_invoice(tenant_id, contact_name=name, amount=Decimal(amount))
