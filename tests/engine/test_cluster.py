"""The cluster: 3 worker processes, the scheduler, 200 connections over the Xero and QuickBooks sandboxes.

Two scheduling rounds: the first imports every connection, then the platform collects one invoice
per connection, and the second round imports again and pushes each payment. One worker is killed
with ``kill -9`` (its whole process group, as a machine that dies) part-way through the first
round. Then, read through the sandboxes and the database:

- every connection was imported (each ledger invoice once) and pushed (every outbox entry done);
- no ledger write was doubled: one payment carrying our marker per collected invoice;
- no tenant went over its limit: the sandboxes refused no call (429) and their own per-minute
  counters never passed the limit;
- every run is recorded: none left ``running``, the killed worker's ones ``interrupted``, each
  connection with at least two succeeded runs.

The waits poll for counts, bounded by a number of looks; nothing asserts a duration.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from sqlalchemy import func, select

from connector.actions import Actor
from connector.actions.platform import record_event
from connector.sandbox.quickbooks import QuickBooksSandbox
from connector.sandbox.xero import RateLimits, XeroSandbox
from connector.store.models import Connection, Invoice, OutboxEntry, SyncRun
from connector.web.metrics import queue_depths
from tests.engine.conftest import deploy
from tests.engine.kit import CountingLimiter, wait_for

#: Connections per sandbox (CONNECTOR_CLUSTER_CONNECTIONS to try fewer while developing).
PER_SANDBOX = int(os.environ.get("CONNECTOR_CLUSTER_CONNECTIONS", "200")) // 2
INVOICES = 5
PLATFORM = Actor.platform("cluster-test")


def _succeeded(d, since_id: int = 0) -> Counter[int]:
    with d.rt.sessions() as session:
        return Counter(
            session.scalars(
                select(SyncRun.connection_id).where(
                    SyncRun.job == "sync", SyncRun.state == "succeeded", SyncRun.id > since_id
                )
            )
        )


def _collect_one_per_connection(d) -> list[int]:
    """One open invoice per connection, in its base currency: collection started and confirmed."""
    chosen = []
    with d.rt.sessions() as session:
        for connection in session.scalars(select(Connection).order_by(Connection.id)):
            base = (connection.settings or {}).get("base_currency")
            invoice_id = session.scalars(
                select(Invoice.id)
                .where(Invoice.connection_id == connection.id, Invoice.status == "scheduled", Invoice.currency == base)
                .order_by(Invoice.id)
                .limit(1)
            ).first()
            if invoice_id is not None:
                chosen.append(invoice_id)
    refs = [f"#{i}" for i in chosen]
    record_event(d.rt, "collection_started", refs, actor=PLATFORM)
    record_event(d.rt, "collection_confirmed", refs, actor=PLATFORM)
    return chosen


@pytest.mark.slow  # the one heavy test (~1 min); it runs in the default suite
def test_three_workers_two_rounds_one_killed(services, tmp_path, monkeypatch):
    with (
        XeroSandbox(seed=71, tenants=PER_SANDBOX, invoices_per_tenant=INVOICES, limits=RateLimits()) as xero,
        QuickBooksSandbox(seed=71, realms=PER_SANDBOX, invoices_per_realm=INVOICES) as qbo,
    ):
        counters = {"xero": CountingLimiter(xero.limiter), "quickbooks": CountingLimiter(qbo.limiter)}
        xero.limiter, qbo.limiter = counters["xero"], counters["quickbooks"]
        d = deploy(
            services,
            tmp_path,
            monkeypatch,
            xero=xero,
            qbo=qbo,
            xero_tenants=xero.tenant_ids,
            qbo_realms=qbo.realm_ids,
            schedule={"import_every": "20s", "push_every": "10s", "reconcile_every": "1d"},
        )
        ids = d.ids()
        total = len(ids)
        try:
            workers = [d.cluster.worker(f"w{i}", "--concurrency", "2") for i in range(3)]
            for w in workers:
                wait_for("a worker to start", lambda w=w: "ready" in d.cluster.log_text(w), workers)
            scheduler = d.cluster.scheduler("scheduler", "--tick", "1", "--lease", "5")
            alive = [*workers, scheduler]

            # round 1, with one worker killed part-way
            wait_for("a third of round 1", lambda: len(_succeeded(d)) >= total // 3, alive)
            d.cluster.kill9(workers[0])
            alive.remove(workers[0])
            wait_for("round 1 everywhere", lambda: len(_succeeded(d)) == total, alive, polls=6000)

            # the platform collects one invoice per connection; round 2 imports again and pushes them
            chosen = _collect_one_per_connection(d)
            assert len(chosen) >= total // 2
            with d.rt.sessions() as session:
                mark = session.scalar(select(func.max(SyncRun.id)))

            def round_two_done() -> bool:
                with d.rt.sessions() as session:
                    waiting = session.scalar(select(func.count()).where(OutboxEntry.state.in_(("pending", "sending"))))
                return waiting == 0 and len(_succeeded(d, mark)) == total

            wait_for("round 2 everywhere, every payment pushed", round_two_done, alive, polls=6000)
            d.cluster.stop(scheduler)
            alive.remove(scheduler)
            wait_for(
                "the queues to drain",
                lambda: all(n == 0 for n, _ in queue_depths(d.rt).values()) and not _running(d),
                alive,
            )
            for w in workers[1:]:
                d.cluster.stop(w)
        finally:
            d.cluster.stop_all()

        try:
            with d.rt.sessions() as session:
                # every connection imported: each ledger invoice once
                rows = session.execute(select(Invoice.connection_id, Invoice.external_id)).all()
                assert len(rows) == len(set(rows))
                per_connection = Counter(cid for cid, _ in rows)
                for name, (provider, tenant) in d.connections.items():
                    expected = _ledger_invoice_ids(xero, qbo, provider, tenant)
                    assert per_connection[ids[name]] == len(expected), name
                # every run recorded and finished; the dead worker's runs interrupted, not left running
                states = Counter(session.scalars(select(SyncRun.state).where(SyncRun.connection_id.is_not(None))))
                assert states["running"] == 0, states
                assert set(states) <= {"succeeded", "interrupted"}, _failures(session)
                assert all(n >= 2 for n in _succeeded(d).values()) and len(_succeeded(d)) == total
                # pushed, once
                outbox = Counter(session.scalars(select(OutboxEntry.state)))
                assert set(outbox) == {"done"}, outbox
                invoices = {i.id: i for i in session.scalars(select(Invoice).where(Invoice.id.in_(chosen)))}
                connections = {c.id: c for c in session.scalars(select(Connection))}
            for invoice_id in chosen:
                invoice = invoices[invoice_id]
                connection = connections[invoice.connection_id]
                assert _our_payments(xero, qbo, connection.provider, connection.tenant_id, invoice.external_id) == 1
            # no tenant over its limit: nothing refused, and the sandboxes' own minute counts within it
            for provider, counter in counters.items():
                assert not counter.refused, (provider, counter.refused.most_common(5))
                limit = 60 if provider == "xero" else 500
                assert max(counter.fullest_minute.values()) <= limit
                assert len(counter.admitted) == PER_SANDBOX
        finally:
            d.rt.close()


def _running(d) -> int:
    with d.rt.sessions() as session:
        return session.scalar(select(func.count()).where(SyncRun.state == "running"))


def _failures(session) -> list[tuple[str, str | None]]:
    return [(r.state, r.error) for r in session.scalars(select(SyncRun).where(SyncRun.state == "failed").limit(5))]


def _ledger_invoice_ids(xero, qbo, provider: str, tenant: str) -> set[str]:
    if provider == "xero":
        return {i.id for i in xero.ledger.tenant(tenant).invoices.values() if i.type == "ACCREC"}
    records = qbo.ledger.books(tenant).records.get("Invoice", {})
    return {rid for rid, rec in records.items() if not rec.deleted}


def _our_payments(xero, qbo, provider: str, tenant: str, invoice_id: str) -> int:
    if provider == "xero":
        return sum(
            1
            for p in xero.ledger.tenant(tenant).payments.values()
            if p.invoice_id == invoice_id and p.status == "AUTHORISED" and "cx:" in (p.reference or "")
        )
    records = qbo.ledger.books(tenant).records.get("Payment", {})
    return sum(
        1
        for rec in records.values()
        if not rec.deleted
        and "cx:" in str(rec.doc.get("PrivateNote", ""))
        and any(t.get("TxnId") == invoice_id for line in rec.doc.get("Line", []) for t in line.get("LinkedTxn", []))
    )
