"""Rate limits per tenant: headers on every response, 429 + Retry-After when exceeded."""

from __future__ import annotations

import threading

import pytest
import requests
from xero_python.exceptions import RateLimitException

from connector.sandbox.xero import RateLimits
from tests.sandbox.xero.conftest import MakeSandbox, XeroClient, XeroFor


def test_headers_on_every_accounting_response(xero: XeroClient) -> None:
    xero.accounting.get_organisations(xero.tenant_id)
    first = xero.last_headers()
    xero.accounting.get_invoices(xero.tenant_id, page=1, page_size=1)
    second = xero.last_headers()
    for header in ("X-MinLimit-Remaining", "X-DayLimit-Remaining", "X-AppMinLimit-Remaining"):
        assert header in first and header in second
    assert int(second["X-MinLimit-Remaining"]) == int(first["X-MinLimit-Remaining"]) - 1
    assert int(second["X-DayLimit-Remaining"]) == int(first["X-DayLimit-Remaining"]) - 1


def test_minute_limit_then_window_reset(make_sandbox: MakeSandbox, xero_for: XeroFor) -> None:
    sb = make_sandbox(limits=RateLimits(per_minute=3))
    xero = xero_for(sb)
    for expected in (2, 1, 0):
        xero.accounting.get_organisations(xero.tenant_id)
        assert xero.last_headers()["X-MinLimit-Remaining"] == str(expected)
    sb.clock.advance(seconds=20)
    with pytest.raises(RateLimitException) as err:
        xero.accounting.get_organisations(xero.tenant_id)
    assert err.value.status == 429
    assert err.value.rate_limit == "minute"
    assert err.value.headers.get("Retry-After") == "40"
    assert err.value.headers.get("X-MinLimit-Remaining") == "0"
    other = sb.tenant_ids[1]  # limits are per tenant
    xero.accounting.get_organisations(other)
    sb.clock.advance(seconds=40)
    xero.accounting.get_organisations(xero.tenant_id)
    assert xero.last_headers()["X-MinLimit-Remaining"] == "2"


def test_day_limit(make_sandbox: MakeSandbox, xero_for: XeroFor) -> None:
    sb = make_sandbox(limits=RateLimits(per_day=2, per_minute=None))
    xero = xero_for(sb)
    xero.accounting.get_organisations(xero.tenant_id)
    xero.accounting.get_organisations(xero.tenant_id)
    assert "X-MinLimit-Remaining" not in xero.last_headers()  # a lifted limit sends no header
    with pytest.raises(RateLimitException) as err:
        xero.accounting.get_organisations(xero.tenant_id)
    assert err.value.rate_limit == "day"
    assert int(err.value.headers["Retry-After"]) == 86400


def test_concurrency_gate_is_real(make_sandbox: MakeSandbox) -> None:
    sb = make_sandbox(limits=RateLimits(concurrent=2, per_minute=None), faults="latency=300")
    token = sb.issue_tokens()
    headers = {
        "Authorization": f"Bearer {token['access_token']}",
        "xero-tenant-id": sb.tenant_ids[0],
        "Accept": "application/json",
    }
    results: list[requests.Response] = []
    barrier = threading.Barrier(5)

    def call() -> None:
        barrier.wait()
        results.append(requests.get(sb.accounting_url + "/Organisation", headers=headers, timeout=10))

    threads = [threading.Thread(target=call) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [r for r in results if r.status_code == 429]
    assert sum(r.status_code == 200 for r in results) >= 2 and refused
    assert all(r.headers["X-Rate-Limit-Problem"] == "concurrent" for r in refused)
    assert sb.limiter.in_flight(sb.tenant_ids[0]) == 0  # every admitted call released its slot


def test_limits_can_be_lifted_at_runtime(make_sandbox: MakeSandbox, xero_for: XeroFor) -> None:
    sb = make_sandbox(limits=RateLimits(per_minute=1))
    xero = xero_for(sb)
    xero.accounting.get_organisations(xero.tenant_id)
    with pytest.raises(RateLimitException):
        xero.accounting.get_organisations(xero.tenant_id)
    sb.set_limits(RateLimits.unlimited())
    for _ in range(5):
        xero.accounting.get_organisations(xero.tenant_id)


def test_urllib3_under_the_sdk_sleeps_retry_after_and_retries_by_itself(make_sandbox: MakeSandbox, xero_for) -> None:
    """What production code gets by default: a 429 with Retry-After on a GET never reaches
    the caller while urllib3 has retries left (it sleeps Retry-After seconds, real time)."""
    sb = make_sandbox(faults="429burst=2,retry_after=0")
    xero = xero_for(sb, honour_retry_after=True)
    assert xero.accounting.get_organisations(xero.tenant_id).organisations
    assert sb.faults.hits["429"] == 2
