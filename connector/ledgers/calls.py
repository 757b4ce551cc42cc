"""Every ledger call goes through here: the rate limiter, the call counter, and the retry policy.

One place, so both adapters behave alike: 429s wait for ``Retry-After`` (in the limiter, so
every thread of that tenant waits), 5xx, maintenance and dropped connections back off
exponentially, a refused access token is refreshed once, and a validation error is never retried.

Also shared by both adapters: the request timeouts (:attr:`RetrySettings.timeouts`, a
``(connect, read)`` pair, the one form both xero-python and requests honour) and the cap on how
many bytes of one answer are read (:func:`read_capped`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar

import orjson
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


#: Every decimal number of at most this many significant digits survives a trip through a binary
#: float and back through its shortest repr unchanged (DBL_DIG): 46.00 is 46.0, 1234567.8912 stays.
FLOAT_EXACT_DIGITS = 15


class InexactNumber(ValueError):
    """A JSON number read as a float that may not be the number the ledger wrote (16+ digits)."""


def decode_json(data: bytes | str) -> Any:
    """A ledger's JSON body, decoded by orjson (about 3× the standard library's speed on a page).

    Numbers with a fraction come back as floats, not Decimals: turning every one into a Decimal
    while decoding cost more than orjson saves. Read amounts with :func:`as_decimal`, which is
    exact through the float's shortest repr. A body orjson refuses (``NaN``, an integer beyond 64
    bits) is decoded by the standard library with ``parse_float=Decimal``, as before, so a bad body
    fails (or a bad value is quarantined) exactly as it did.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data, parse_float=Decimal)


def decode_json_exact(data: bytes | str) -> Any:
    """The standard library's decoding, every fraction a Decimal of the digits written: for a page
    on which :func:`as_decimal` raised :class:`InexactNumber`."""
    return json.loads(data, parse_float=Decimal)


def as_decimal(value: float | Decimal | int | str) -> Decimal:
    """An amount as the ledger wrote it.

    A float from :func:`decode_json` goes through its shortest repr: for a number written with at
    most :data:`FLOAT_EXACT_DIGITS` significant digits that is exactly the number written
    (``46.00`` → ``Decimal("46.0")``, equal to ``Decimal("46.00")``). A float whose shortest repr
    needs more digits may differ from what was written: :class:`InexactNumber`, and the caller
    decodes the body again with :func:`decode_json_exact`. (Ledger amounts have 2 or 4 decimals
    and the ceiling is 10**12, so that is a body with an amount the validator refuses anyway.) The
    one case no float can tell: a number written with 16 or more digits within half a float step of
    a shorter one (``0.10000000000000000001``) reads as the shorter one. No ledger writes those.
    """
    if type(value) is float:
        text = repr(value)
        mantissa = text.split("e")[0].split("E")[0]
        if len(mantissa.replace("-", "").replace(".", "").lstrip("0")) > FLOAT_EXACT_DIGITS:
            raise InexactNumber(f"{text} may not be the number the ledger wrote")
        return Decimal(text)
    return value if isinstance(value, Decimal) else Decimal(str(value))


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
