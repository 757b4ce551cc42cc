"""Benchmark: the support console's invoice list and search at 100k invoices, and queries per page.

    .venv/bin/python bench/console.py                          # SQLite, 100k invoices
    .venv/bin/python bench/console.py --sizes 10000,100000
    .venv/bin/python bench/console.py --database postgresql://postgres@127.0.0.1:5432/postgres
        # PostgreSQL: a fresh throwaway database (created from that admin URL), dropped afterwards

The invoices go in through the import's own bulk path (``create_invoices``: rows and their
"imported" events), spread over a year and over every ledger status; then a platform event for one
invoice in five, a ledger write for one in ten, and ANALYZE, as a live database would have. Each
page is fetched through the Flask app as a logged-in person (routing, the query, the template),
``--repeats`` times after one warm-up; the table gives the median time and the SQL statements the
page ran (counted with a ``before_cursor_execute`` listener, the same way the tests count).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TODAY = date.today()
#: Transaction control, not queries (the tests count the same way).
CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


def build(rt: Any, n: int) -> dict[str, Any]:
    """``n`` invoices in one Xero connection, with timelines and ledger writes; returns look-up keys."""
    from sqlalchemy import insert, select, text

    from connector.domain import LedgerStatus
    from connector.store.models import ActivityEvent, Connection, Invoice, OutboxEntry
    from connector.store.types import utcnow
    from connector.sync.apply import NewInvoice, create_invoices

    rng = random.Random(7)
    statuses = (
        [LedgerStatus.OPEN] * 70 + [LedgerStatus.PAID] * 20 + [LedgerStatus.VOIDED] * 5 + [LedgerStatus.DRAFT] * 5
    )
    with rt.sessions() as session:
        connection_id = session.scalars(select(Connection.id)).one()
    batch = 5000
    for start in range(0, n, batch):
        news = []
        for i in range(start, min(n, start + batch)):
            amount = Decimal(rng.randint(1000, 500000)) / 100
            issued = TODAY - timedelta(days=rng.randint(0, 365))
            news.append(
                NewInvoice(
                    number=f"INV-{i + 1:07d}",
                    contact_name=f"Customer {rng.randint(1, n // 10 or 1)} Ltd",
                    currency="NZD",
                    total=amount,
                    amount_due=Decimal(0) if statuses[i % 100] == LedgerStatus.PAID else amount,
                    issue_date=issued,
                    due_date=issued + timedelta(days=20),
                    ledger_status=statuses[rng.randrange(100)],
                    external_id=str(uuid.UUID(int=rng.getrandbits(128))),
                )
            )
        with rt.transaction() as session:
            create_invoices(session, session.get(Connection, connection_id), news, today=TODAY, load=False)
    now = utcnow()
    with rt.transaction() as session:
        ids = list(session.scalars(select(Invoice.id).order_by(Invoice.id)))
        events = [
            {
                "invoice_id": i,
                "occurred_at": now - timedelta(days=rng.randint(0, 29)),
                "kind": "collection_started",
                "outcome": "transition",
                "from_status": "scheduled",
                "to_status": "submitted",
                "source": "platform",
                "detail": "",
                "actor": "platform",
            }
            for i in ids[::5]
        ]
        session.execute(insert(ActivityEvent), events)
        writes = [
            {
                "connection_id": connection_id,
                "invoice_id": i,
                "kind": "payment",
                "idempotency_key": uuid.uuid4().hex,
                "payload": {"amount": "10.00", "currency": "NZD"},
                "state": "done",
                "attempts": 1,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for i in ids[::10]
        ]
        session.execute(insert(OutboxEntry), writes)
    with rt.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    with rt.sessions() as session:
        sample = session.get(Invoice, ids[len(ids) // 2])
        return {
            "connection_id": connection_id,
            "middle": ids[len(ids) // 2],
            "invoice": sample.id,
            "number": sample.number,
            "external_id": sample.external_id,
            "contact": sample.contact_name,
            "amount": str(sample.total),
        }


def pages(keys: dict[str, Any]) -> list[tuple[str, str]]:
    since, until = (TODAY - timedelta(days=90)).isoformat(), (TODAY - timedelta(days=60)).isoformat()
    return [
        ("invoice list, first page", "/invoices"),
        ("invoice list, a page in the middle", f"/invoices?after={keys['middle']}"),
        ("filter: status", "/invoices?status=voided"),
        (
            "filter: connection + status + dates",
            f"/invoices?connection={keys['connection_id']}&status=scheduled&from={since}&to={until}",
        ),
        ("search: invoice number", f"/invoices?q={keys['number']}"),
        ("search: number prefix", "/invoices?q=INV-00500"),
        ("search: customer", f"/invoices?q={keys['contact'].replace(' ', '+')}"),
        ("search: amount", f"/invoices?q={keys['amount']}"),
        ("search: ledger id", f"/invoices?q={keys['external_id']}"),
        ("search: no match (worst case)", "/invoices?q=nothing-matches-this"),
        ("one invoice", f"/invoices/{keys['invoice']}"),
        ("dashboard", "/"),
        ("queues", "/queues"),
        ("sync runs", "/runs"),
        ("reconciliation", "/reconciliation"),
    ]


def measure(url: str, size: int, repeats: int) -> list[dict[str, Any]]:
    from cryptography.fernet import Fernet
    from sqlalchemy import event

    from connector.actions.users import add_user
    from connector.config import Config
    from connector.runtime import open_runtime
    from connector.web.app import create_app

    os.environ.setdefault("CONNECTOR_SECRET_KEY", Fernet.generate_key().decode())
    config = Config.model_validate(
        {
            "database": {"url": url},
            "connections": [
                {
                    "name": "bench",
                    "provider": "xero",
                    "tenant_id": "t-1",
                    "accounts": {"clearing": "095", "bank": "090", "fees": "404"},
                }
            ],
        }
    )
    rt = open_runtime(config=config)
    started = time.perf_counter()
    keys = build(rt, size)
    print(f"  built {size:,} invoices in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    add_user(rt, "bench", "viewer", "benchmark password")
    app = create_app(rt)
    client = app.test_client()
    client.get("/login")
    token = client.get("/login").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"name": "bench", "password": "benchmark password", "csrf_token": token})
    statements: list[str] = []
    event.listen(rt.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    rows = []
    for label, path in pages(keys):
        client.get(path)  # warm-up
        times = []
        for _ in range(repeats):
            statements.clear()
            t0 = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, (path, response.status_code)
        queries = sum(1 for s in statements if not s.lstrip().upper().startswith(CONTROL))
        rows.append({"page": label, "ms": statistics.median(times) * 1000, "queries": queries})
    rt.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="invoice counts, comma-separated")
    parser.add_argument("--database", default=None, help="PostgreSQL admin URL: a fresh database per size")
    parser.add_argument("--repeats", type=int, default=5, help="timed fetches per page (the median is shown)")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        if args.database:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            admin = make_url(args.database)
            name = f"connector_bench_console_{uuid.uuid4().hex[:8]}"
            engine = create_engine(admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                rows = measure(admin.set(database=name).render_as_string(hide_password=False), size, args.repeats)
            finally:
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                engine.dispose()
            where = "PostgreSQL"
        else:
            with tempfile.TemporaryDirectory() as folder:
                rows = measure(f"sqlite:///{folder}/bench.sqlite", size, args.repeats)
            where = "SQLite"
        print(f"\n{where}, {size:,} invoices (median of {args.repeats}; whole page: routing, SQL, template)\n")
        print("| page | ms | SQL statements |")
        print("|---|---:|---:|")
        for r in rows:
            print(f"| {r['page']} | {r['ms']:.1f} | {r['queries']} |")


if __name__ == "__main__":
    main()
