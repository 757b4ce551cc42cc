"""Benchmark: how fast the ledger sandboxes seed, page and hold back a call (figures the tests used to assert).

    .venv/bin/python bench/sandbox_seed.py                     # QBO 100k, Xero 20k and 100k, 5 repeats
    .venv/bin/python bench/sandbox_seed.py --qbo 10000 --xero 20000 --repeats 3

The test suite asserts only counts and behaviour: that 100,000 QuickBooks invoices are seeded
and a 1,000-row page reads exactly its rows off the change index, that 20,000 Xero invoices are
generated and a page of 1,000 serialises, that a configured latency makes the sandbox sleep that
long. How many seconds these take depends on the machine and its load, so it is measured here:

- ``qbo seed``: ``QuickBooksSandbox(realms=1, invoices_per_realm=N, customers_per_realm=200)``.
- ``qbo page``: ``SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > <the middle> ORDERBY
  MetaData.LastUpdatedTime STARTPOSITION 1 MAXRESULTS 1000`` over HTTP, and the same with
  ``STARTPOSITION 1001`` (the second page).
- ``xero add``: ``seed.add_invoices`` of N invoices into one organisation.
- ``xero page``: serialising invoices 5,000-6,000 in ``UpdatedDateUTC`` order as a GET /Invoices body.
- ``latency``: one API call with ``latency_ms=150`` (QuickBooks) and ``latency_ms=100`` plus the
  fault ``latency=50`` (Xero), against the same call with none.

Each timed step runs ``--repeats`` times; the table shows the first run (cold: the first query
after seeding is the one the old test timed), the minimum, the median and the maximum, in
seconds. Seeding builds a fresh sandbox per repeat.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402


def timed(step: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = step()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def row(name: str, seconds: list[float], note: str = "") -> None:
    first, low, mid, high = seconds[0], min(seconds), statistics.median(seconds), max(seconds)
    print(f"| {name} | {first:.3f} | {low:.3f} | {mid:.3f} | {high:.3f} | {len(seconds)} | {note} |", flush=True)


# --- QuickBooks ------------------------------------------------------------------------------------


def quickbooks(invoices: int, repeats: int) -> None:
    from connector.sandbox.quickbooks import FakeClock, QboLimits, QuickBooksSandbox
    from connector.sandbox.quickbooks.wire import local_stamp

    def build() -> QuickBooksSandbox:
        return QuickBooksSandbox(
            seed=7,
            clock=FakeClock(),
            realms=1,
            invoices_per_realm=invoices,
            customers_per_realm=200,
            limits=QboLimits.unlimited(),
        )

    seconds, sb = timed(build, repeats)
    row(f"qbo seed {invoices:,} invoices", seconds)
    sb.start()
    try:
        realm = sb.realm_ids[0]
        books = sb.ledger.books(realm)
        token = sb.issue_tokens(realm)["access_token"]
        middle = sorted(r.updated for r in books.records["Invoice"].values())[len(books.records["Invoice"]) // 2]
        since = local_stamp(middle, books.company.utc_offset_minutes)
        url = f"{sb.api_url}/company/{realm}/query?minorversion=75"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/text", "Accept": "application/json"}
        with requests.Session() as http:
            for start in (1, 1001):
                sql = (
                    f"SELECT * FROM Invoice WHERE MetaData.LastUpdatedTime > '{since}' "
                    f"ORDERBY MetaData.LastUpdatedTime STARTPOSITION {start} MAXRESULTS 1000"
                )

                def page(sql: str = sql) -> int:
                    answer = http.post(url, data=sql, headers=headers, timeout=300)
                    answer.raise_for_status()
                    return int(answer.json()["QueryResponse"]["maxResults"])

                seconds, rows = timed(page, repeats)
                row(
                    f"qbo page of 1,000 at {start:,} (HTTP)",
                    seconds,
                    f"{rows} rows, {len(books.records['Invoice']):,} live",
                )
    finally:
        sb.stop()

    # Latency: the same one-row query with and without latency_ms=150.
    for latency in (0, 150):
        small = QuickBooksSandbox(
            seed=7, clock=FakeClock(), realms=1, invoices_per_realm=40, limits=QboLimits.unlimited(), latency_ms=latency
        ).start()
        try:
            realm = small.realm_ids[0]
            token = small.issue_tokens(realm)["access_token"]
            url = f"{small.api_url}/company/{realm}/query"
            params = {"query": "select * from Invoice maxresults 1", "minorversion": "75"}
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            with requests.Session() as http:
                http.get(url, params=params, headers=headers, timeout=300).raise_for_status()  # warm the connection
                seconds, _ = timed(partial(http.get, url, params=params, headers=headers, timeout=300), repeats)
            row(f"qbo one call, latency_ms={latency}", seconds)
        finally:
            small.stop()


# --- Xero ------------------------------------------------------------------------------------------------


def xero(sizes: list[int], repeats: int) -> None:
    from connector.sandbox.common.clock import FakeClock
    from connector.sandbox.common.seeding import paused_gc
    from connector.sandbox.xero import RateLimits, XeroSandbox, seed, wire
    from connector.sandbox.xero.state import Ledger

    for size in sizes:
        seconds, tenant = [], None
        for _ in range(repeats):  # a fresh organisation each time; only add_invoices is timed
            ledger = Ledger(FakeClock())
            with paused_gc():
                tenant = seed.build_tenant(ledger, 1, 0)
            ledger.add_tenant(tenant)
            started = time.perf_counter()
            seed.add_invoices(ledger, tenant.id, size)
            seconds.append(time.perf_counter() - started)
        row(f"xero add {size:,} invoices", seconds)
        assert tenant is not None
        page = list(tenant.invoices_by_update())[5_000:6_000]

        def body(page: list[Any] = page, tenant: Any = tenant, size: int = size) -> int:
            out = wire.dumps(
                wire.envelope(
                    "Invoices", [wire.invoice(i, tenant) for i in page], "x", 0, wire.pagination(6, 1000, size)
                )
            )
            return out.count(b'"InvoiceID"')

        seconds, ids = timed(body, repeats)
        row(f"xero page of 1,000 of {size:,} (serialise)", seconds, f"{ids} invoices")

    for latency_ms, faults in ((0, None), (100, "latency=50")):
        sb = XeroSandbox(
            seed=1,
            tenants=1,
            invoices_per_tenant=20,
            limits=RateLimits.unlimited(),
            latency_ms=latency_ms,
            faults=faults,
            autosave_seconds=0,
        ).start()
        try:
            token = sb.issue_tokens()["access_token"]
            headers = {
                "Authorization": f"Bearer {token}",
                "xero-tenant-id": sb.tenant_ids[0],
                "Accept": "application/json",
            }
            url = sb.accounting_url + "/Organisation"
            with requests.Session() as http:
                http.get(url, headers=headers, timeout=300).raise_for_status()  # warm the connection
                seconds, _ = timed(partial(http.get, url, headers=headers, timeout=300), repeats)
            row(f"xero one call, latency_ms={latency_ms}" + (f" + fault {faults}" if faults else ""), seconds)
        finally:
            sb.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qbo", type=int, default=100_000, help="QuickBooks invoices to seed (0: skip)")
    parser.add_argument("--xero", default="20000,100000", help="Xero invoice counts to add, comma-separated ('': skip)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}, repeats={args.repeats}")
    print()
    print("| step | first s | min s | median s | max s | runs | note |")
    print("|---|---:|---:|---:|---:|---:|---|")
    if args.qbo:
        quickbooks(args.qbo, args.repeats)
    sizes = [int(s) for s in args.xero.split(",") if s.strip()]
    if sizes:
        xero(sizes, args.repeats)


if __name__ == "__main__":
    main()
