"""Every ledger call goes through here: the rate limiter, the call counter, and the retry policy.

One place, so both adapters behave alike: 429s wait for ``Retry-After`` (in the limiter, so
every thread of that tenant waits), 5xx, maintenance and dropped connections back off
exponentially, a refused access token is refreshed once, and a validation error is never retried.

Also shared by both adapters: the request timeouts (:attr:`RetrySettings.timeouts`, a
``(connect, read)`` pair, the one form both xero-python and requests honour) and the cap on how
many bytes of one answer are read (:func:`read_capped`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connector.ledgers.base import CallCounter
from connector.ledgers.errors import AuthenticationError, LedgerError, RateLimitError, ResponseTooLarge
from connector.ledgers.limits import RateLimiter

T = TypeVar("T")

#: The most bytes of one answer an adapter reads (bodies are decoded first, so a gzip bomb counts
#: at its real size). A page of 1,000 Xero invoices with their lines is a few MB; 300 MB once took
#: the process to 1 GB. Adapters take ``max_response_bytes`` to change it.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
#: How much of a body is read at a time.
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class RetrySettings:
    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    #: Seconds to wait for the ledger's answer: for each read of the socket (not the whole answer).
    timeout: float = 30.0
    #: Seconds to wait for the connection itself (never more than ``timeout``).
    connect_timeout: float = 10.0

    @property
    def timeouts(self) -> tuple[float, float]:
        """``(connect, read)``: xero-python ignores a float ``_request_timeout`` (it honours only an
        int or a pair), and urllib3 then waits forever; requests takes the same pair."""
        return (min(self.connect_timeout, self.timeout), self.timeout)


class ByteCount:
    """Bytes of answers read, across every call of one adapter (threads included)."""

    def __init__(self) -> None:
        self.total = 0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.total += n


def read_capped(
    chunks: Iterable[bytes], limit: int, *, ledger: str, declared: str | None = None, count: ByteCount | None = None
) -> bytes:
    """The whole body, or :class:`ResponseTooLarge` as soon as more than ``limit`` bytes arrive.

    ``declared`` is the Content-Length header, when the ledger sent one: a body announced as too
    big is refused before a byte of it is read. The caller closes the connection on an error
    (never drains it: that would read the very bytes the cap is there to refuse).
    """
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise ResponseTooLarge(
            f"{ledger} announced an answer of {int(declared)} bytes, over the {limit}-byte cap", limit=limit
        )
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if count is not None:
            count.add(len(chunk))
        if size > limit:
            raise ResponseTooLarge(f"{ledger} answered with more than {limit} bytes; stopped reading", limit=limit)
        parts.append(chunk)
    return b"".join(parts)


def raised_in(exc: BaseException, module: str, *, innermost: bool = False) -> bool:
    """Was ``exc`` raised inside ``module`` (a dotted prefix)? ``innermost``: by it, not below it.

    How an adapter tells the SDK failing to read an answer (a ledger problem) from its own bug.
    """
    frames: list[TracebackType] = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    if innermost:
        frames = frames[-1:]
    return any(str(f.tb_frame.f_globals.get("__name__", "")).startswith(module) for f in frames)


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
