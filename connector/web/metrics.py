"""``GET /metrics``: the connector's state in Prometheus' text format, read from the database per scrape.

Each scrape builds a fresh ``CollectorRegistry`` from a handful of GROUP BY queries (their number
does not grow with the connections or invoices), so every web process answers the same figures
and nothing is kept between scrapes. Per connection (label ``connection``: the name given in the
config, never the organisation's or a customer's name):

- ``connector_last_sync_success`` (1 succeeded, 0 otherwise) and ``connector_last_sync_age_seconds``;
  ``connector_last_sync_state`` (one series per state, 1 for the last run's);
- ``connector_api_calls_24h`` and ``connector_api_calls_daily_limit`` (absent where the ledger has
  no daily cap);
- ``connector_outbox_depth`` (ledger writes waiting or being sent) and
  ``connector_outbox_oldest_age_seconds``; ``connector_outbox_rejected``;
- ``connector_sync_failures_24h`` (failed runs in the last 24 hours);
- ``connector_connection_up`` (0 while it needs reconnecting, is paused or disabled).

Per queue, when ``[engine] kind = "celery"``: ``connector_queue_depth`` and
``connector_queue_consumers``, asked of RabbitMQ (a passive declare: nothing is created).

**Who may read it.** Prometheus cannot log in, so the page is not behind the session login.
Instead: if ``CONNECTOR_METRICS_TOKEN`` is set, a request must carry ``Authorization: Bearer
<token>``; if it is not set, only a direct request from loopback is answered (one with an
``X-Forwarded-For`` header came through a proxy and is refused), so an installation that puts
``connector web`` behind a public proxy does not publish it by accident. Either way it holds
counts and ages only: no tokens, no invoice data, no organisation or customer names.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.engine.budget import budgets
from connector.runtime import Runtime
from connector.store.models import Connection, OutboxEntry, SyncRun
from connector.store.types import utcnow
from connector.web.context import csrf, runtime

bp = Blueprint("metrics", __name__)

TOKEN_ENV = "CONNECTOR_METRICS_TOKEN"
RUN_STATES = ("succeeded", "failed", "interrupted", "running", "skipped")


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _age(now: datetime, then: datetime | None) -> float | None:
    if then is None:
        return None
    return max(0.0, (now - _aware(then)).total_seconds())


def _allowed() -> bool:
    token = os.environ.get(TOKEN_ENV, "")
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    try:
        return ipaddress.ip_address((request.remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def build_registry(rt: Runtime, now: datetime | None = None) -> CollectorRegistry:
    """Every metric, read now from the database (and the broker, for the celery engine)."""
    now = now or utcnow()
    registry = CollectorRegistry()
    with rt.sessions() as session:
        _connection_metrics(session, registry, now)
    if rt.config.engine.kind == "celery":
        _queue_metrics(rt, registry)
    return registry


def _connection_metrics(session: Session, registry: CollectorRegistry, now: datetime) -> None:
    names: dict[int, str] = {}
    up = Gauge(
        "connector_connection_up",
        "1 when the connection is synced (active, enabled, not paused)",
        ["connection", "provider"],
        registry=registry,
    )
    for cid, name, provider, state, paused, settings in session.execute(
        select(
            Connection.id,
            Connection.name,
            Connection.provider,
            Connection.state,
            Connection.paused_until,
            Connection.settings,
        )
    ):
        names[cid] = name
        paused_now = paused is not None and _aware(paused) > now
        ok = state == "active" and (settings or {}).get("enabled", True) and not paused_now
        up.labels(name, provider).set(1 if ok else 0)

    success = Gauge(
        "connector_last_sync_success", "1 if the connection's last sync succeeded", ["connection"], registry=registry
    )
    age = Gauge(
        "connector_last_sync_age_seconds",
        "seconds since the connection's last sync started",
        ["connection"],
        registry=registry,
    )
    state_g = Gauge(
        "connector_last_sync_state",
        "1 for the state of the connection's last sync",
        ["connection", "state"],
        registry=registry,
    )
    last_ids = (
        select(func.max(SyncRun.id))
        .where(SyncRun.job == "sync", SyncRun.connection_id.is_not(None))
        .group_by(SyncRun.connection_id)
    )
    for cid, state, started in session.execute(
        select(SyncRun.connection_id, SyncRun.state, SyncRun.started_at).where(SyncRun.id.in_(last_ids))
    ):
        name = names.get(cid)
        if name is None:
            continue
        success.labels(name).set(1 if state == "succeeded" else 0)
        seconds = _age(now, started)
        if seconds is not None:
            age.labels(name).set(seconds)
        for s in RUN_STATES:
            state_g.labels(name, s).set(1 if s == state else 0)

    calls = Gauge("connector_api_calls_24h", "ledger API calls in the last 24 hours", ["connection"], registry=registry)
    limit = Gauge(
        "connector_api_calls_daily_limit",
        "the ledger's daily allowance of calls (where it has one)",
        ["connection"],
        registry=registry,
    )
    for budget in budgets(session, now):
        calls.labels(budget.connection).set(budget.used)
        if budget.limit:
            limit.labels(budget.connection).set(budget.limit)

    depth = Gauge("connector_outbox_depth", "ledger writes waiting or being sent", ["connection"], registry=registry)
    oldest = Gauge(
        "connector_outbox_oldest_age_seconds",
        "age of the oldest ledger write still waiting",
        ["connection"],
        registry=registry,
    )
    rejected = Gauge(
        "connector_outbox_rejected",
        "ledger writes the ledger refused (support must act)",
        ["connection"],
        registry=registry,
    )
    for name in names.values():
        depth.labels(name).set(0)
        rejected.labels(name).set(0)
    for cid, n, first in session.execute(
        select(OutboxEntry.connection_id, func.count(), func.min(OutboxEntry.created_at))
        .where(OutboxEntry.state.in_(("pending", "sending")))
        .group_by(OutboxEntry.connection_id)
    ):
        if cid in names:
            depth.labels(names[cid]).set(n)
            seconds = _age(now, first)
            if seconds is not None:
                oldest.labels(names[cid]).set(seconds)
    for cid, n in session.execute(
        select(OutboxEntry.connection_id, func.count())
        .where(OutboxEntry.state == "rejected")
        .group_by(OutboxEntry.connection_id)
    ):
        if cid in names:
            rejected.labels(names[cid]).set(n)

    failures = Gauge(
        "connector_sync_failures_24h",
        "failed sync, push and reconcile runs in the last 24 hours",
        ["connection"],
        registry=registry,
    )
    for name in names.values():
        failures.labels(name).set(0)
    for cid, n in session.execute(
        select(SyncRun.connection_id, func.count())
        .where(SyncRun.state == "failed", SyncRun.started_at >= now - timedelta(hours=24))
        .group_by(SyncRun.connection_id)
    ):
        if cid in names:
            failures.labels(names[cid]).set(n)


def queue_depths(rt: Runtime) -> dict[str, tuple[int, int]]:
    """Messages waiting and consumers, per queue, from RabbitMQ; empty when the broker does not answer."""
    from connector.engine.celery_app import QUEUES, make_app, queue_name

    found: dict[str, tuple[int, int]] = {}
    app = make_app(rt.config)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
            for q in QUEUES:
                channel: Any = conn.channel()
                try:
                    _name, messages, consumers = channel.queue_declare(queue=queue_name(q), passive=True)
                    found[q] = (int(messages), int(consumers))
                except Exception:  # not declared yet (no worker ever started): nothing waits in it
                    found[q] = (0, 0)
                finally:
                    with contextlib.suppress(Exception):
                        channel.close()
    except Exception:
        return {}
    return found


def _queue_metrics(rt: Runtime, registry: CollectorRegistry) -> None:
    depth = Gauge("connector_queue_depth", "messages waiting in the queue", ["queue"], registry=registry)
    consumers = Gauge("connector_queue_consumers", "worker processes consuming the queue", ["queue"], registry=registry)
    reachable = Gauge("connector_broker_up", "1 when the broker answered this scrape", registry=registry)
    found = queue_depths(rt)
    reachable.set(1 if found else 0)
    for q, (messages, n) in found.items():
        depth.labels(q).set(messages)
        consumers.labels(q).set(n)


@bp.route("/metrics")
@csrf.exempt
def metrics() -> Response:
    if not _allowed():
        abort(404)
    registry = build_registry(runtime())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


metrics.public_reason = (  # type: ignore[attr-defined]
    "Prometheus cannot log in: a bearer token (CONNECTOR_METRICS_TOKEN) or loopback only; counts and ages "
    "only, no tokens, invoice data or customer names"
)
