"""A ledger that does not answer in time is a transient error, never a wait without end (issue 17, #3).

xero-python honours ``_request_timeout`` only as an int or a ``(connect, read)`` pair; the adapter
passed a float, so urllib3 waited for as long as the ledger took. The sandboxes answer after a
latency longer than the adapter's timeout: every attempt gives up, is counted, and the sync fails
with the reason. Counts only, no clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from connector.ledgers.calls import RetrySettings
from connector.ledgers.errors import TransientError
from connector.ledgers.limits import XERO_LIMITS, RateLimiter
from connector.sandbox.quickbooks import QuickBooksSandbox
from connector.sandbox.xero import RateLimits, XeroSandbox
from connector.sync.connect import ledger_for
from connector.sync.runner import sync_connection
from tests.e2e.conftest import TODAY, make_world
from tests.ledger_kit import FakeTime, qbo_adapter, xero_adapter

#: The sandboxes wait this long before answering; the adapters wait for a fraction of it.
LATENCY_MS = 3000
IMPATIENT = RetrySettings(attempts=2, base_delay=0.0, max_delay=0.0, timeout=0.3, connect_timeout=0.3)


@pytest.fixture
def slow_xero() -> Iterator[XeroSandbox]:
    with XeroSandbox(seed=3, tenants=2, invoices_per_tenant=5, limits=RateLimits.unlimited()) as sandbox:
        yield sandbox


def test_the_xero_adapter_gives_up_on_an_answer_slower_than_its_timeout(slow_xero):
    ledger = xero_adapter(slow_xero, retry=IMPATIENT)
    assert list(ledger.changed_invoices(None, timedelta(minutes=5)))  # answers in time: read as usual
    slow_xero.faults.add(f"latency={LATENCY_MS}")

    with pytest.raises(TransientError, match="in time"):
        list(ledger.changed_invoices(None, timedelta(minutes=5)))
    assert ledger.calls.counts["invoices_read"] == 1 + IMPATIENT.attempts

    # The calls the SDK parses itself (here a write) and the raw ones alike.
    with pytest.raises(TransientError, match="in time"):
        ledger.delete_payment(str(uuid.uuid4()), "key-1")
    assert ledger.calls.counts["payments_write"] == IMPATIENT.attempts


def test_a_xero_sync_against_a_ledger_that_does_not_answer_fails_with_the_reason(slow_xero, db_url, monkeypatch):
    world = make_world(slow_xero, db_url, monkeypatch)

    def impatient(rt: Any, connection: Any) -> Any:
        waits = FakeTime()
        limiter = RateLimiter(XERO_LIMITS, clock=waits.clock, sleep=waits.sleep)
        return ledger_for(rt, connection, retry=IMPATIENT, sleep=waits.sleep, limiter=limiter)

    try:
        slow_xero.faults.add(f"latency={LATENCY_MS}")
        result = sync_connection(world.rt, world.connection_id("nz"), impatient, today=TODAY)
        assert result.state == "failed"
        assert "did not answer in time" in (result.error or "")
        assert result.api_calls == IMPATIENT.attempts  # the organisation read, twice, then the run stopped
    finally:
        world.rt.close()


def test_the_quickbooks_adapter_gives_up_on_an_answer_slower_than_its_timeout(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with QuickBooksSandbox(seed=5, realms=1, invoices_per_realm=5, limits=RateLimits.unlimited()) as sb:
        ledger = qbo_adapter(sb, retry=IMPATIENT)
        assert ledger.organisation().base_currency
        sb.faults.add(f"latency={LATENCY_MS}")
        with pytest.raises(TransientError, match="in time"):
            ledger.get_invoices(["1"])
        assert ledger.calls.counts["query"] == IMPATIENT.attempts


def test_the_timeouts_are_a_connect_and_read_pair():
    assert RetrySettings(timeout=30.0).timeouts == (10.0, 30.0)
    assert RetrySettings(timeout=2.5, connect_timeout=10.0).timeouts == (2.5, 2.5)
