"""Per-tenant rate limits the way ledgers enforce them: fixed windows plus a concurrency gate.

Windows are fixed, not sliding, and each one opens at the first call after the previous
one closed, so different tenants' windows reset at different times (as Xero documents).
Rejected calls do not count. Every limit can be lifted (``None``) for benchmarks.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from connector.sandbox.common.clock import Clock


@dataclass(frozen=True)
class RateLimits:
    """Limits per tenant (``per_minute``, ``per_day``, ``concurrent``) and per app."""

    per_minute: int | None = 60
    per_day: int | None = 5000
    concurrent: int | None = 5
    app_per_minute: int | None = 10_000

    @classmethod
    def unlimited(cls) -> RateLimits:
        return cls(per_minute=None, per_day=None, concurrent=None, app_per_minute=None)


@dataclass
class _Window:
    length: timedelta
    started: datetime | None = None
    count: int = 0

    def roll(self, now: datetime) -> None:
        if self.started is None or now >= self.started + self.length:
            self.started = now
            self.count = 0

    def retry_after(self, now: datetime) -> int:
        assert self.started is not None
        return max(1, math.ceil((self.started + self.length - now).total_seconds()))


@dataclass
class _TenantState:
    minute: _Window = field(default_factory=lambda: _Window(timedelta(minutes=1)))
    day: _Window = field(default_factory=lambda: _Window(timedelta(days=1)))
    in_flight: int = 0


@dataclass(frozen=True)
class Admission:
    """The limiter's answer for one call: admitted or not, and what to tell the caller.

    ``remaining`` maps a limit name (minute, day, appminute) to calls left after this one;
    a lifted limit is absent. ``problem`` names the limit that refused the call.
    """

    admitted: bool
    remaining: dict[str, int]
    problem: str | None = None
    retry_after: int | None = None


class RateLimiter:
    """Thread-safe limiter; ``acquire`` before handling a call, ``release`` after it."""

    def __init__(self, limits: RateLimits, clock: Clock) -> None:
        self.limits = limits
        self.clock = clock
        self._lock = threading.Lock()
        self._tenants: dict[str, _TenantState] = {}
        self._app_minute = _Window(timedelta(minutes=1))

    def acquire(self, tenant: str) -> Admission:
        limits = self.limits
        now = self.clock.now()
        with self._lock:
            state = self._tenants.setdefault(tenant, _TenantState())
            state.minute.roll(now)
            state.day.roll(now)
            self._app_minute.roll(now)
            remaining = self._remaining(state)
            if limits.concurrent is not None and state.in_flight >= limits.concurrent:
                return Admission(False, remaining, "concurrent", None)
            if limits.app_per_minute is not None and self._app_minute.count >= limits.app_per_minute:
                return Admission(False, remaining, "appminute", self._app_minute.retry_after(now))
            if limits.per_day is not None and state.day.count >= limits.per_day:
                return Admission(False, remaining, "day", state.day.retry_after(now))
            if limits.per_minute is not None and state.minute.count >= limits.per_minute:
                return Admission(False, remaining, "minute", state.minute.retry_after(now))
            state.minute.count += 1
            state.day.count += 1
            self._app_minute.count += 1
            state.in_flight += 1
            return Admission(True, self._remaining(state))

    def release(self, tenant: str) -> None:
        with self._lock:
            state = self._tenants.get(tenant)
            if state is not None and state.in_flight > 0:
                state.in_flight -= 1

    def in_flight(self, tenant: str) -> int:
        with self._lock:
            state = self._tenants.get(tenant)
            return state.in_flight if state else 0

    def reset(self) -> None:
        """Forget all counts (a test that wants a fresh minute without moving the clock)."""
        with self._lock:
            for state in self._tenants.values():
                state.minute = _Window(timedelta(minutes=1))
                state.day = _Window(timedelta(days=1))
            self._app_minute = _Window(timedelta(minutes=1))

    def _remaining(self, state: _TenantState) -> dict[str, int]:
        limits = self.limits
        out: dict[str, int] = {}
        if limits.per_minute is not None:
            out["minute"] = max(0, limits.per_minute - state.minute.count)
        if limits.per_day is not None:
            out["day"] = max(0, limits.per_day - state.day.count)
        if limits.app_per_minute is not None:
            out["appminute"] = max(0, limits.app_per_minute - self._app_minute.count)
        return out
