"""Helpers (no fixtures, no conftest) shared by the money tests of the Xero sandbox and of the
Xero adapter: a spec-checked sandbox, the real adapter connected to it (from ``tests.ledger_kit``),
and a fresh invoice.

Everything goes over real HTTP through the real xero-python SDK; time passes on fake clocks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from connector.sandbox.xero import FakeClock, RateLimits, XeroSandbox
from connector.sandbox.xero.model import Invoice
from tests.ledger_kit import xero_adapter as adapter
from tests.sandbox.xero.spec_check import SpecChecker

__all__ = ["adapter", "checked_sandbox", "open_invoice", "spec_checker"]

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


def open_invoice(sb: XeroSandbox, amount: str = "100.00", tenant_index: int = 0, contact: str | None = None) -> Invoice:
    """A new AUTHORISED sales invoice in the organisation's own currency, nothing paid."""
    tenant_id = sb.tenant_ids[tenant_index]
    name = contact or f"Kit Customer {len(sb.ledger.tenant(tenant_id).invoices)}"
    return sb.ledger.create_invoice(tenant_id, contact_name=name, amount=Decimal(amount))
