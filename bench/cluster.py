"""Benchmark: connections synced per hour by 1, 2 and 4 Celery workers and by the embedded daemon.

    .venv/bin/python bench/cluster.py                                   # 48 connections, 2,000 invoices each
    .venv/bin/python bench/cluster.py --connections 12 --workers 1,2 --rounds 1

Needs PostgreSQL, RabbitMQ and Redis on 127.0.0.1 (as the tests do: a throwaway database, virtual
host and Redis prefix). The Xero sandbox runs in this process with Xero's real limits (60 calls a
minute, 5 at once, 5,000 a day per tenant; 10,000 a minute per app) and ``--latency-ms`` (100) on
every call. Each connection is one tenant with ``--invoices`` (2,000) invoices, imported once before
anything is measured. Then, for each engine, each round edits ``--changes`` (50) invoices in every
tenant (a new due date: the ledger's "updated" stamp moves) and syncs every connection once:

- Celery: ``connector worker --concurrency C`` processes (C = ``--concurrency``, 4), one import task
  per connection put on the queue at once (as the scheduler does at a round), timed from then until
  every connection has a new succeeded run;
- embedded: the daemon's sync job (``jobs.tasks.sync_all``, a pool of ``[engine] concurrency`` = C
  threads) in its own process, timed from its first run's start to its last run's end (its
  process start is left out).

Printed per engine: seconds per round, connections per hour, and per run the API calls and the
seconds a run held its connection. The figures and a paper estimate are in docs/deploy.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from connector.engine.celery_app import make_app, queue_name  # noqa: E402
from connector.engine.ledgers import PREFIX_ENV  # noqa: E402
from connector.runtime import open_runtime  # noqa: E402
from connector.sandbox.xero import RateLimits, XeroSandbox  # noqa: E402
from connector.store.models import Connection, SyncRun  # noqa: E402
from connector.sync.connect import save_token  # noqa: E402
from tests.engine.kit import (  # noqa: E402
    XERO_ACCOUNTS,
    Cluster,
    pg_database,
    rabbit_vhost,
    redis_prefix,
    write_config,
)


class ShiftedClock:
    """The sandbox's clock: the wall clock plus an offset that each round moves 15 minutes on.

    The importer re-reads a 5-minute overlap behind its cursor, so rounds a few seconds apart would
    each fetch every earlier round's changes again. Moving the ledger's time on by a schedule's
    interval per round makes each run see exactly its own ``--changes``, as a 15-minute schedule
    does. Rate-limit windows still roll in real time (plus the jumps), and tokens expire and are
    refreshed on the way, as they would be.
    """

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


EMBEDDED = (
    "import sys; from connector.runtime import open_runtime; from jobs.tasks import sync_all; "
    "rt = open_runtime(sys.argv[1]); rs = sync_all(rt); "
    "sys.exit(0 if all(r.state == 'succeeded' for r in rs) else 1)"
)


def change_invoices(xero: XeroSandbox, tenants: list[str], changes: int, round_: int) -> None:
    """``changes`` edits per tenant: a new due date on open invoices (what a bookkeeper does all day)."""
    for tenant in tenants:
        books = xero.ledger.tenant(tenant)
        open_ = sorted(i.id for i in books.invoices.values() if i.type == "ACCREC" and i.status == "AUTHORISED")
        start = (round_ * changes) % max(1, len(open_) - changes)
        for invoice_id in open_[start : start + changes]:
            xero.ledger.update_invoice(tenant, invoice_id, due_date=date.today() + timedelta(days=30 + round_))


def succeeded_after(rt: Any, mark: int) -> list[SyncRun]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(SyncRun).where(SyncRun.job == "sync", SyncRun.state == "succeeded", SyncRun.id > mark)
            )
        )


def last_run_id(rt: Any) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.coalesce(func.max(SyncRun.id), 0)))


def wait_all(rt: Any, mark: int, total: int, procs: list[subprocess.Popen[bytes]]) -> list[SyncRun]:
    while True:
        runs = succeeded_after(rt, mark)
        if len({r.connection_id for r in runs}) >= total:
            return runs
        for p in procs:
            if p.poll() is not None and p.returncode not in (0, None):
                raise SystemExit(f"a process ended with {p.returncode}: see {getattr(p, 'log_path', '')}")
        time.sleep(0.2)


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    os.environ.setdefault("CONNECTOR_SECRET_KEY", Fernet.generate_key().decode())
    tmp = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    results = []
    clock = ShiftedClock()
    with (
        XeroSandbox(
            seed=3,
            tenants=args.connections,
            invoices_per_tenant=args.invoices,
            limits=RateLimits(),
            latency_ms=args.latency_ms,
            clock=clock,
        ) as xero,
        pg_database() as database,
        rabbit_vhost() as vhost,
        redis_prefix() as prefix,
    ):
        os.environ[PREFIX_ENV] = prefix
        os.environ["XERO_SANDBOX_SECRET"] = xero.client_secret
        entries = [
            {"name": f"c{i:03d}", "provider": "xero", "tenant_id": t, "accounts": XERO_ACCOUNTS}
            for i, t in enumerate(xero.tenant_ids)
        ]
        config = write_config(
            tmp / "connector.toml",
            database=database,
            broker=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            xero=xero,
            qbo=None,
            connections=entries,
            concurrency=args.concurrency,
        )
        rt = open_runtime(config)
        with rt.sessions() as session:
            ids = dict(session.execute(select(Connection.name, Connection.id)).all())
        for entry in entries:
            save_token(rt, ids[entry["name"]], xero.issue_tokens(tenants=[entry["tenant_id"]]))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        logs = tmp / "logs"
        logs.mkdir()
        cluster = Cluster(config, env, logs)
        total = len(entries)

        # the first import of every connection (not measured): 2,000 invoices each
        started = time.perf_counter()
        first = subprocess.run([sys.executable, "-c", EMBEDDED, str(config)], env=env, cwd=ROOT)
        if first.returncode:
            raise SystemExit("the first import failed")
        print(f"first import: {total} x {args.invoices} invoices in {time.perf_counter() - started:.1f} s", flush=True)

        round_no = 0
        app = make_app(rt.config)
        for engine in args.engines:
            procs: list[subprocess.Popen[bytes]] = []
            if engine != "embedded":
                procs = [
                    cluster.worker(f"{engine}-{i}", "--concurrency", str(args.concurrency)) for i in range(int(engine))
                ]
                for p in procs:
                    while "ready" not in cluster.log_text(p):
                        if p.poll() is not None:
                            raise SystemExit(cluster.log_text(p)[-2000:])
                        time.sleep(0.2)
            seconds, runs = [], []
            for _ in range(args.rounds):
                round_no += 1
                clock.offset += timedelta(minutes=15)
                change_invoices(xero, xero.tenant_ids, args.changes, round_no)
                mark = last_run_id(rt)
                t0 = time.perf_counter()
                if engine == "embedded":
                    proc = subprocess.Popen([sys.executable, "-c", EMBEDDED, str(config)], env=env, cwd=ROOT)
                    done = wait_all(rt, mark, total, [proc])
                    proc.wait()
                else:
                    for entry in entries:
                        app.send_task(
                            "connector.import",
                            kwargs={"connection": entry["name"]},
                            queue=queue_name("sync"),
                            routing_key="sync",
                        )
                    done = wait_all(rt, mark, total, procs)
                wall = time.perf_counter() - t0
                # the round's span in the database, first run's start to last run's end: the embedded
                # daemon's process start (imports, migrations check) is not the engine's throughput
                span = (max(r.finished_at for r in done) - min(r.started_at for r in done)).total_seconds()
                seconds.append(span if engine == "embedded" else wall)
                runs.extend(done)
            for p in procs:
                cluster.stop(p)
            per_round = statistics.median(seconds)
            row = {
                "engine": "embedded" if engine == "embedded" else f"{engine} worker(s)",
                "processes": 1 if engine == "embedded" else int(engine),
                "concurrency": args.concurrency,
                "round_s": round(per_round, 2),
                "connections_per_hour": round(total / per_round * 3600),
                "calls_per_run": round(statistics.mean(r.api_calls for r in runs), 1),
                "run_s": round(statistics.mean((r.finished_at - r.started_at).total_seconds() for r in runs), 2),
                "fetched_per_run": round(statistics.mean((r.counts or {}).get("fetched", 0) for r in runs), 1),
            }
            print(json.dumps(row), flush=True)
            results.append(row)
        rt.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=48)
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4, help="tasks at once per worker, and the embedded pool")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to measure")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-embedded", action="store_true")
    args = parser.parse_args()
    args.engines = [w.strip() for w in args.workers.split(",") if w.strip()] + (
        [] if args.no_embedded else ["embedded"]
    )
    results = measure(args)
    print("\n| engine | round (s) | connections/hour | API calls per run | seconds per run |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['engine']} (concurrency {r['concurrency']}) | {r['round_s']} | {r['connections_per_hour']:,} | "
            f"{r['calls_per_run']} | {r['run_s']} |"
        )


if __name__ == "__main__":
    main()
