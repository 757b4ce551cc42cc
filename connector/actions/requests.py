"""Idempotent requests: a retried call answers with the first result and changes nothing.

As stripe-python's ``Idempotency-Key``: the caller names a request; the first time, it runs and
its answer is kept; every later time with the same key and body, the kept answer is returned.
The same key with another body is the caller's mistake and is refused. While the first is still
running a retry is told to wait; after :data:`LEASE` a request whose process died is run again
(every platform event is itself idempotent in the status table, so that repeats nothing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from connector.actions.errors import InvalidInput, RefusedAction
from connector.runtime import Runtime
from connector.store.models import ApiRequest
from connector.store.types import utcnow

LEASE = timedelta(seconds=60)
#: How long keys are kept: a retry after this runs again (the events themselves are still idempotent).
KEEP = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Answer:
    """What a request answered: its HTTP status and JSON body; ``replayed`` when it was kept from before."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


class StillRunning(RefusedAction):
    """The first request with this key has not finished yet: retry a little later."""

    code = "in_progress"


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def once(rt: Runtime, account: str, key: str, digest: str, run: Callable[[], Answer]) -> Answer:
    """Run ``run`` at most once for ``(account, key)``; later calls get its first answer."""
    key = key.strip()
    if not key or len(key) > 255:
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters", field="Idempotency-Key")
    claimed = _claim(rt, account, key, digest)
    if isinstance(claimed, Answer):
        return claimed
    try:
        answer = run()
    except BaseException:
        _release(rt, claimed)
        raise
    with rt.transaction() as session:
        session.execute(
            update(ApiRequest)
            .where(ApiRequest.id == claimed)
            .values(state="done", status_code=answer.status, response=answer.body, lease_until=None)
        )
    return answer


def _claim(rt: Runtime, account: str, key: str, digest: str) -> int | Answer:
    now = utcnow()
    try:
        with rt.transaction() as session:
            row = ApiRequest(
                account=account, key=key, request_hash=digest, state="in_progress", lease_until=now + LEASE
            )
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        pass
    with rt.transaction() as session:
        row = session.scalars(select(ApiRequest).where(ApiRequest.account == account, ApiRequest.key == key)).one()
        if row.request_hash != digest:
            raise InvalidInput(
                "this Idempotency-Key was already used with another request body: use a new key for a new request",
                field="Idempotency-Key",
            )
        if row.state == "done" and row.created_at > now - KEEP:
            return Answer(row.status_code or 200, dict(row.response or {}), replayed=True)
        if row.state == "in_progress" and row.lease_until and row.lease_until > now:
            raise StillRunning("a request with this Idempotency-Key is still being processed: retry shortly")
        # A dead process's request, or one kept past KEEP: take it up again, under a fresh lease.
        taken = session.execute(
            update(ApiRequest)
            .where(ApiRequest.id == row.id, ApiRequest.updated_at == row.updated_at)
            .values(state="in_progress", lease_until=now + LEASE, created_at=now)
        )
        if taken.rowcount != 1:
            raise StillRunning("a request with this Idempotency-Key is still being processed: retry shortly")
        return row.id


def _release(rt: Runtime, request_id: int) -> None:
    """The run raised: forget the claim, so a retry runs it (nothing of it was committed)."""
    with rt.transaction() as session:
        session.execute(update(ApiRequest).where(ApiRequest.id == request_id).values(lease_until=utcnow()))
