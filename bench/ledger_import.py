"""Benchmark: importing from a ledger and pushing payments back, ours against a naive client.

    .venv/bin/python bench/ledger_import.py                       # N = 10k and 100k, M = 1k, latency 0
    .venv/bin/python bench/ledger_import.py --sizes 10000 --latency-ms 50
    .venv/bin/python bench/ledger_import.py --ledger quickbooks --sizes 10000,100000
    .venv/bin/python bench/ledger_import.py --database postgresql://postgres@127.0.0.1:5432/postgres
        # PostgreSQL: a fresh throwaway database (created from that admin URL) per measurement

The Xero sandbox runs in its own process (limits lifted, optional latency per call), and every
measurement runs in a fresh process with a fresh SQLite file, so peak RSS is the connector's
alone. Figures printed: wall time, invoices/s, ledger API calls, peak RSS, the time split (fetch /
decode / parse / write), the floor measured in the same run (decode + parse + raw bulk insert
of the same rows, in its own process and fresh database) and the ratio; for the push, calls and
time for M payments. ``--repeats 3`` measures each size three times and tables the median.
The naive client is the SDK's default page of 100 invoices with a commit per invoice, and one
payment per request.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# --- the sandbox process ---------------------------------------------------------------------------


def serve(ledger: str, invoices: int, latency_ms: int) -> None:
    from connector.sandbox.xero import RateLimits, XeroSandbox

    if ledger == "xero":
        sandbox: Any = XeroSandbox(
            seed=42, tenants=1, invoices_per_tenant=invoices, limits=RateLimits.unlimited(), latency_ms=latency_ms
        ).start()
        info = {
            "ledger": ledger,
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "api_url": sandbox.accounting_url,
            "identity_url": sandbox.identity_url,
            "token_url": sandbox.token_url,
            "tenant_id": sandbox.tenant_ids[0],
            "token": sandbox.issue_tokens(),
            "accounts": {"clearing": "095", "bank": "090", "fees": "404"},
        }
    else:
        from connector.sandbox.quickbooks import QuickBooksSandbox

        sandbox = QuickBooksSandbox(
            seed=42, realms=1, invoices_per_realm=invoices, limits=RateLimits.unlimited(), latency_ms=latency_ms
        ).start()
        realm = sandbox.realm_ids[0]
        roles = sandbox.ledger.books(realm).roles
        info = {
            "ledger": ledger,
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "api_url": sandbox.api_url,
            "identity_url": sandbox.discovery_url,
            "token_url": sandbox.token_url,
            "redirect_uri": sandbox.redirect_uri,
            "tenant_id": realm,
            "token": sandbox.issue_tokens(realm),
            "accounts": {role: roles[role] for role in ("clearing", "bank", "fees")},
        }
    print(json.dumps(info), flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    sandbox.stop()


@contextmanager
def sandbox_process(ledger: str, invoices: int, latency_ms: int) -> Any:
    proc = subprocess.Popen(
        [sys.executable, __file__, "serve", ledger, str(invoices), str(latency_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield json.loads(proc.stdout.readline())
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)


# --- one measurement, in its own process -------------------------------------------------------------


def measure(mode: str, info: dict[str, Any], payments: int) -> dict[str, Any]:
    from cryptography.fernet import Fernet
    from sqlalchemy import select

    from connector.config import Config
    from connector.domain import CollectionConfirmed, CollectionStarted
    from connector.ledgers.limits import Limits, RateLimiter
    from connector.ledgers.records import InvoicePage
    from connector.mapping import load_mapping
    from connector.runtime import open_runtime
    from connector.store.models import Connection, Invoice
    from connector.sync.apply import apply_event
    from connector.sync.connect import ledger_for, save_token
    from connector.sync.importer import apply_page
    from connector.sync.push import push
    from connector.sync.runner import sync_connection
    from connector.sync.runs import RunCounts

    os.environ["CONNECTOR_SECRET_KEY"] = Fernet.generate_key().decode()
    os.environ["BENCH_LEDGER_SECRET"] = info["client_secret"]
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the QuickBooks sandbox speaks http on loopback
    provider = info["ledger"]
    folder = tempfile.mkdtemp(prefix="connector-bench-")
    keys = ("client_id", "api_url", "identity_url", "token_url", "redirect_uri")
    app = {k: info[k] for k in keys if k in info} | {"client_secret_env": "BENCH_LEDGER_SECRET"}
    connection = {"name": "bench", "provider": provider, "tenant_id": info["tenant_id"], "accounts": info["accounts"]}
    config = Config.model_validate(
        {
            "database": {"url": info.get("database_url") or f"sqlite:///{folder}/bench.sqlite"},
            "ledgers": {provider: app},
            "connections": [connection],
        }
    )
    rt = open_runtime(config=config)
    save_token(rt, 1, info["token"])
    naive = mode == "naive"
    ledgers: list[Any] = []

    unlimited = RateLimiter(Limits(per_minute=None, concurrent=None, per_day=None))

    def make(rt: Any, connection: Connection) -> Any:
        # Limits lifted on both sides: this measures our own speed; calls are what the limits ration.
        ledger = ledger_for(rt, connection, page_size=100 if naive else 1000, limiter=unlimited)
        if naive:
            ledger.payment_batch_size = 1
        ledgers.append(ledger)
        return ledger

    out: dict[str, Any] = {"mode": mode}
    split = _instrument(provider)
    started = time.perf_counter()
    if naive:  # the SDK's default pages of 100, a transaction (commit) per invoice
        with rt.sessions() as session:
            connection = session.get(Connection, 1)
        ledger = make(rt, connection)
        counts = RunCounts()
        mapping = load_mapping(provider)
        for page in ledger.changed_invoices(None, timedelta(minutes=5)):
            for record in page.records:
                with rt.transaction() as session:
                    apply_page(
                        session,
                        session.get(Connection, 1),
                        InvoicePage([record], more=False),
                        mapping,
                        today=date.today(),
                        run_id=None,
                        counts=counts,
                    )
        fetched, calls = counts.fetched, ledger.calls.total
    else:
        result = sync_connection(rt, 1, make, do_push=False)
        fetched, calls = result.counts.fetched, result.api_calls
    seconds = time.perf_counter() - started
    out.update(
        invoices=fetched,
        seconds=round(seconds, 2),
        per_second=round(fetched / seconds),
        import_calls=calls,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        split={k: round(v, 2) for k, v in split.items()},
    )
    if not naive:
        again = sync_connection(rt, 1, make, do_push=False)
        out["no_change_sync_calls"] = again.api_calls
    if payments:
        with rt.transaction() as session:
            rows = list(session.scalars(select(Invoice).where(Invoice.status == "scheduled").limit(payments)))
            for row in rows:
                apply_event(session, row, CollectionStarted(occurred_on=date.today()))
                apply_event(session, row, CollectionConfirmed(occurred_on=date.today()))
        with rt.sessions() as session:
            ledger = make(rt, session.get(Connection, 1))
        started = time.perf_counter()
        counts = push(rt.transaction, 1, ledger)
        out.update(
            payments=len(rows),
            pushed=counts.pushed,
            push_seconds=round(time.perf_counter() - started, 2),
            push_calls=ledger.calls.total,
        )
    rt.close()
    shutil.rmtree(folder, ignore_errors=True)
    return out


def _instrument(provider: str) -> dict[str, float]:
    """Seconds spent in each stage of the import, summed over pages.

    fetch = the HTTP round trip (the adapter's page read minus the decoding inside it), decode =
    JSON to Python, parse = JSON records to ledger records, write = everything from a page's
    records to its commit (mapping, domain, SQL). Fetch and decode run in the read-ahead thread
    while the previous page is parsed and written, so the parts add up to more than the wall time.
    """
    split = {"fetch": 0.0, "decode": 0.0, "parse": 0.0, "write": 0.0}
    from connector.ledgers import quickbooks, xero
    from connector.sync import importer

    def timed(owner: Any, name: str, stage: str, minus: str | None = None) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            before = split[minus] if minus else 0.0
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                split[stage] += time.perf_counter() - t0 - ((split[minus] - before) if minus else 0.0)

        setattr(owner, name, wrapper)

    if provider == "xero":
        timed(xero, "_page_body", "decode")
        timed(xero, "parse_invoice", "parse")
        timed(xero.XeroLedger, "_raw_invoice_page", "fetch", minus="decode")
    else:  # invoice pages: QuickBooksLedger._query(…, invoices=True) -> _Client.query_page -> decode_json
        timed(quickbooks, "decode_json", "decode")
        timed(quickbooks, "parse_invoice", "parse")
        timed(quickbooks.QuickBooksLedger, "_query", "fetch", minus="decode")
    timed(importer, "apply_page", "write", minus="parse")  # the records are read in apply_page's thread
    return split


def floor(info: dict[str, Any]) -> dict[str, Any]:
    """The floor, in its own process: decode + parse + raw bulk insert of the same rows.

    Every page is fetched first (not timed); then, page by page, the JSON is decoded (the adapter's
    own decoder), parsed (the adapter's own ``parse_invoice``), fingerprinted, and its invoice rows
    and one activity row each go into a fresh, migrated database of the same schema in one
    transaction per page: the driver's executemany on SQLite, COPY on PostgreSQL, no SQLAlchemy per
    row, no mapping, no domain, no look-ups. What the import does on top of that is the ratio.
    """
    from cryptography.fernet import Fernet

    from connector.config import Config
    from connector.domain.fingerprint import fingerprint
    from connector.ledgers.limits import Limits, RateLimiter
    from connector.ledgers.records import LedgerInvoice
    from connector.runtime import open_runtime
    from connector.store.bulk import convert_page
    from connector.store.models import ActivityEvent, Connection, Invoice
    from connector.store.types import utcnow
    from connector.sync.connect import ledger_for, save_token

    os.environ["CONNECTOR_SECRET_KEY"] = Fernet.generate_key().decode()
    os.environ["BENCH_LEDGER_SECRET"] = info["client_secret"]
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the QuickBooks sandbox speaks http on loopback
    provider = info["ledger"]
    folder = tempfile.mkdtemp(prefix="connector-floor-")
    keys = ("client_id", "api_url", "identity_url", "token_url", "redirect_uri")
    app = {k: info[k] for k in keys if k in info} | {"client_secret_env": "BENCH_LEDGER_SECRET"}
    connection = {"name": "bench", "provider": provider, "tenant_id": info["tenant_id"], "accounts": info["accounts"]}
    url = info.get("database_url") or f"sqlite:///{folder}/floor.sqlite"
    config = Config.model_validate({"database": {"url": url}, "ledgers": {provider: app}, "connections": [connection]})
    rt = open_runtime(config=config)
    save_token(rt, 1, info["token"])
    with rt.sessions() as session:
        ledger = ledger_for(
            rt, session.get(Connection, 1), page_size=1000, limiter=RateLimiter(Limits(None, None, None))
        )
    bodies, decode, parse = (_xero_pages if provider == "xero" else _quickbooks_pages)(ledger)
    times = {"decode": 0.0, "parse": 0.0, "insert": 0.0}
    engine = rt.engine
    dialect = engine.dialect
    count = 0
    next_id = 1
    seen: set[str] = set()  # QuickBooks' keyset pages overlap by their boundary second
    for body in bodies:
        t0 = time.perf_counter()
        doc = decode(body)  # as the adapter decodes invoice pages (orjson)
        t1 = time.perf_counter()
        records = parse(doc)
        t2 = time.perf_counter()
        now = utcnow()
        invoices = [r for r in records if isinstance(r, LedgerInvoice) and r.external_id not in seen]
        seen.update(r.external_id for r in invoices)
        rows = [
            {
                "id": next_id + n,
                "connection_id": 1,
                "external_id": r.external_id,
                "number": r.number,
                "contact_name": r.contact_name,
                "currency": r.currency,
                "total": r.total,
                "amount_due": r.amount_due,
                "issue_date": r.issue_date,
                "due_date": r.due_date,
                "status": "scheduled",
                "mode": "auto_collect",
                "attempts": 0,
                "needs_attention": False,
                "payment_posted": False,
                "ledger_status": "open",
                "ledger_amount_due": r.amount_due,
                "ledger_due_date": r.due_date,
                "ledger_updated_at": r.updated_at,
                "fingerprint": fingerprint(r.contact_name, r.number, r.total, r.currency),
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for n, r in enumerate(invoices)
        ]
        next_id += len(rows)
        events = [
            {
                "invoice_id": row["id"],
                "occurred_at": now,
                "kind": "imported",
                "outcome": "created",
                "to_status": "scheduled",
                "source": "ledger",
                "detail": "placed in scheduled",
            }
            for row in rows
        ]
        with engine.begin() as conn:
            for table, page_rows in ((Invoice.__table__, rows), (ActivityEvent.__table__, events)):
                if not page_rows:
                    continue
                columns, tuples = convert_page(table, page_rows, dialect)
                if dialect.name == "sqlite":
                    marks = ", ".join("?" for _ in columns)
                    conn.connection.driver_connection.executemany(
                        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", tuples
                    )
                else:
                    with (
                        conn.connection.driver_connection.cursor() as cursor,
                        cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy,
                    ):
                        for row in tuples:
                            copy.write_row(row)
        t3 = time.perf_counter()
        times["decode"] += t1 - t0
        times["parse"] += t2 - t1
        times["insert"] += t3 - t2
        count += len(records)
    rt.close()
    shutil.rmtree(folder, ignore_errors=True)
    return {"records": count, **{k: round(v, 2) for k, v in times.items()}, "seconds": round(sum(times.values()), 2)}


def _xero_pages(ledger: Any) -> tuple[list[bytes], Callable[[bytes], Any], Callable[[Any], list[Any]]]:
    """Every invoice page's bytes (fetched as the adapter fetches them), the adapter's decoder and
    its parser."""
    from connector.ledgers import xero

    decode = xero._page_body
    xero._page_body = lambda data, **_: data  # type: ignore[assignment]  # keep the bytes: decoding is timed
    bodies = []
    page = 1
    try:
        while True:
            raw = ledger._raw_invoice_page(None, page)
            bodies.append(raw)
            if raw.count(b'"InvoiceID"') < 1000 or len(bodies) > 1000:
                break
            page += 1
    finally:
        xero._page_body = decode  # type: ignore[assignment]
    return (
        bodies,
        lambda body: decode(body, fast=True),
        lambda doc: [xero.parse_invoice(r) for r in doc.get("Invoices") or []],
    )


def _quickbooks_pages(ledger: Any) -> tuple[list[bytes], Callable[[bytes], Any], Callable[[Any], list[Any]]]:
    """Every invoice page's bytes, as a first import's query pages read them (the adapter's own
    keyset paging, run once untimed with its decoder recording what it was given), the decoder,
    and the adapter's page reader (``parse_invoice`` per record, amounts exact)."""
    from datetime import timedelta

    from connector.ledgers import quickbooks

    decode = quickbooks.decode_json
    bodies: list[bytes] = []

    def recording(data: Any) -> Any:
        bodies.append(data)
        return decode(data)

    quickbooks.decode_json = recording  # type: ignore[assignment]
    try:
        for _page in ledger.changed_invoices(None, timedelta(minutes=5)):
            pass
    finally:
        quickbooks.decode_json = decode  # type: ignore[assignment]
    bodies = [b for b in bodies if b'"Invoice"' in b]
    currency = ledger.home_currency()
    return (
        bodies,
        decode,
        lambda doc: quickbooks._invoice_records(doc, currency, ledger.max_amount),
    )


def run_floor(info: dict[str, Any], admin_url: str | None = None) -> dict[str, Any]:
    with fresh_database(admin_url) as url:
        proc = subprocess.run(
            [sys.executable, __file__, "floor"],
            input=json.dumps({**info, "database_url": url}),
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode:
        raise SystemExit(f"floor measurement failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@contextmanager
def fresh_database(admin_url: str | None) -> Any:
    """None for SQLite (each measurement makes its own file); a new, empty PostgreSQL database otherwise."""
    if not admin_url:
        yield None
        return
    import uuid

    import psycopg

    name = f"connector_bench_{uuid.uuid4().hex[:8]}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield plain.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_measure(mode: str, info: dict[str, Any], payments: int, admin_url: str | None = None) -> dict[str, Any]:
    with fresh_database(admin_url) as url:
        return _run_measure(mode, {**info, "database_url": url}, payments)


def _run_measure(mode: str, info: dict[str, Any], payments: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "measure", mode, str(payments)],
        input=json.dumps(info),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"measurement failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="invoice counts, comma-separated")
    parser.add_argument("--latency-ms", type=int, default=0, help="sandbox latency per API call")
    parser.add_argument("--payments", type=int, default=1000, help="payments pushed (M)")
    parser.add_argument("--naive-max", type=int, default=10000, help="largest N the naive client is run at")
    parser.add_argument("--modes", default="ours,naive", help="which clients to run")
    parser.add_argument("--ledger", default="xero", choices=("xero", "quickbooks"), help="which sandbox")
    parser.add_argument("--database", default=None, help="PostgreSQL admin URL: a fresh database per measurement")
    parser.add_argument("--repeats", type=int, default=1, help="measurements per size (the median is shown)")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor (decode + parse + raw insert)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = args.modes.split(",")
    runs: dict[tuple[int, str], list[dict[str, Any]]] = {}
    # Every size's sandbox is up before the first measurement, and the repeats go round the sizes
    # (100k, 300k, 100k, 300k, …): a shared machine's speed drifts over minutes, and a ratio
    # between sizes measured one after the other would carry that drift.
    with ExitStack() as stack:
        infos = {n: stack.enter_context(sandbox_process(args.ledger, n, args.latency_ms)) for n in sizes}
        for _ in range(args.repeats):
            for n in sizes:
                for mode in modes:
                    if mode == "naive" and n > args.naive_max:
                        continue
                    payments = args.payments if n == min(sizes) else 0
                    figures = run_measure(mode, infos[n], payments, args.database)
                    if mode == "ours" and not args.no_floor:
                        figures["floor"] = run_floor(infos[n], args.database)
                        figures["floor_ratio"] = round(figures["seconds"] / figures["floor"]["seconds"], 2)
                    figures["database"] = "postgresql" if args.database else "sqlite"
                    figures["N"] = n
                    figures["ledger"] = args.ledger
                    figures["latency_ms"] = args.latency_ms
                    print(json.dumps(figures), flush=True)
                    runs.setdefault((n, mode), []).append(figures)
    rows = []
    for key in sorted(runs, key=lambda k: (modes.index(k[1]), k[0])):
        ordered = sorted(runs[key], key=lambda r: r["seconds"])
        rows.append(ordered[len(ordered) // 2])
    print()
    print(
        f"{'ledger':>10} {'db':>10} {'N':>7} {'client':>6} {'lat':>4} {'seconds':>8} {'inv/s':>7} {'calls':>6} "
        f"{'no-change':>9} {'RSS MB':>7} {'fetch':>6} {'decode':>6} {'parse':>6} {'write':>6} {'floor s':>8} "
        f"{'× floor':>7} {'M':>5} {'push s':>7} {'push calls':>10}"
    )
    for r in rows:
        split = r.get("split") or {}
        print(
            f"{r['ledger']:>10} {r['database']:>10} {r['N']:>7} {r['mode']:>6} {r['latency_ms']:>4} {r['seconds']:>8} "
            f"{r['per_second']:>7} {r['import_calls']:>6} {r.get('no_change_sync_calls', '-'):>9} "
            f"{r['peak_rss_mb']:>7} {split.get('fetch', '-'):>6} {split.get('decode', '-'):>6} "
            f"{split.get('parse', '-'):>6} {split.get('write', '-'):>6} "
            f"{(r.get('floor') or {}).get('seconds', '-'):>8} "
            f"{r.get('floor_ratio', '-'):>7} {r.get('payments', '-'):>5} {r.get('push_seconds', '-'):>7} "
            f"{r.get('push_calls', '-'):>10}"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1:2] == ["measure"]:
        print(json.dumps(measure(sys.argv[2], json.loads(sys.stdin.read()), int(sys.argv[3]))))
    elif sys.argv[1:2] == ["floor"]:
        print(json.dumps(floor(json.loads(sys.stdin.read()))))
    else:
        main()
