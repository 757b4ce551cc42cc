"""QuickBooks reads what changed by change data capture first: a run with nothing new is one call.

The real adapter, python-quickbooks and intuit-oauth against the QuickBooks sandbox over HTTP. Each
test counts the calls twice: the adapter's own counter and the sandbox's log of the Accounting API
requests it answered. CDC first when the cursor's ``cdc`` stamp is inside the 30-day window and the
answer holds fewer than 1,000 objects; the query path otherwise (first import, an old cursor, a full
CDC answer), and then no deletion may be lost.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

import connector.ledgers.quickbooks as qbo
from connector.ledgers.calls import RetrySettings
from connector.ledgers.quickbooks import QuickBooksLedger
from connector.ledgers.quickbooks_wire import DELETED, INVOICE, VOIDED, parse_stamp
from connector.ledgers.records import LedgerInvoice, Malformed
from connector.sandbox.common.recording import Exchange
from connector.sandbox.quickbooks import QuickBooksSandbox
from tests.ledger_kit import qbo_adapter

FAST = RetrySettings(attempts=4, base_delay=0.01, max_delay=0.05, timeout=10)
OVERLAP = timedelta(minutes=5)


#: One company is enough here (tests/ledgers/conftest.py).
QBO_REALMS = 1


class ApiLog:
    """The sandbox's own record of the Accounting API requests it answered (method, path)."""

    def __init__(self, sb: QuickBooksSandbox) -> None:
        self.requests: list[tuple[str, str]] = []
        self.hooks: list[Callable[[Exchange], None]] = []
        sb.add_observer(self)

    def __call__(self, exchange: Exchange) -> None:
        if exchange.area == "api":
            self.requests.append((exchange.method, exchange.path.rsplit("/", 1)[-1]))
            for hook in self.hooks:
                hook(exchange)

    def clear(self) -> None:
        self.requests.clear()


@dataclass
class Run:
    records: list[LedgerInvoice | Malformed]
    cursor: str

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.cursor)

    def by_id(self) -> dict[str, LedgerInvoice]:
        return {r.external_id: r for r in self.records if isinstance(r, LedgerInvoice)}


def run(ledger: QuickBooksLedger, cursor: str | None, overlap: timedelta = OVERLAP) -> Run:
    """Every page of one run, as the importer takes them (the last cursor given is the one kept)."""
    records: list[LedgerInvoice | Malformed] = []
    kept = cursor
    for page in ledger.changed_invoices(cursor, overlap):
        records.extend(page.records)
        kept = page.cursor or kept
    assert kept is not None
    return Run(records, kept)


def adapter(sb: QuickBooksSandbox, **options: Any) -> QuickBooksLedger:
    return qbo_adapter(sb, retry=FAST, **options)


def first_import(sb: QuickBooksSandbox, log: ApiLog) -> Run:
    """The first import: by query only, never CDC; its cursor holds both stamps."""
    ledger = adapter(sb)
    done = run(ledger, None)
    assert "cdc" not in ledger.calls.counts and ("GET", "cdc") not in log.requests
    assert set(done.state) == {"q", "cdc"}
    log.clear()
    return done


def imported_company(make: Callable[..., QuickBooksSandbox]) -> tuple[QuickBooksSandbox, str, ApiLog, Run]:
    """A company, the log of its API requests, and its first import done."""
    sb = make()
    log = ApiLog(sb)
    return sb, sb.realm_ids[0], log, first_import(sb, log)


def shifted(cursor: str, by: timedelta) -> str:
    """The same cursor, both stamps ``by`` earlier (a connection that was not synced for a while)."""
    return json.dumps({k: (parse_stamp(v) - by).isoformat() for k, v in json.loads(cursor).items()})


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """No company's Preferences remembered (what a new process starts with)."""
    monkeypatch.setattr(qbo, "_PREFERENCES", {})


# --- one call -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("process", ["same process", "new process"])
def test_a_sync_with_nothing_new_is_one_cdc_call(
    make: Callable[..., QuickBooksSandbox], monkeypatch: pytest.MonkeyPatch, process: str
) -> None:
    sb = make()
    log = ApiLog(sb)
    imported = first_import(sb, log)
    sb.advance(minutes=10)  # past the overlap: nothing to read again
    if process == "new process":
        monkeypatch.setattr(qbo, "_PREFERENCES", {})
    ledger = adapter(sb)  # a fresh adapter, as every sync makes
    again = run(ledger, imported.cursor)
    assert ledger.calls.counts == {"cdc": 1} and ledger.calls.total == 1
    assert log.requests == [("GET", "cdc")]
    assert again.records == []
    assert again.state["q"] == imported.state["q"]
    assert parse_stamp(again.state["cdc"]) - parse_stamp(imported.state["cdc"]) == timedelta(minutes=10)

    ledger = adapter(sb)
    assert run(ledger, again.cursor).records == [] and ledger.calls.counts == {"cdc": 1}


