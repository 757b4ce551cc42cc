"""Benchmark: a full reconciliation, its time and its ledger API calls, at 10k and 100k invoices.

    .venv/bin/python bench/reconcile.py                                  # Xero, 10k and 100k, SQLite
    .venv/bin/python bench/reconcile.py --ledger quickbooks --sizes 10000
    .venv/bin/python bench/reconcile.py --database postgresql://postgres@127.0.0.1:5432/bench_empty

The sandbox runs in its own process (limits lifted, latency 0). The connector imports the
organisation, collects and pushes M payments and one payout, then reconciles in full; printed:
invoices, money entries read, reconcile seconds, API calls, findings (0 expected).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ledger_import import sandbox_process  # noqa: E402  (the same sandbox process as the import benchmark)


def measure(info: dict[str, Any], payments: int, database: str | None) -> dict[str, Any]:
    from cryptography.fernet import Fernet
    from sqlalchemy import func, select

    from connector.actions import Actor
    from connector.actions.platform import record_event, record_payout
    from connector.actions.reconcile import run_reconcile
    from connector.config import Config
    from connector.ledgers.limits import Limits, RateLimiter
    from connector.runtime import open_runtime
    from connector.store.models import Connection, Invoice
    from connector.sync.connect import ledger_for, save_token
    from connector.sync.runner import sync_connection

    os.environ["CONNECTOR_SECRET_KEY"] = Fernet.generate_key().decode()
    os.environ["BENCH_LEDGER_SECRET"] = info["client_secret"]
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    provider = info["ledger"]
    url = database or f"sqlite:///{tempfile.mkdtemp(prefix='connector-bench-')}/bench.sqlite"
    keys = ("client_id", "api_url", "identity_url", "token_url", "redirect_uri")
    app = {k: info[k] for k in keys if k in info} | {"client_secret_env": "BENCH_LEDGER_SECRET"}
    connection = {"name": "bench", "provider": provider, "tenant_id": info["tenant_id"], "accounts": info["accounts"]}
    config = Config.model_validate({"database": {"url": url}, "ledgers": {provider: app}, "connections": [connection]})
    rt = open_runtime(config=config)
    save_token(rt, 1, info["token"])
    unlimited = RateLimiter(Limits(per_minute=None, concurrent=None, per_day=None))

    def make(rt: Any, conn: Any) -> Any:
        return ledger_for(rt, conn, limiter=unlimited)

    sync_connection(rt, 1, make, do_push=False)
    with rt.sessions() as session:
        base = session.get(Connection, 1).settings.get("base_currency")
        refs = [
            f"#{i}"
            for i in session.scalars(
                select(Invoice.id).where(Invoice.status == "scheduled", Invoice.currency == base).limit(payments)
            )
        ]
    platform = Actor.platform("bench")
    record_event(rt, "collection_started", refs, actor=platform)
    record_event(rt, "collection_confirmed", refs, actor=platform)
    record_payout(rt, refs[: len(refs) // 2], actor=platform, fee=Decimal("10.00"), reference="PO-BENCH")
    sync_connection(rt, 1, make)
    started = time.perf_counter()
    [result] = run_reconcile(rt, make_ledger=make)
    seconds = time.perf_counter() - started
    with rt.sessions() as session:
        invoices = session.scalar(select(func.count()).select_from(Invoice))
    rt.close()
    return {
        "ledger": provider,
        "database": url.split(":", 1)[0],
        "invoices": invoices,
        "payments": len(refs),
        "reconcile_seconds": round(seconds, 2),
        "reconcile_calls": result.api_calls,
        "findings": len(result.findings),
        "finding_kinds": result.by_kind(),
        "first_finding": result.findings[0].explanation if result.findings else None,
        "date": date.today().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", default="xero", choices=["xero", "quickbooks"])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--database", default=None, help="an empty database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        with sandbox_process(args.ledger, size, 0) as info:
            print(json.dumps(measure(info, args.payments, args.database)), flush=True)


if __name__ == "__main__":
    main()
