"""Two real worker processes racing on one connection: one sync at a time, every write once.

Six import tasks for one connection go to two workers at once. The connection's lease (a row lock
with heartbeat and expiry, :mod:`connector.sync.runs`) lets one run hold it; the other task finds
it busy and skips. Whatever interleaving happened, the runs that worked never overlapped, every
invoice was imported once and every payment was written to the ledger once.
"""

from __future__ import annotations

import itertools
from collections import Counter

from sqlalchemy import func, select

from connector.actions import Actor
from connector.actions.platform import record_event
from connector.actions.sync import run_sync
from connector.engine.celery_app import make_app, queue_name
from connector.engine.ledgers import shared_factory
from connector.sandbox.xero import RateLimits, XeroSandbox
from connector.store.models import Invoice, OutboxEntry, SyncRun
from tests.engine.conftest import deploy
from tests.engine.kit import wait_for

PLATFORM = Actor.platform("engine-test")


def test_two_workers_racing_on_one_connection(services, tmp_path, monkeypatch):
    with XeroSandbox(seed=41, tenants=1, invoices_per_tenant=30, limits=RateLimits(), latency_ms=40) as xero:
        d = deploy(services, tmp_path, monkeypatch, xero=xero, xero_tenants=[xero.tenant_ids[0]])
        name = next(iter(d.connections))
        try:
            # a first import here, so the race also has ledger writes to push
            first = run_sync(d.rt, connection=name, make_ledger=shared_factory())[0]
            assert first.state == "succeeded", first.error
            with d.rt.sessions() as session:
                base = session.scalars(select(Invoice.currency).limit(1)).one()
                refs = [
                    f"#{i}"
                    for i in session.scalars(
                        select(Invoice.id)
                        .where(Invoice.status == "scheduled", Invoice.currency == base)
                        .order_by(Invoice.id)
                        .limit(6)
                    )
                ]
            assert len(refs) == 6
            record_event(d.rt, "collection_started", refs, actor=PLATFORM)
            record_event(d.rt, "collection_confirmed", refs, actor=PLATFORM)

            workers = [d.cluster.worker(f"w{i}", "--concurrency", "1") for i in range(2)]
            for w in workers:
                wait_for("the worker to start", lambda w=w: "ready" in d.cluster.log_text(w), [w])
            app = make_app(d.rt.config)
            for _ in range(6):
                app.send_task(
                    "connector.import", kwargs={"connection": name}, queue=queue_name("sync"), routing_key="sync"
                )

            def done() -> list[dict]:
                lines = [
                    line
                    for w in workers
                    for line in d.cluster.log_lines(w)
                    if line.get("job") == "import" and line.get("logger") == "connector.engine"
                ]
                return lines if len(lines) >= 6 else []

            lines = wait_for("six import tasks to finish", done, workers)
            per_worker = Counter(line["pid"] for line in lines)
            states = Counter(line["message"].split(": ", 1)[1].split(" ")[0] for line in lines)
            assert sum(states.values()) == 6 and set(states) <= {"succeeded", "skipped"}, states
            assert states["succeeded"] >= 1

            with d.rt.sessions() as session:
                runs = list(session.scalars(select(SyncRun).where(SyncRun.job == "sync").order_by(SyncRun.started_at)))
                assert all(r.state == "succeeded" for r in runs), [(r.state, r.error) for r in runs]
                assert len(runs) == 1 + states["succeeded"]
                for earlier, later in itertools.pairwise(runs):
                    assert earlier.finished_at <= later.started_at, "two runs of one connection overlapped"
                ids = list(session.scalars(select(Invoice.external_id)))
                assert len(ids) == len(set(ids))
                assert set(session.scalars(select(OutboxEntry.state))) == {"done"}
                payments = select(func.count()).where(OutboxEntry.kind == "payment")
                assert session.scalar(payments) == 6
            tenant = xero.ledger.tenant(xero.tenant_ids[0])
            ours = Counter(
                p.invoice_id
                for p in tenant.payments.values()
                if p.status == "AUTHORISED" and "cx:" in (p.reference or "")
            )
            assert len(ours) == 6 and set(ours.values()) == {1}, ours
            assert len(per_worker) >= 1
        finally:
            d.cluster.stop_all()
            d.rt.close()
