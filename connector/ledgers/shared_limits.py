"""Rate limits shared by every worker of the cluster, kept in Redis.

The per-process :class:`~connector.ledgers.limits.RateLimiter` is right for one process: with
three worker machines each believing it may make 60 Xero calls a minute for a tenant, the tenant
gets 180 and Xero answers 429. A :class:`SharedLimiter` has the same face (``slot()``,
``back_off()``, ``observe()``) so the adapters take it unchanged (``limiter=``), but every count
lives in Redis, where all workers see it:

- **per tenant, per minute** (Xero 60, QuickBooks 500 per realm): a moving window (the ``limits``
  library's Redis moving-window strategy: one list of call times per tenant, checked and pushed
  in one Lua script). Any stretch of ``window`` seconds holds at most ``per_minute`` calls. The
  window is 61 s rather than 60: a call is counted when it is admitted here and the ledger counts
  it when it arrives, and the second of margin keeps the two counts inside one limit even when
  calls wait a little before leaving (token refresh, a slow socket).
- **per tenant, per day** (Xero 5,000): a fixed window that opens at the first call, as Xero's
  does. When it is spent the call is not sent: :class:`~connector.ledgers.errors.DailyLimitError`
  pauses the connection until the window opens (the runner does that), instead of a worker
  sleeping for hours.
- **per app, per minute** (Xero 10,000 across all tenants of one app): a moving window keyed by
  the app's client id.
- **at once** (Xero 5, QuickBooks 10 per tenant): a counting semaphore, a sorted set of holders
  scored by their lease's end, so a worker killed with ``kill -9`` while holding a place gives it
  back when its lease (``lease`` seconds, longer than any one call's timeouts) runs out.

A worker that would go over any limit **waits** in ``slot()`` (polling Redis, never busy-looping)
and never sends the call; the day's limit is the one exception, above. The order matters: the
concurrency place is taken first and the rate windows are charged last, right before the call,
so a call is never counted long before it is sent.

Times come from the workers' own clocks (the ``limits`` library does the same), so the machines
of one cluster keep their clocks in step (NTP); a skew of a second is what the margin absorbs.

Redis unreachable is :class:`LimitsUnavailable`, a transient ledger error: the adapters' retry
policy backs off and tries again, and a run that still cannot reach Redis ends ``failed`` with
that reason. No call is made without the limits' say-so.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis
from limits import RateLimitItemPerDay, RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from connector.ledgers.errors import DailyLimitError, TransientError
from connector.ledgers.limits import QUICKBOOKS_LIMITS, XERO_LIMITS, Limits

#: Xero's limit per app across all its tenants, per minute.
XERO_APP_PER_MINUTE = 10_000
#: Seconds in the moving window of a per-minute limit: 60 plus a second of margin (see above).
WINDOW_SECONDS = 61
#: How long a place in the concurrency gate is held at most if its holder dies without giving it back.
LEASE_SECONDS = 180.0
#: The longest a waiting worker sleeps before asking Redis again.
MAX_POLL = 2.0
#: Redis keys start with this (``CONNECTOR_REDIS_PREFIX`` picks another, e.g. two installations on one Redis).
DEFAULT_PREFIX = "connector"


class LimitsUnavailable(TransientError):
    """Redis, where the shared limits are kept, cannot be reached: no call is sent without them."""


@dataclass(frozen=True, slots=True)
class SharedLimits:
    """What one provider allows: per tenant (:class:`Limits`) and per app per minute."""

    tenant: Limits
    app_per_minute: int | None


PROVIDER_LIMITS: dict[str, SharedLimits] = {
    "xero": SharedLimits(XERO_LIMITS, XERO_APP_PER_MINUTE),
    "quickbooks": SharedLimits(QUICKBOOKS_LIMITS, None),
}

# Take a place if one is free: drop expired holders, count, add ourselves with our lease's end.
_ACQUIRE = """
redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
if redis.call('zcard', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('zadd', KEYS[1], ARGV[3], ARGV[4])
    redis.call('pexpire', KEYS[1], ARGV[5])
    return 1
end
return 0
"""

# Push "nobody calls before" later, never earlier.
_BACK_OFF = """
local ttl = redis.call('pttl', KEYS[1])
if ttl < tonumber(ARGV[1]) then
    redis.call('set', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""


class _Store:
    """One Redis connection pool and the ``limits`` strategies on it, per URL and prefix, per process."""

    def __init__(self, url: str, prefix: str) -> None:
        self.prefix = prefix
        self.client: redis.Redis = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self.storage = RedisStorage(url, key_prefix=f"{prefix}:limits", connection_pool=self.client.connection_pool)
        self.moving = MovingWindowRateLimiter(self.storage)
        self.fixed = FixedWindowRateLimiter(self.storage)
        self.acquire = self.client.register_script(_ACQUIRE)
        self.back_off = self.client.register_script(_BACK_OFF)


_stores: dict[tuple[str, str], _Store] = {}
_stores_lock = threading.Lock()


def store_for(url: str, prefix: str = DEFAULT_PREFIX) -> _Store:
    """The process's connection to the limits' Redis (a pool, shared by every limiter and thread)."""
    with _stores_lock:
        found = _stores.get((url, prefix))
        if found is None:
            found = _stores[(url, prefix)] = _Store(url, prefix)
        return found


class SharedLimiter:
    """The limits of one tenant of one app, counted in Redis for every worker. Same face as ``RateLimiter``."""

    def __init__(
        self,
        url: str,
        provider: str,
        app: str,
        tenant: str,
        *,
        limits: SharedLimits | None = None,
        prefix: str = DEFAULT_PREFIX,
        window: int = WINDOW_SECONDS,
        lease: float = LEASE_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.provider = provider
        self.app = app or "-"
        self.tenant = tenant
        self.shared = limits or PROVIDER_LIMITS[provider]
        #: The tenant's limits, as the per-process limiter exposes them.
        self.limits = self.shared.tenant
        self.window = window
        self.lease = lease
        self._store = store_for(url, prefix)
        self._sleep = sleep
        self._clock = clock
        self._ids = (provider, self.app, tenant)
        base = f"{prefix}:{provider}:{self.app}:{tenant}"
        self._gate_key = f"{base}:in_flight"
        self._not_before_key = f"{base}:not_before"
        per_minute = self.limits.per_minute
        self._minute = RateLimitItemPerSecond(per_minute, window, namespace="tenant-minute") if per_minute else None
        per_day = self.limits.per_day
        self._day = RateLimitItemPerDay(per_day, namespace="tenant-day") if per_day else None
        app_minute = self.shared.app_per_minute
        self._app_minute = RateLimitItemPerSecond(app_minute, window, namespace="app-minute") if app_minute else None
        #: Seconds this limiter's callers spent waiting for room (all threads).
        self.waited = 0.0
        self._waited_lock = threading.Lock()

    # --- the RateLimiter face ------------------------------------------------------------------

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Wait until a call to this tenant fits every limit, then let exactly one call through."""
        try:
            self._wait_not_before()
            token = self._enter_gate()
            try:
                self._charge()
            except BaseException:
                self._leave_gate(token)
                raise
        except redis.RedisError as exc:
            raise LimitsUnavailable(f"the shared rate limits (Redis) cannot be reached: {_first_line(exc)}") from None
        try:
            yield
        finally:
            with contextlib.suppress(redis.RedisError):  # else the place comes back when its lease ends
                self._leave_gate(token)

    def back_off(self, seconds: float) -> None:
        """The ledger said ``Retry-After``: no worker calls this tenant before then."""
        if seconds <= 0:
            return
        with contextlib.suppress(redis.RedisError):  # the retry policy waits anyway; the next slot() reports Redis
            self._store.back_off(keys=[self._not_before_key], args=[int(seconds * 1000)])

    def observe(self, minute_remaining: int | None) -> None:
        """Trust the ledger's count: if it says fewer calls remain this minute than we counted, fill the window."""
        if minute_remaining is None or self._minute is None:
            return
        try:
            stats = self._store.moving.get_window_stats(self._minute, *self._ids)
            ours = self._minute.amount - stats.remaining
            theirs = self._minute.amount - max(0, minute_remaining)
            if theirs > ours:
                self._store.moving.hit(self._minute, *self._ids, cost=theirs - ours)
        except redis.RedisError:
            pass

    # --- reading, for the status views and tests --------------------------------------------------

    def used(self) -> dict[str, int]:
        """Calls counted now: in this minute's window, today's window, and at once."""
        out: dict[str, int] = {}
        if self._minute is not None:
            out["minute"] = (
                self._minute.amount - self._store.moving.get_window_stats(self._minute, *self._ids).remaining
            )
        if self._day is not None:
            out["day"] = self._day.amount - self._store.fixed.get_window_stats(self._day, *self._ids).remaining
        now = self._clock()
        out["in_flight"] = int(self._store.client.zcount(self._gate_key, now, "+inf"))
        return out

    # --- the steps of a slot ----------------------------------------------------------------------

    def _wait(self, seconds: float) -> None:
        seconds = max(0.01, min(MAX_POLL, seconds))
        with self._waited_lock:
            self.waited += seconds
        self._sleep(seconds)

    def _wait_not_before(self) -> None:
        while True:
            ttl = self._store.client.pttl(self._not_before_key)
            if ttl is None or ttl <= 0:
                return
            self._wait(ttl / 1000)

    def _enter_gate(self) -> str | None:
        concurrent = self.limits.concurrent
        if not concurrent:
            return None
        token = uuid.uuid4().hex
        delay = 0.02
        while True:
            now = self._clock()
            expiry_ms = int((self.lease + 60) * 1000)
            taken = self._store.acquire(
                keys=[self._gate_key], args=[now, concurrent, now + self.lease, token, expiry_ms]
            )
            if taken:
                return token
            self._wait(delay)
            delay = min(delay * 2, 0.5)

    def _leave_gate(self, token: str | None) -> None:
        if token is not None:
            self._store.client.zrem(self._gate_key, token)

    def _charge(self) -> None:
        """Count the call in every window, or wait for room. Each window is checked before any is charged;
        a race lost between the check and the charge only wastes a place (never exceeds a limit)."""
        moving, fixed = self._store.moving, self._store.fixed
        while True:
            if self._day is not None and not fixed.test(self._day, *self._ids):
                reset = fixed.get_window_stats(self._day, *self._ids).reset_time
                wait = max(60.0, reset - self._clock())
                raise DailyLimitError(
                    f"the day's allowance of {self._day.amount} calls for this organisation is spent "
                    "(counted across all workers)",
                    retry_after=wait,
                )
            wait = self._room_in(self._app_minute, self._app_ids())
            wait = max(wait, self._room_in(self._minute, self._ids))
            if wait > 0:
                self._wait(wait)
                continue
            if self._app_minute is not None and not moving.hit(self._app_minute, *self._app_ids()):
                continue
            if self._minute is not None and not moving.hit(self._minute, *self._ids):
                continue
            if self._day is not None:
                fixed.hit(self._day, *self._ids)
            return

    def _app_ids(self) -> tuple[str, str]:
        return (self.provider, self.app)

    def _room_in(self, item: Any, ids: tuple[str, ...]) -> float:
        """Seconds until ``item``'s moving window has room for one more call (0 when it has now)."""
        if item is None:
            return 0.0
        moving = self._store.moving
        if moving.test(item, *ids):
            return 0.0
        reset = moving.get_window_stats(item, *ids).reset_time
        return max(0.05, reset - self._clock())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def ping(url: str) -> None:
    """Raise ``redis.RedisError`` if the limits' Redis does not answer (a worker checks at start)."""
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    finally:
        client.close()
