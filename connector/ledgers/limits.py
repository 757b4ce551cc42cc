"""Client-side rate limiting per tenant: stay inside the ledger's limits instead of bouncing off them.

Xero allows 60 calls a minute, 5 at once and 5,000 a day per tenant; QuickBooks 500 a minute
and 10 at once per realm. A limiter keeps a sliding minute window and a concurrency gate, and
learns from the ledger's own headers (``X-MinLimit-Remaining``...) and ``Retry-After``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    per_minute: int | None = 60
    concurrent: int | None = 5
    per_day: int | None = 5000


XERO_LIMITS = Limits(per_minute=60, concurrent=5, per_day=5000)
QUICKBOOKS_LIMITS = Limits(per_minute=500, concurrent=10, per_day=None)


class RateLimiter:
    """One per tenant. ``with limiter.slot(): call()`` waits for room, never refuses."""

    def __init__(
        self,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()
        self._gate = threading.BoundedSemaphore(limits.concurrent) if limits.concurrent else None
        self._not_before = 0.0
        self.waited = 0.0

    def _room_in(self) -> float:
        """Seconds until the next call may go; 0 when it may go now (caller holds the lock)."""
        now = self._clock()
        wait = max(0.0, self._not_before - now)
        per_minute = self.limits.per_minute
        if per_minute:
            while self._calls and self._calls[0] <= now - 60:
                self._calls.popleft()
            if len(self._calls) >= per_minute:
                wait = max(wait, self._calls[0] + 60 - now)
        return wait

    @contextmanager
    def slot(self) -> Iterator[None]:
        if self._gate:
            self._gate.acquire()
        try:
            while True:
                with self._lock:
                    wait = self._room_in()
                    if wait <= 0:
                        self._calls.append(self._clock())
                        break
                self.waited += wait
                self._sleep(wait)
            yield
        finally:
            if self._gate:
                self._gate.release()

    def back_off(self, seconds: float) -> None:
        """The ledger said ``Retry-After``: nobody calls this tenant before then."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    def observe(self, minute_remaining: int | None) -> None:
        """Trust the ledger's count: if it says fewer calls remain than we think, fill the window."""
        if minute_remaining is None or not self.limits.per_minute:
            return
        with self._lock:
            now = self._clock()
            used_by_ledger = self.limits.per_minute - minute_remaining
            while len(self._calls) < used_by_ledger:
                self._calls.appendleft(now)
