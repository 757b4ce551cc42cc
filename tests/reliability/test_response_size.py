"""An answer too big to hold is refused as it arrives, never read whole (issue 17, #4).

A 300 MB page once took the process to 1 GB. The sandboxes' ``huge`` fault pads a real answer with
whitespace (still valid JSON) to ``huge_bytes`` and streams it without a Content-Length; the
adapters stop reading at their cap and report a transient error. What is counted is bytes: those
the adapter read, and those the sandbox managed to send before the connection was closed on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from connector.ledgers.calls import CHUNK_BYTES, RetrySettings
from connector.ledgers.errors import ResponseTooLarge, TransientError
from connector.ledgers.quickbooks import QuickBooksLedger
from connector.ledgers.xero import XeroLedger
from connector.sandbox.quickbooks import QuickBooksSandbox
from connector.sandbox.xero import RateLimits, XeroSandbox
from tests import ledger_kit

CAP = 1_000_000
HUGE = 100_000_000
RETRY = RetrySettings(attempts=2, base_delay=0.0, max_delay=0.0, timeout=30)


@pytest.fixture
def xero() -> Iterator[XeroSandbox]:
    with XeroSandbox(seed=3, tenants=1, invoices_per_tenant=20, limits=RateLimits.unlimited()) as sandbox:
        yield sandbox


@pytest.fixture
def qbo(monkeypatch: pytest.MonkeyPatch) -> Iterator[QuickBooksSandbox]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with QuickBooksSandbox(seed=5, realms=1, invoices_per_realm=20, limits=RateLimits.unlimited()) as sandbox:
        yield sandbox


def xero_adapter(sb: XeroSandbox, cap: int = CAP) -> XeroLedger:
    return ledger_kit.xero_adapter(sb, retry=RETRY, max_response_bytes=cap)


def qbo_adapter(sb: QuickBooksSandbox, cap: int = CAP) -> QuickBooksLedger:
    return ledger_kit.qbo_adapter(sb, retry=RETRY, max_response_bytes=cap)


def assert_stopped_at_the_cap(ledger: Any, sandbox: Any, read_before: int) -> None:
    read = ledger.bytes_read.total - read_before
    # Each attempt read at most the cap and one more chunk, then closed the connection...
    assert read <= RETRY.attempts * (CAP + CHUNK_BYTES)
    # ...so the sandbox could not send even one of the huge answers whole (the rest of what it sent
    # sat in the sockets' buffers when the connection closed).
    assert sandbox.faults.streamed_bytes < HUGE


def test_xero_a_huge_invoice_page_is_refused_at_the_cap(xero):
    ledger = xero_adapter(xero)
    assert list(ledger.changed_invoices(None, timedelta(minutes=5)))  # an ordinary page is read as usual
    before = ledger.bytes_read.total
    assert 0 < before < CAP
    xero.faults.add(f"huge={RETRY.attempts}x,huge_bytes={HUGE}")

    with pytest.raises(ResponseTooLarge, match=f"more than {CAP} bytes"):
        list(ledger.changed_invoices(None, timedelta(minutes=5)))

    assert ledger.calls.counts["invoices_read"] == 1 + RETRY.attempts
    assert_stopped_at_the_cap(ledger, xero, before)
    # The connection pool is still good: the next page is read as usual.
    assert list(ledger.changed_invoices(None, timedelta(minutes=5)))


def test_xero_a_huge_answer_to_a_call_the_sdk_parses_is_refused_too(xero):
    ledger = xero_adapter(xero)
    xero.faults.add(f"huge={RETRY.attempts}x,huge_bytes={HUGE}")
    with pytest.raises(TransientError, match="more than"):
        ledger.organisation()
    assert_stopped_at_the_cap(ledger, xero, 0)


def test_quickbooks_a_huge_query_answer_is_refused_at_the_cap(qbo):
    ledger = qbo_adapter(qbo)
    assert ledger.organisation().base_currency
    before = ledger.bytes_read.total
    qbo.faults.add(f"huge={RETRY.attempts}x,huge_bytes={HUGE}")

    with pytest.raises(ResponseTooLarge, match=f"more than {CAP} bytes"):
        list(ledger.changed_invoices(None, timedelta(minutes=5)))

    assert ledger.calls.counts["query"] == RETRY.attempts
    assert_stopped_at_the_cap(ledger, qbo, before)
    pages = list(ledger.changed_invoices(None, timedelta(minutes=5)))
    assert sum(len(p.records) for p in pages) > 0


def test_an_answer_announced_over_the_cap_is_refused_before_a_byte_is_read(qbo):
    ledger = qbo_adapter(qbo, cap=200)  # an ordinary Preferences answer is bigger than that
    with pytest.raises(ResponseTooLarge, match="announced an answer of"):
        ledger.organisation()
    assert ledger.bytes_read.total == 0


def test_the_huge_fault_is_part_of_the_fault_grammar():
    from connector.sandbox.common.faults import FaultInjector, FaultSpec

    spec = FaultSpec.parse("huge=2x, huge_bytes=5000")
    assert str(spec) == "huge=2x,huge_bytes=5000"
    injector = FaultInjector()
    injector.add(spec)
    assert injector.huge_bytes == 5000 and injector.describe() == "huge=2x,huge_bytes=5000"
    injector.clear()
    assert injector.describe() == ""
