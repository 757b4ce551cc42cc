"""Idempotency keys: a repeat of a write within the retention window gets the first answer.

Keys are kept for a fixed time from the first call (Xero: 6 minutes). The same key with a
different request is the caller's bug and is refused. A repeat that arrives while the
first call is still running waits for it, so two racing retries never write twice.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from connector.sandbox.common.clock import Clock


@dataclass(frozen=True)
class StoredResponse:
    """What is replayed: status, body and the headers that belong to the answer itself."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


class Outcome(Enum):
    PROCEED = "proceed"  # first call: handle it, then complete()
    REPLAY = "replay"  # repeat: send ``response``
    CONFLICT = "conflict"  # same key, different request


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    response: StoredResponse | None = None


@dataclass
class _Entry:
    fingerprint: str
    first_seen: datetime
    done: threading.Event = field(default_factory=threading.Event)
    response: StoredResponse | None = None


class IdempotencyCache:
    """Keys scoped by caller (tenant, app, ...), each remembered for ``ttl`` from first use."""

    def __init__(
        self, clock: Clock, ttl: timedelta = timedelta(minutes=6), wait_timeout: float = 30.0
    ) -> None:
        self.clock = clock
        self.ttl = ttl
        self.wait_timeout = wait_timeout
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}

    def begin(self, scope: str, key: str, fingerprint: str) -> Decision:
        while True:
            with self._lock:
                now = self.clock.now()
                self._purge(now)
                entry = self._entries.get((scope, key))
                if entry is None:
                    self._entries[(scope, key)] = _Entry(fingerprint, now)
                    return Decision(Outcome.PROCEED)
                if entry.fingerprint != fingerprint:
                    return Decision(Outcome.CONFLICT)
                if entry.done.is_set():
                    if entry.response is None:  # the first call left nothing to replay
                        self._entries[(scope, key)] = _Entry(fingerprint, entry.first_seen)
                        return Decision(Outcome.PROCEED)
                    return Decision(Outcome.REPLAY, entry.response)
                waiting_on = entry
            if not waiting_on.done.wait(self.wait_timeout):
                return Decision(Outcome.CONFLICT)

    def complete(self, scope: str, key: str, response: StoredResponse | None) -> None:
        """Record the first call's answer; ``None`` means "not replayable, let a retry run"."""
        with self._lock:
            entry = self._entries.get((scope, key))
            if entry is None:
                return
            entry.response = response
            entry.done.set()
            if response is None:
                del self._entries[(scope, key)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _purge(self, now: datetime) -> None:
        # Entries sit in first-seen order, so expired ones are at the front: O(expired), not O(all).
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if now - entry.first_seen < self.ttl or not entry.done.is_set():
                break
            del self._entries[key]
