"""Every ledger call goes through here: the rate limiter, the call counter, and the retry policy.

One place, so both adapters behave alike: 429s wait for ``Retry-After`` (in the limiter, so
every thread of that tenant waits), 5xx, maintenance and dropped connections back off
exponentially, a refused access token is refreshed once, and a validation error is never retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connector.ledgers.base import CallCounter
from connector.ledgers.errors import AuthenticationError, LedgerError, RateLimitError
from connector.ledgers.limits import RateLimiter

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetrySettings:
    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 30.0


class _RetryNow(Exception):
    """Retry at once (after the access token was refreshed)."""


class CallRunner:
    """Runs one ledger call with limits, counting and retries; SDK errors become :mod:`errors` classes."""

    def __init__(
        self,
        limiter: RateLimiter,
        counter: CallCounter,
        retry: RetrySettings,
        translate: Callable[[Exception], LedgerError | None],
        refresh_token: Callable[[], None],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limiter = limiter
        self.counter = counter
        self.retry = retry
        self._translate = translate
        self._refresh_token = refresh_token
        self._sleep = sleep

    def __call__(self, kind: str, fn: Callable[[], T]) -> T:
        refreshed = False

        def attempt() -> T:
            nonlocal refreshed
            try:
                with self.limiter.slot():
                    self.counter.add(kind)
                    return fn()
            except LedgerError as exc:
                error: LedgerError | None = exc
            except Exception as exc:
                error = self._translate(exc)
                if error is None:
                    raise
            if isinstance(error, AuthenticationError) and not refreshed:
                refreshed = True
                self._refresh_token()
                raise _RetryNow() from None
            raise error

        for state in Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, _RetryNow) or getattr(e, "retryable", False)),
            stop=stop_after_attempt(self.retry.attempts),
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        ):
            with state:
                result = attempt()
        return result

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _RetryNow):
            return 0.0
        if isinstance(exc, RateLimitError):
            self.limiter.back_off(exc.retry_after)
            return 0.0  # the limiter itself waits for the window, for every caller of this tenant
        return min(self.retry.max_delay, self.retry.base_delay * (2 ** (state.attempt_number - 1)))
