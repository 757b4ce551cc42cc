"""The Xero sandbox's update-ordered listing (one cached scan per filter, a bisect per page) gives
exactly what the plain evaluation gives: the same invoices in the same order, the same count for
``itemCount``, and the same error, for every ``If-Modified-Since``, ``where`` bound and order, and
after the books change. Counts and answers only: how fast it is is measured by
``bench/ledger_import.py``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.sandbox.common.clock import FakeClock
from connector.sandbox.xero import seed
from connector.sandbox.xero.listing import InvoiceQuery, QueryCache, invoice_fields, run_invoice_query
from connector.sandbox.xero.query import QueryError, update_lower_bound
from connector.sandbox.xero.state import Ledger, Tenant

WHERES = [
    None,
    'Type=="ACCREC"',
    'Type=="ACCPAY"',
    "AmountDue>0",
    'Status=="PAID" OR Status=="VOIDED"',
    'Contact.Name.Contains("a")',
    'AmountDue>"0"',  # a 400 on the first invoice it reads
    'FullyPaidOnDate>"x"',  # a 400 only when a paid invoice is in range: depends on where paging starts
    'Type=="ACCREC" AND FullyPaidOnDate>"x"',
    "{bound}",
    'Type=="ACCREC" AND {bound}',
    '{bound} AND Status!="DELETED"',
    'Status!="DRAFT" && {bound} && AmountDue>0',
    'AmountDue>"0" AND {bound}',  # the bound cannot be lifted past a conjunct that raises
    '{bound} AND FullyPaidOnDate>"x"',
    '({bound} AND Type=="ACCREC")',
    '{bound} OR Type=="ACCPAY"',
    'UpdatedDateUTC<DateTime(2100,1,1) AND {bound} AND Type=="ACCREC"',
]
ORDERS = [None, "UpdatedDateUTC", "UpdatedDateUTC ASC", "UpdatedDateUTC DESC", " updateddateutc desc ,", "Total DESC"]


def _ledger() -> tuple[Ledger, Tenant]:
    ledger = Ledger(FakeClock(datetime(2026, 12, 2, 3, 0, tzinfo=UTC)), id_seed=7)
    (tenant, _) = seed.seed_ledger(ledger, 7, tenants=2, invoices_per_tenant=300)
    return ledger, tenant


LEDGER, TENANT = _ledger()
CACHE = QueryCache()


def _outcome(fn: Any) -> tuple[Any, ...]:
    try:
        found = fn()
    except QueryError as exc:
        return ("400", str(exc))
    ids = [inv.id for inv in found]
    pages = [[inv.id for inv in found[start : start + 7]] for start in range(0, len(found) + 7, 7)]
    return ("200", len(found), ids, pages, [found[i].id for i in (0, -1)] if len(found) else [])


def _stamp(position: int) -> int | None:
    keys = TENANT._keys
    if position < 0:
        return None
    if position >= len(keys):
        return keys[-1][0] + 1
    return keys[position][0]


def _bound(position: int, strict: bool) -> str:
    ms = _stamp(max(position, 0)) or 0
    moment = datetime.fromtimestamp(ms // 1000, UTC)
    literal = f"DateTime({moment.year},{moment.month},{moment.day},{moment.hour},{moment.minute},{moment.second})"
    return f"UpdatedDateUTC{'>' if strict else '>='}{literal}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    where=st.sampled_from(WHERES),
    order=st.sampled_from(ORDERS),
    since=st.integers(min_value=-1, max_value=310),
    bound_at=st.integers(min_value=0, max_value=310),
    strict=st.booleans(),
    statuses=st.sampled_from([(), ("PAID",), ("AUTHORISED", "DRAFT")]),
    change=st.integers(min_value=0, max_value=12),
)
def test_the_scan_answers_exactly_as_the_plain_evaluation(
    where: str | None,
    order: str | None,
    since: int,
    bound_at: int,
    strict: bool,
    statuses: tuple[str, ...],
    change: int,
) -> None:
    if change == 0:  # now and then the books change: a new version, the scans start again
        inv = next(i for i in TENANT.invoices_by_update() if i.status == "DRAFT")
        LEDGER.update_invoice(TENANT.id, inv.id, reference=f"changed {inv.seq}")
    query = InvoiceQuery(
        since_ms=_stamp(since),
        where=where.format(bound=_bound(bound_at, strict)) if where else None,
        order=order,
        statuses=statuses,
    )
    assert _outcome(lambda: CACHE.invoices(TENANT, query)) == _outcome(lambda: run_invoice_query(TENANT, query))


def test_an_import_pages_through_one_scan() -> None:
    """Keyset paging (the adapter's query, a later If-Modified-Since each page) evaluates each
    invoice once: the first page builds the scan, the later ones only bisect into it."""
    _, tenant = _ledger()
    cache = QueryCache()
    calls = 0
    fields = invoice_fields(tenant)
    real_type = fields["Type"]

    def counting(inv: Any) -> Any:
        nonlocal calls
        calls += 1
        return real_type(inv)

    import connector.sandbox.xero.listing as listing

    original = listing.invoice_fields
    listing.invoice_fields = lambda t: {**original(t), "Type": counting}  # type: ignore[assignment]
    try:
        since: int | None = None
        seen: list[str] = []
        while True:
            q = InvoiceQuery(since_ms=since, where='Type=="ACCREC"', order="UpdatedDateUTC ASC")
            page = cache.invoices(tenant, q)[0:50]
            fresh = [inv for inv in page if inv.id not in seen]
            seen.extend(inv.id for inv in fresh)
            if len(page) < 50:
                break
            since = page[-1].updated_ms
    finally:
        listing.invoice_fields = original  # type: ignore[assignment]
    accrec = [inv.id for inv in tenant.invoices_by_update() if inv.type == "ACCREC"]
    assert seen == accrec
    assert calls == len(tenant.invoices)


@pytest.mark.parametrize(
    ("where", "lifted"),
    [
        ('Type=="ACCREC" AND UpdatedDateUTC>=DateTime(2024,1,2)', ("Type", "==", '"ACCREC"')),
        ("UpdatedDateUTC>DateTime(2024,1,2,3,4,5)", ()),
        ('UpdatedDateUTC>=DateTime.Parse("2024-01-02T03:04:05") AND AmountDue>0', ("AmountDue", ">", "0")),
        ("AmountDue>0 AND UpdatedDateUTC>=DateTime(2024,1,2)", None),
        ('Type=="ACCREC" OR UpdatedDateUTC>=DateTime(2024,1,2)', None),
        ("UpdatedDateUTC>=2024", None),
        ("UpdatedDateUTC<=DateTime(2024,1,2)", None),
    ],
)
def test_which_bounds_are_lifted(where: str, lifted: tuple[str, ...] | None) -> None:
    bound = update_lower_bound(where, invoice_fields(TENANT))
    assert (bound.rest_key if bound else None) == lifted
