"""The ledger factory each engine hands to the sync and reconcile actions (``make_ledger=``).

Both build the adapter with :func:`connector.sync.connect.ledger_for`; they differ only in the
rate limiter they pass (``limiter=``):

- :func:`shared_factory`: a :class:`~connector.ledgers.shared_limits.SharedLimiter` per tenant,
  counted in Redis, so the sum of every worker on every machine stays inside each tenant's and
  each app's limits. Used by the Celery tasks, and by the embedded daemon when ``[engine]
  redis_url`` is set (two daemons on one set of tenants).
- :func:`local_factory`: one in-process limiter per tenant, shared by the daemon's threads (its
  bounded pool syncs several connections at once; two connections of one tenant share a limiter).
"""

from __future__ import annotations

import os
import threading
from typing import Any

from connector.ledgers.base import Ledger
from connector.ledgers.limits import QUICKBOOKS_LIMITS, XERO_LIMITS, RateLimiter
from connector.ledgers.shared_limits import DEFAULT_PREFIX, SharedLimiter
from connector.runtime import Runtime
from connector.store.models import Connection
from connector.sync.connect import ledger_for
from connector.sync.runner import LedgerFactory

#: Environment variable naming the Redis key prefix (two installations sharing one Redis differ here).
PREFIX_ENV = "CONNECTOR_REDIS_PREFIX"


def redis_prefix() -> str:
    """The prefix of every key this installation keeps in Redis."""
    return os.environ.get(PREFIX_ENV, "").strip() or DEFAULT_PREFIX


def app_id(rt: Runtime, provider: str) -> str:
    """The OAuth app a tenant's calls count against (Xero's app-wide limit is per client id)."""
    ledgers = rt.config.ledgers
    app = ledgers.xero if provider == "xero" else ledgers.quickbooks
    return app.client_id or "-"


def shared_limiter(rt: Runtime, provider: str, tenant: str, **options: Any) -> SharedLimiter:
    """The Redis-backed limiter of one tenant (``options`` for tests: ``limits``, ``window``)."""
    return SharedLimiter(
        rt.config.engine.redis_url, provider, app_id(rt, provider), tenant, prefix=redis_prefix(), **options
    )


def shared_factory(**adapter_options: Any) -> LedgerFactory:
    """Adapters whose every call waits for room in the Redis-kept limits of its tenant and app."""

    def make(rt: Runtime, connection: Connection) -> Ledger:
        limiter = shared_limiter(rt, connection.provider, connection.tenant_id or f"#{connection.id}")
        return ledger_for(rt, connection, limiter=limiter, **adapter_options)

    return make


_local: dict[tuple[str, str], RateLimiter] = {}
_local_lock = threading.Lock()


def local_limiter(provider: str, tenant: str) -> RateLimiter:
    """One limiter per tenant in this process, whatever the number of threads syncing its connections."""
    with _local_lock:
        found = _local.get((provider, tenant))
        if found is None:
            found = _local[(provider, tenant)] = RateLimiter(XERO_LIMITS if provider == "xero" else QUICKBOOKS_LIMITS)
        return found


def local_factory(**adapter_options: Any) -> LedgerFactory:
    """Adapters sharing this process's limiter per tenant (the embedded daemon's threads)."""

    def make(rt: Runtime, connection: Connection) -> Ledger:
        limiter = local_limiter(connection.provider, connection.tenant_id or f"#{connection.id}")
        return ledger_for(rt, connection, limiter=limiter, **adapter_options)

    return make


def factory_for(rt: Runtime, **adapter_options: Any) -> LedgerFactory:
    """Shared limits when the config names a Redis, per-process ones otherwise."""
    if rt.config.engine.redis_url:
        return shared_factory(**adapter_options)
    return local_factory(**adapter_options)
