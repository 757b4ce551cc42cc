"""Invoice pages are read by the thread that writes them, not by the read-ahead thread.

Both adapters hand over their invoice pages unread (``InvoicePage.deferred``): the read-ahead
thread fetches, decodes and takes the update stamps it needs for the next request, and each
record is read (``parse_invoice``) on first use, in the importer's own thread. The pages, cursors
and records are the same as reading them at once, quarantined records and their stamps included.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

import connector.ledgers.quickbooks as qbo
import connector.ledgers.xero as xero
from connector.ledgers.records import InvoicePage, LedgerInvoice, Malformed
from connector.sandbox.xero import RateLimits, XeroSandbox
from connector.sync.importer import read_ahead
from tests.ledger_kit import qbo_adapter, xero_adapter

QBO_REALMS = 1


def parsed_in(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[str]:
    """The name of the thread each record of ``module``'s pages is read in."""
    threads: list[str] = []
    original = module.parse_invoice

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "parse_invoice", recording)
    return threads


def read_at_once(pages: Any) -> list[tuple[list[LedgerInvoice | Malformed], bool, str | None]]:
    """Each page's records read as soon as the page arrives, in this thread (no read-ahead)."""
    return [(page.records, page.more, page.cursor) for page in pages]


def consume(pages: Any) -> list[tuple[list[LedgerInvoice | Malformed], bool, str | None]]:
    return [(page.records, page.more, page.cursor) for page in read_ahead(pages)]


@pytest.fixture
def xero_books():
    with XeroSandbox(seed=7, tenants=1, invoices_per_tenant=60, limits=RateLimits.unlimited()) as sandbox:
        yield sandbox


def test_xero_pages_are_read_in_the_writing_thread_and_match_reading_at_once(xero_books, monkeypatch):
    tenant = xero_books.ledger.tenant(xero_books.tenant_ids[0])
    broken = next(i for i in tenant.invoices.values() if i.type == "ACCREC")
    broken.currency = "NZDX"  # quarantined: its stamp still moves the cursor
    eager = read_at_once(xero_adapter(xero_books, page_size=7).changed_invoices(None, timedelta(0)))
    threads = parsed_in(monkeypatch, xero)

    pages = consume(xero_adapter(xero_books, page_size=7).changed_invoices(None, timedelta(0)))

    assert pages == eager and len(pages) > 2
    assert any(isinstance(r, Malformed) and r.external_id == broken.id for p in pages for r in p[0])
    assert threads and set(threads) == {threading.current_thread().name}


def test_quickbooks_query_pages_are_read_in_the_writing_thread(make, monkeypatch):
    sb = make()
    eager = read_at_once(qbo_adapter(sb, page_size=4).changed_invoices(None, timedelta(0)))
    threads = parsed_in(monkeypatch, qbo)

    pages = consume(qbo_adapter(sb, page_size=4).changed_invoices(None, timedelta(0)))

    assert pages == eager and len(pages) > 2
    assert threads and set(threads) == {threading.current_thread().name}


def test_a_deferred_page_reads_its_records_once():
    calls: list[int] = []
    record = Malformed(external_id="x", reason="unreadable invoice: test", raw={})

    def read() -> list[LedgerInvoice | Malformed]:
        calls.append(1)
        return [record]

    page = InvoicePage.deferred(read, more=True, cursor="c")
    assert "unread" in repr(page) and calls == []
    assert page.records == [record] and page.records == [record]
    assert calls == [1]
    assert page == InvoicePage([record], True, "c")
