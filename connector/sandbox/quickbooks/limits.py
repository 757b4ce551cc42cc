"""QBO's throttles, expressed with the common rate limiter.

QBO allows 500 requests a minute and 10 concurrent requests per company (realm), and
counts ``/batch`` separately as well (40 batch requests a minute per realm; Intuit
announced 120 for production from late 2025). A batch also counts as one ordinary
request. Everything can be lifted (``None``) for benchmarks; a common ``RateLimits`` is
accepted too, so tests and benchmarks can treat both sandboxes alike.

A throttled call gets QBO's XML ``ThrottleExceeded`` page (code 3001) with HTTP 429;
``throttle_status=403`` answers it with 403 instead, as QBO has been seen to do, so a
client can prove it treats both alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from connector.sandbox.common.ratelimit import RateLimits


@dataclass(frozen=True)
class QboLimits:
    per_minute: int | None = 500
    concurrent: int | None = 10
    batch_per_minute: int | None = 40
    throttle_status: int = 429

    @classmethod
    def unlimited(cls) -> QboLimits:
        return cls(per_minute=None, concurrent=None, batch_per_minute=None)

    @classmethod
    def of(cls, limits: QboLimits | RateLimits | None) -> QboLimits:
        """QBO limits from either kind (a common RateLimits keeps QBO's batch budget unless
        it lifts the per-minute limit altogether)."""
        if limits is None:
            return cls()
        if isinstance(limits, QboLimits):
            return limits
        batch = cls.batch_per_minute if limits.per_minute is not None else None
        return cls(per_minute=limits.per_minute, concurrent=limits.concurrent, batch_per_minute=batch)

    def general(self) -> RateLimits:
        return RateLimits(per_minute=self.per_minute, per_day=None, concurrent=self.concurrent, app_per_minute=None)

    def batch(self) -> RateLimits:
        return RateLimits(per_minute=self.batch_per_minute, per_day=None, concurrent=None, app_per_minute=None)
