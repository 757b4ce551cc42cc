"""Fault injection: make a sandbox misbehave the ways real ledgers do, on purpose.

Spec grammar (``--faults`` on the command line, ``FaultInjector.add`` in Python, or the
admin endpoint)::

    SPEC  := ITEM ("," ITEM)*            whitespace is ignored; "" means no faults
    ITEM  := NAME ["=" VALUE]

    latency=MS | latency=MIN-MAX   extra delay on every API call (uniform in the range)
    5xx, 503, 429, drop, lost, malformed, huge, expire_tokens
          =P      each API call is hit with probability P (0 < P <= 1)
          =Nx     the next N API calls are hit
          (bare)  the next API call is hit (same as =1x)
    429burst=N    the next N API calls answer 429 (same as 429=Nx)
    retry_after=S Retry-After seconds sent with injected 429s (default 1)
    huge_bytes=N  how big a ``huge`` answer is (default 300000000, 300 MB)
    seed=N        seed for the random choices (default: the sandbox seed)

What each fault does (the sandbox decides how to render it):

    5xx            500 with the ledger's error body; nothing is written
    503            503 "offline for maintenance"; nothing is written
    429            429 with a rate-limit problem header and Retry-After; nothing is written
    drop           the connection is closed before the request is processed
    lost           the request IS processed, then the connection is closed (a lost response)
    malformed      200 whose JSON body is cut short
    huge           200 whose JSON body is padded with whitespace to ``huge_bytes`` (still valid
                   JSON), streamed without a Content-Length; ``streamed_bytes`` counts what left
    expire_tokens  the presented access token is treated as expired from now on

Example: ``"5xx=0.1,latency=200,429burst=3,drop=0.05,malformed=0.02,expire_tokens"``.
Probabilistic faults are deterministic for a given seed and request order.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

#: How big a ``huge`` answer is unless ``huge_bytes`` says otherwise (the 300 MB page seen in production).
DEFAULT_HUGE_BYTES = 300_000_000


class FaultSpecError(ValueError):
    """The fault spec string cannot be understood; the message says which item and why."""


class FaultKind(StrEnum):
    SERVER_ERROR = "5xx"
    MAINTENANCE = "503"
    RATE_LIMIT = "429"
    DROP = "drop"
    LOST = "lost"
    MALFORMED = "malformed"
    HUGE = "huge"
    EXPIRE_TOKEN = "expire_tokens"


_ALIASES = {
    "500": FaultKind.SERVER_ERROR,
    "maintenance": FaultKind.MAINTENANCE,
    "expire": FaultKind.EXPIRE_TOKEN,
    "expire_token": FaultKind.EXPIRE_TOKEN,
}


@dataclass(frozen=True)
class FaultRule:
    """One fault: hit with ``probability``, or the next ``count`` calls."""

    kind: FaultKind
    probability: float = 0.0
    count: int = 0

    def render(self) -> str:
        if self.count:
            return f"{self.kind.value}={self.count}x"
        return f"{self.kind.value}={self.probability:g}"


@dataclass(frozen=True)
class FaultSpec:
    """A parsed fault spec; ``str(spec)`` gives back a canonical spec string."""

    rules: tuple[FaultRule, ...] = ()
    latency_ms: tuple[int, int] | None = None
    retry_after: int | None = None
    seed: int | None = None
    huge_bytes: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        rules: list[FaultRule] = []
        latency: tuple[int, int] | None = None
        retry_after: int | None = None
        seed: int | None = None
        huge_bytes: int | None = None
        for raw in (text or "").split(","):
            item = raw.strip()
            if not item:
                continue
            name, _, value = item.partition("=")
            name, value = name.strip().lower(), value.strip()
            has_value = "=" in item
            try:
                if name == "latency":
                    latency = _parse_latency(value)
                elif name == "retry_after":
                    retry_after = _parse_int(value, minimum=0)
                elif name == "seed":
                    seed = _parse_int(value, minimum=0)
                elif name == "huge_bytes":
                    huge_bytes = _parse_int(value, minimum=1)
                elif name == "429burst":
                    rules.append(FaultRule(FaultKind.RATE_LIMIT, count=_parse_int(value, minimum=1)))
                else:
                    kind = _kind(name)
                    rules.append(_parse_rule(kind, value if has_value else ""))
            except FaultSpecError as exc:
                raise FaultSpecError(f"fault {item!r}: {exc}") from None
        return cls(tuple(rules), latency, retry_after, seed, huge_bytes)

    def __str__(self) -> str:
        parts = [rule.render() for rule in self.rules]
        if self.latency_ms:
            low, high = self.latency_ms
            parts.append(f"latency={low}" if low == high else f"latency={low}-{high}")
        if self.retry_after is not None:
            parts.append(f"retry_after={self.retry_after}")
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        if self.huge_bytes is not None:
            parts.append(f"huge_bytes={self.huge_bytes}")
        return ",".join(parts)


def _kind(name: str) -> FaultKind:
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        return FaultKind(name)
    except ValueError:
        known = ", ".join([k.value for k in FaultKind] + ["latency", "429burst", "retry_after", "huge_bytes", "seed"])
        raise FaultSpecError(f"unknown fault {name!r} (known: {known})") from None


def _parse_rule(kind: FaultKind, value: str) -> FaultRule:
    if not value:
        return FaultRule(kind, count=1)
    if value.lower().endswith("x"):
        return FaultRule(kind, count=_parse_int(value[:-1], minimum=1))
    try:
        probability = float(value)
    except ValueError:
        raise FaultSpecError(f"expected a probability like 0.1 or a count like 3x, got {value!r}") from None
    if not 0.0 < probability <= 1.0:
        raise FaultSpecError("probability must be in (0, 1]")
    return FaultRule(kind, probability=probability)


def _parse_int(value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise FaultSpecError(f"expected a whole number, got {value!r}") from None
    if number < minimum:
        raise FaultSpecError(f"must be at least {minimum}")
    return number


def _parse_latency(value: str) -> tuple[int, int]:
    low_text, sep, high_text = value.partition("-")
    low = _parse_int(low_text, minimum=0)
    high = _parse_int(high_text, minimum=low) if sep else low
    return low, high


@dataclass
class FaultInjector:
    """The live fault table of one sandbox: thread-safe, changeable at runtime.

    ``hit(kind)`` is asked once per API call per kind, in a fixed order, so a seeded
    injector gives the same faults for the same sequence of calls.
    """

    seed: int = 0
    base_latency_ms: int = 0
    _rules: list[FaultRule] = field(default_factory=list)
    _counts: dict[FaultKind, int] = field(default_factory=dict)
    _latency: tuple[int, int] | None = None
    retry_after: int = 1
    hits: Counter[str] = field(default_factory=Counter)
    #: Size of a ``huge`` answer, and the bytes of huge answers actually sent (the client may stop early).
    huge_bytes: int = DEFAULT_HUGE_BYTES
    streamed_bytes: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)

    def add(self, spec: FaultSpec | str | None) -> FaultSpec:
        """Add faults on top of the current ones (counts add up, probabilities replace)."""
        parsed = spec if isinstance(spec, FaultSpec) else FaultSpec.parse(spec)
        with self._lock:
            if parsed.seed is not None:
                self._rng = random.Random(parsed.seed)
            if parsed.latency_ms is not None:
                self._latency = parsed.latency_ms
            if parsed.retry_after is not None:
                self.retry_after = parsed.retry_after
            if parsed.huge_bytes is not None:
                self.huge_bytes = parsed.huge_bytes
            for rule in parsed.rules:
                if rule.count:
                    self._counts[rule.kind] = self._counts.get(rule.kind, 0) + rule.count
                else:
                    self._rules = [r for r in self._rules if r.kind != rule.kind] + [rule]
        return parsed

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._counts.clear()
            self._latency = None
            self.retry_after = 1
            self.huge_bytes = DEFAULT_HUGE_BYTES

    def hit(self, kind: FaultKind) -> bool:
        """Should this API call suffer ``kind``? Consumes a pending count first."""
        with self._lock:
            pending = self._counts.get(kind, 0)
            if pending:
                self._counts[kind] = pending - 1
                self.hits[kind.value] += 1
                return True
            for rule in self._rules:
                if rule.kind == kind and self._rng.random() < rule.probability:
                    self.hits[kind.value] += 1
                    return True
        return False

    def latency_seconds(self) -> float:
        """Delay to add to this API call: the base latency plus any latency fault."""
        with self._lock:
            extra = 0
            if self._latency is not None:
                low, high = self._latency
                extra = low if low == high else self._rng.randint(low, high)
        return (self.base_latency_ms + extra) / 1000.0

    @property
    def active(self) -> bool:
        with self._lock:
            return bool(self._rules or any(self._counts.values()) or self._latency)

    def describe(self) -> str:
        """The current table as a spec string (counts show what is still pending)."""
        with self._lock:
            rules = list(self._rules) + [FaultRule(k, count=n) for k, n in self._counts.items() if n]
            spec = FaultSpec(
                tuple(rules),
                self._latency,
                self.retry_after if self.retry_after != 1 else None,
                huge_bytes=self.huge_bytes if self.huge_bytes != DEFAULT_HUGE_BYTES else None,
            )
        return str(spec)

    def count_streamed(self, n: int) -> None:
        with self._lock:
            self.streamed_bytes += n


def padded_json(body: bytes, size: int, count: Callable[[int], None], chunk: int = 64 * 1024) -> Iterator[bytes]:
    """``body`` and then whitespace up to ``size`` bytes in all (JSON allows trailing whitespace),
    made as it is sent: the sandbox never holds the padding, and ``count`` hears every chunk that
    left. A client that stops reading stops the stream (its write fails once the socket closes)."""
    yield body
    count(len(body))
    left = max(0, size - len(body))
    blank = b" " * chunk
    while left > 0:
        part = blank if left >= chunk else blank[:left]
        yield part
        count(len(part))
        left -= len(part)


def corrupt_json(body: bytes) -> bytes:
    """Cut a JSON body short so that no parser accepts it (a truncated transfer)."""
    if len(body) < 2:
        return b"{"
    return body[: max(1, len(body) // 2)]
