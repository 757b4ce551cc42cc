"""Two real processes racing on one tenant through the Redis-kept limits: the sum stays inside them.

The Xero sandbox keeps its own per-minute and at-once counters per tenant and answers 429 past
them. Its clock here runs 20 times faster than the wall clock, so its "minute" lasts 3 s and the
race needs seconds, not minutes; the limiter is given the same limits and a 4 s window (the 3 s
minute plus the margin it keeps in production). Two processes each make 30 calls: alone, either
would go past 20 a minute; together they must wait for each other. Not one call is refused.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connector.ledgers.limits import Limits
from connector.ledgers.shared_limits import LimitsUnavailable, SharedLimiter, SharedLimits
from connector.sandbox.xero import RateLimits, XeroSandbox
from tests.engine.kit import REDIS_URL, CountingLimiter, redis_prefix, services_or_skip

CHILD = Path(__file__).with_name("limiter_child.py")
SPEED = 20
PER_MINUTE = 20
CONCURRENT = 2
CALLS = 30


class FastClock:
    """The sandbox's clock, ``SPEED`` times the wall clock: its minute windows last 60/SPEED seconds."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC)
        self.t0 = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * SPEED)


@pytest.fixture
def prefix():
    services_or_skip()
    with redis_prefix() as p:
        yield p


def test_two_processes_on_one_tenant_never_exceed_its_limits(prefix):
    limits = RateLimits(per_minute=PER_MINUTE, per_day=None, concurrent=CONCURRENT, app_per_minute=None)
    with XeroSandbox(seed=9, tenants=1, invoices_per_tenant=1, limits=limits, clock=FastClock(), latency_ms=20) as xero:
        counter = CountingLimiter(xero.limiter)
        xero.limiter = counter
        tenant = xero.tenant_ids[0]
        token = xero.issue_tokens(tenants=[tenant])["access_token"]
        args = [REDIS_URL, prefix, xero.accounting_url, tenant, token, str(CALLS), str(PER_MINUTE), str(CONCURRENT)]
        window = str(60 // SPEED + 1)
        procs = [
            subprocess.Popen([sys.executable, str(CHILD), *args, window], stdout=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        results = [json.loads(p.communicate(timeout=300)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert [r["statuses"] for r in results] == [{"200": CALLS}, {"200": CALLS}], results
    assert not counter.refused, counter.refused
    assert counter.admitted[tenant] == 2 * CALLS
    assert counter.fullest_minute[tenant] <= PER_MINUTE
    assert counter.most_at_once[tenant] <= CONCURRENT
    assert sum(r["waited"] for r in results) > 0  # they did have to wait for each other


def test_the_days_allowance_stops_calls_without_sending_them(prefix):
    from connector.ledgers.errors import DailyLimitError

    limits = SharedLimits(Limits(per_minute=None, concurrent=None, per_day=3), None)
    limiter = SharedLimiter(REDIS_URL, "xero", "app", "t-day", limits=limits, prefix=prefix)
    sent = 0
    with pytest.raises(DailyLimitError) as refused:
        for _ in range(5):
            with limiter.slot():
                sent += 1
    assert sent == 3 and refused.value.retry_after > 0
    other = SharedLimiter(REDIS_URL, "xero", "app", "t-day", limits=limits, prefix=prefix)  # another worker
    with pytest.raises(DailyLimitError):
        other.slot().__enter__()
    assert other.used()["day"] == 3


def test_retry_after_and_the_ledgers_count_hold_every_worker(prefix):
    slept: list[float] = []
    limits = SharedLimits(Limits(per_minute=10, concurrent=None, per_day=None), None)
    one = SharedLimiter(REDIS_URL, "xero", "app", "t-b", limits=limits, prefix=prefix, sleep=slept.append)
    other = SharedLimiter(REDIS_URL, "xero", "app", "t-b", limits=limits, prefix=prefix)
    one.observe(4)  # the ledger says 6 calls went this minute (another app instance?): counted for everyone
    assert other.used()["minute"] == 6
    other.back_off(2)  # a 429 with Retry-After: 2 seen by the other worker
    with one.slot():
        pass
    assert slept and sum(slept) > 0  # this one waited before calling


def test_redis_away_is_a_transient_error_and_no_call():
    limiter = SharedLimiter("redis://127.0.0.1:1/0", "xero", "app", "t", prefix="nowhere")
    with pytest.raises(LimitsUnavailable) as away, limiter.slot():
        pytest.fail("a call went out without the limits' say-so")
    assert away.value.retryable
