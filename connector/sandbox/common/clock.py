"""Time as the sandbox sees it.

Everything time-dependent in a sandbox (token expiry, rate-limit windows, the idempotency
window, UpdatedDateUTC stamps) reads one injectable clock, so tests can jump 31 minutes
instead of sleeping for them.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock (what the CLI and the demo use)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to; thread-safe because the server is threaded.

    ``tick`` lets each reading advance a little, for tests that want distinct timestamps
    without managing time by hand.
    """

    DEFAULT_START = datetime(2024, 6, 3, 9, 0, 0, tzinfo=UTC)

    def __init__(self, start: datetime | None = None, tick: timedelta = timedelta(0)) -> None:
        start = start or self.DEFAULT_START
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._tick = tick
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            current = self._now
            self._now = current + self._tick
            return current

    def advance(self, delta: timedelta | float = 0.0, **units: float) -> datetime:
        """Move forward by a timedelta, a number of seconds, or keyword units (minutes=31)."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        step += timedelta(**units)
        if step < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += step
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to an absolute instant (forward only, so UpdatedDateUTC never runs backwards)."""
        when = when.astimezone(UTC)
        with self._lock:
            if when < self._now:
                raise ValueError("time only moves forward")
            self._now = when