def test_the_overlap_read_again_costs_no_preferences_call(
    make: Callable[..., QuickBooksSandbox], fresh_process: None
) -> None:
    """Right after an import the overlap holds invoices: read again, in the same one call, even in a
    new process (they name their currency: the company's Preferences are not needed)."""
    sb = make()
    log = ApiLog(sb)
    recent = sb.create_invoice(sb.realm_ids[0], amount="12.00")
    imported = first_import(sb, log)
    sb.advance(seconds=30)
    qbo._PREFERENCES.clear()
    ledger = adapter(sb)
    again = run(ledger, imported.cursor)
    assert ledger.calls.counts == {"cdc": 1} and log.requests == [("GET", "cdc")]
    assert recent.id in again.by_id()
    assert again.state["q"] == imported.state["q"]  # the same record twice: the cursor stays


def test_changed_voided_and_deleted_invoices_arrive_in_the_one_cdc_call(make: Callable[..., QuickBooksSandbox]) -> None:
    sb = make()
    realm = sb.realm_ids[0]
    log = ApiLog(sb)
    paid, voided, deleted = (sb.create_invoice(realm, amount="40.00") for _ in range(3))
    imported = first_import(sb, log)
    sb.advance(minutes=10)
    sb.record_payment(realm, paid.id, "15.00")
    sb.advance(seconds=5)
    sb.void_invoice(realm, voided.id)
    sb.advance(seconds=5)
    sb.delete_invoice(realm, deleted.id)
    sb.advance(seconds=5)
    new = sb.create_invoice(realm, amount="70.00")
    sb.advance(seconds=5)

    ledger = adapter(sb)
    seen = run(ledger, imported.cursor)
    assert ledger.calls.counts == {"cdc": 1} and log.requests == [("GET", "cdc")]
    found = seen.by_id()
    assert set(found) == {paid.id, voided.id, deleted.id, new.id}
    assert (found[paid.id].status, found[paid.id].amount_due) == (INVOICE, Decimal("25.00"))
    assert (found[voided.id].status, found[voided.id].total) == (VOIDED, 0)
    assert found[deleted.id].status == DELETED
    assert (found[new.id].status, found[new.id].total) == (INVOICE, Decimal("70.00"))
    assert ledger.utc_offset_minutes == sb.realms[0].utc_offset_minutes

    # Read as a query page reads them: the same records (the payments' notes are filled in by get_invoices).
    def fields(r: LedgerInvoice) -> tuple[Any, ...]:
        return (r.number, r.contact_name, r.currency, r.total, r.amount_due, r.due_date, r.status, r.updated_at)

    queried = {r.external_id: r for r in ledger.get_invoices([paid.id, voided.id, new.id])}
    assert {i: fields(found[i]) for i in queried} == {i: fields(r) for i, r in queried.items()}  # type: ignore[arg-type]

    live = [r.updated_at for r in seen.records if r.status != DELETED and r.updated_at]
    assert seen.state["q"] == max(live).isoformat()
    assert parse_stamp(seen.state["cdc"]) == sb.clock.now().replace(microsecond=0)

    later = adapter(sb)
    again = run(later, seen.cursor)  # the overlap read again: the same records, the cursor where it was
    assert later.calls.counts == {"cdc": 1}
    assert set(again.by_id()) <= set(found) and again.state["q"] == seen.state["q"]


def test_an_invoice_the_store_cannot_hold_is_quarantined_and_passed(make: Callable[..., QuickBooksSandbox]) -> None:
    sb = make()
    log = ApiLog(sb)
    imported = first_import(sb, log)
    sb.advance(minutes=10)
    huge = sb.create_invoice(sb.realm_ids[0], amount="5000.00")
    sb.advance(seconds=5)
    ledger = adapter(sb, max_amount=Decimal("1000"))
    seen = run(ledger, imported.cursor)
    assert ledger.calls.counts == {"cdc": 1}
    [record] = seen.records
    assert isinstance(record, Malformed) and record.external_id == huge.id
    assert record.raw["TotalAmt"] == Decimal("5000.00")
    assert seen.state["q"] == record.updated_at.isoformat()  # the cursor moves past it


# --- the cap: 1,000 objects ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "by_query"), [(999, False), (1000, True)])
def test_a_full_cdc_answer_is_not_taken_as_complete(
    make: Callable[..., QuickBooksSandbox], changes: int, by_query: bool
) -> None:
    """999 objects: the whole answer. 1,000: perhaps cut short, so the query path reads them."""
    sb, realm, log, imported = imported_company(make)
    made = []
    for n in range(changes):
        if n % 10 == 0:
            sb.advance(seconds=1)
        made.append(sb.create_invoice(realm, amount="3.00").id)
    ledger = adapter(sb)
    seen = run(ledger, imported.cursor, overlap=timedelta(0))
    if by_query:  # the first CDC answer, the query pages, then CDC again for the deletions
        assert ledger.calls.counts["query"] >= 1 and ledger.calls.counts["cdc"] == 2
        assert log.requests[:2] == [("GET", "cdc"), ("POST", "query")] and log.requests[-1] == ("GET", "cdc")
    else:
        assert ledger.calls.counts == {"cdc": 1}
    assert set(made) <= set(seen.by_id())


