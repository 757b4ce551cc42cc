"""What the cluster keeps in Redis besides the rate limits: the scheduler's lease, its timetable,
the "already queued" markers, and a single-flight lock for cluster-wide jobs.

None of it is the truth about the books: lose Redis and the database still says what was synced,
pushed and reconciled. Lose it and the scheduler starts a fresh timetable (everything due at
once), the markers are gone (a job may be queued twice: each task is idempotent) and the leader
lease is taken by whichever scheduler asks first.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass, field

import redis

from connector.engine.ledgers import redis_prefix

# Renew only a lease we hold: compare the holder, then extend.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    redis.call('pexpire', KEYS[1], ARGV[2])
    return 1
end
return 0
"""
# Give back only a lease we hold.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def client(url: str) -> redis.Redis:
    """One pool per Redis URL per process."""
    with _clients_lock:
        found = _clients.get(url)
        if found is None:
            found = _clients[url] = redis.Redis.from_url(
                url, socket_timeout=10, socket_connect_timeout=5, decode_responses=True
            )
        return found


def key(*parts: object) -> str:
    return ":".join([redis_prefix(), *(str(p) for p in parts)])


@dataclass
class Lease:
    """A named lease in Redis with expiry, held by one process at a time (the scheduler's leadership).

    ``SET NX PX`` takes it; the holder renews it well before it ends; a holder that dies (even by
    ``kill -9``) stops renewing, and the lease is free ``seconds`` later at most.
    """

    url: str
    name: str
    seconds: float = 30.0
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")

    @property
    def redis_key(self) -> str:
        return key("lease", self.name)

    def hold(self) -> bool:
        """Take the lease if free, or renew it if ours; false while someone else holds it."""
        r = client(self.url)
        ms = int(self.seconds * 1000)
        if r.set(self.redis_key, self.holder, nx=True, px=ms):
            return True
        return bool(r.eval(_RENEW, 1, self.redis_key, self.holder, ms))

    def current(self) -> str | None:
        """Who holds it now (``host:pid:id``), or None."""
        return client(self.url).get(self.redis_key)

    def release(self) -> None:
        client(self.url).eval(_RELEASE, 1, self.redis_key, self.holder)


def mark_queued(url: str, job: str, connection: str, ttl_seconds: float) -> bool:
    """Note that ``job`` for ``connection`` waits in a queue; false if it already does (don't queue it again).

    The task clears the mark when it ends (:func:`clear_queued`). A task whose worker died keeps its
    mark until the message is redelivered and run; a message lost for good keeps it ``ttl`` at most.
    """
    return bool(client(url).set(key("queued", job, connection), "1", nx=True, px=int(ttl_seconds * 1000)))


def clear_queued(url: str, job: str, connection: str) -> None:
    client(url).delete(key("queued", job, connection))


def is_queued(url: str, job: str, connection: str) -> bool:
    return bool(client(url).exists(key("queued", job, connection)))


def due_times(url: str, job: str) -> dict[str, float]:
    """The scheduler's timetable for ``job``: connection name → when it is next due (Unix time)."""
    return {k: float(v) for k, v in client(url).hgetall(key("due", job)).items()}


def set_due(url: str, job: str, when: dict[str, float]) -> None:
    if when:
        client(url).hset(key("due", job), mapping={k: repr(v) for k, v in when.items()})


def forget_due(url: str, job: str, names: list[str]) -> None:
    if names:
        client(url).hdel(key("due", job), *names)


class SingleFlight:
    """A lock for a cluster-wide job (the notices): one runner at a time, freed on exit or after ``seconds``."""

    def __init__(self, url: str, name: str, seconds: float) -> None:
        self.lease = Lease(url, f"job:{name}", seconds)

    def __enter__(self) -> bool:
        return self.lease.hold()

    def __exit__(self, *exc: object) -> None:
        self.lease.release()