def test_more_than_1000_changes_fall_back_to_query_pages_and_lose_no_deletion(
    make: Callable[..., QuickBooksSandbox],
) -> None:
    sb = make()
    realm = sb.realm_ids[0]
    log = ApiLog(sb)
    known = sb.create_invoice(realm, amount="8.00")
    imported = first_import(sb, log)
    sb.advance(minutes=10)
    made: list[str] = []

    def flood(count: int) -> None:
        for n in range(count):
            if n % 10 == 0:
                sb.advance(seconds=1)
            made.append(sb.create_invoice(realm, amount="2.00").id)

    sb.delete_invoice(realm, known.id)  # oldest change: in the first CDC answer
    flood(600)
    sb.advance(seconds=1)
    sb.delete_invoice(realm, made[10])  # about the 600th change
    flood(600)
    sb.advance(seconds=1)
    sb.delete_invoice(realm, made[700])  # the newest: past the first 1,000 objects
    sb.advance(minutes=10)  # the next run's overlap will not hold the flood
    deleted = {known.id, made[10], made[700]}

    ledger = adapter(sb, page_size=500)
    seen = run(ledger, imported.cursor)
    counts = ledger.calls.counts
    assert counts["query"] >= 3 and counts["cdc"] >= 2
    assert log.requests[0] == ("GET", "cdc") and log.requests[1] == ("POST", "query")
    found = seen.by_id()
    assert {i for i, r in found.items() if r.status == DELETED} == deleted
    assert {i for i, r in found.items() if r.status != DELETED} >= set(made) - deleted
    assert parse_stamp(seen.state["q"]) == max(r.updated_at for r in found.values() if r.status != DELETED)

    later = adapter(sb)
    assert run(later, seen.cursor).records == [] and later.calls.counts == {"cdc": 1}


def test_a_change_made_while_the_deletions_are_read_is_not_skipped(make: Callable[..., QuickBooksSandbox]) -> None:
    """The fallback's cursor takes CDC up from its last query page, not from its last CDC answer: the
    next run may read by CDC alone, and an invoice changed between the two must still be in it."""
    sb, realm, log, imported = imported_company(make)
    sb.advance(minutes=10)
    for n in range(1001):
        if n % 10 == 0:
            sb.advance(seconds=1)
        sb.create_invoice(realm, amount="2.00")
    sb.advance(minutes=10)  # the next run's overlap will not hold the flood
    late: list[str] = []

    def after_the_last_query_page(exchange: Exchange) -> None:
        if late or not exchange.path.endswith("/query"):
            return
        if json.loads(exchange.body)["QueryResponse"].get("maxResults", 0) < 1000:
            late.append(sb.create_invoice(realm, amount="9.00").id)
            sb.advance(minutes=10)  # the deletions take a while to read

    log.hooks.append(after_the_last_query_page)
    ledger = adapter(sb)
    seen = run(ledger, imported.cursor)
    assert late and late[0] not in seen.by_id() and ledger.calls.counts["cdc"] >= 2
    log.hooks.clear()

    sb.advance(seconds=30)
    later = adapter(sb)
    assert late[0] in run(later, seen.cursor).by_id()
    assert later.calls.counts == {"cdc": 1}


# --- the window and the cursor ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "first_call"), [(timedelta(days=28), "cdc"), (timedelta(days=30), "query")])
def test_a_cursor_older_than_cdc_window_is_read_by_query(
    make: Callable[..., QuickBooksSandbox], age: timedelta, first_call: str
) -> None:
    sb, realm, log, imported = imported_company(make)
    sb.advance(minutes=10)
    changed = sb.create_invoice(realm, amount="11.00")
    ledger = adapter(sb)
    seen = run(ledger, shifted(imported.cursor, age))
    assert log.requests[0][1] == first_call
    if first_call == "query":
        assert ledger.calls.counts["query"] >= 1 and ledger.calls.counts["cdc"] == 1  # deletions, inside the window
    else:
        assert ledger.calls.counts == {"cdc": 1}
    assert changed.id in seen.by_id()
    assert parse_stamp(seen.state["cdc"]) > parse_stamp(imported.state["cdc"])


def test_a_cursor_without_a_cdc_stamp_is_read_by_query_then_gets_one(make: Callable[..., QuickBooksSandbox]) -> None:
    sb = make()
    log = ApiLog(sb)
    imported = first_import(sb, log)
    only_q = json.dumps({"q": imported.state["q"]})
    sb.advance(minutes=10)
    ledger = adapter(sb)
    seen = run(ledger, only_q)
    assert log.requests == [("POST", "query")] and "cdc" not in ledger.calls.counts
    assert set(seen.state) == {"q", "cdc"}
    sb.advance(minutes=10)
    later = adapter(sb)
    assert run(later, seen.cursor).records == [] and later.calls.counts == {"cdc": 1}
