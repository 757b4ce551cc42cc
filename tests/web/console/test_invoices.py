"""``/invoices``: filters, search by number, customer, amount or ledger id, keyset pages, CSV downloads."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from tests.web.console.conftest import TODAY, more_invoices, queries_for


def numbers(page: str) -> list[str]:
    return re.findall(r'<td><a href="/invoices/\d+">([^<]+)</a></td>', page)


def test_lists_newest_first(viewer, book):
    found = numbers(viewer.get("/invoices").get_data(as_text=True))
    assert found[:2] == ["INV-0100", "INV-0100"] and found[-1] == "INV-0001"


def test_search_by_number_customer_amount_and_ledger_id(viewer, book):
    assert numbers(viewer.get("/invoices?q=INV-0002").get_data(as_text=True)) == ["INV-0002"]
    assert numbers(viewer.get("/invoices?q=inv-0002").get_data(as_text=True)) == ["INV-0002"]  # any case
    assert numbers(viewer.get("/invoices?q=harbour").get_data(as_text=True)) == ["INV-0002"]
    assert numbers(viewer.get("/invoices?q=80.5").get_data(as_text=True)) == ["INV-0002"]
    assert numbers(viewer.get("/invoices?q=x-INV-0002").get_data(as_text=True)) == ["INV-0002"]
    assert numbers(viewer.get("/invoices?q=INV-000").get_data(as_text=True)) == [f"INV-000{i}" for i in range(5, 0, -1)]
    # LIKE's wildcards are searched for, not obeyed
    assert numbers(viewer.get("/invoices?q=%25").get_data(as_text=True)) == []


def test_filters_by_connection_status_and_date(viewer, book):
    assert numbers(viewer.get("/invoices?status=submitted").get_data(as_text=True)) == ["INV-0003"]
    page = viewer.get(f"/invoices?connection={book.connection_id}&status=duplicate").get_data(as_text=True)
    assert numbers(page) == ["INV-0100"]
    since = (TODAY - timedelta(days=1)).isoformat()
    assert numbers(viewer.get(f"/invoices?from={since}").get_data(as_text=True)) == []
    assert len(numbers(viewer.get(f"/invoices?to={since}").get_data(as_text=True))) == 7
    page = viewer.get("/invoices?from=yesterday").get_data(as_text=True)
    assert "a date such as 2026-03-31" in page and 'aria-invalid="true"' in page


def test_keyset_pages_forward_and_back(viewer, book, runtime):
    more_invoices(runtime, 60)
    first = viewer.get("/invoices").get_data(as_text=True)
    after = re.search(r"after=(\d+)", first).group(1)
    second = viewer.get(f"/invoices?after={after}").get_data(as_text=True)
    assert len(numbers(first)) == 50 and len(numbers(second)) == 17
    assert not set(numbers(first)) & {n for n in numbers(second) if n.startswith("BULK")}
    before = re.search(r"before=(\d+)", second).group(1)
    assert numbers(viewer.get(f"/invoices?before={before}").get_data(as_text=True)) == numbers(first)


def test_a_fixed_number_of_queries_at_any_page(viewer, book, runtime, queries):
    small = queries_for(viewer, queries, "/invoices?q=customer")
    more_invoices(runtime, 150)
    # person, exact probe (number or ledger id), connections, the page
    assert queries_for(viewer, queries, "/invoices?q=customer") == small <= 4
    assert queries_for(viewer, queries, "/invoices?q=INV-0002") <= small
    assert queries_for(viewer, queries, "/invoices?after=60&status=scheduled") == small - 1


def test_csv_has_a_row_per_filtered_invoice(viewer, book):
    response = viewer.get("/invoices.csv?q=INV-000")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["number"] for r in rows] == [f"INV-000{i}" for i in range(5, 0, -1)]
    failed = next(r for r in rows if r["number"] == "INV-0002")
    assert (failed["status"], failed["attempts"], failed["total"], failed["external_id"]) == (
        "scheduled",
        "1",
        "80.50",
        "x-INV-0002",
    )


def test_detailed_csv_has_a_row_per_event(viewer, book):
    response = viewer.get("/invoices-detailed.csv?q=INV-0002")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["kind"] for r in rows] == ["imported", "collection_started", "collection_failed"]
    assert rows[-1]["actor"] == "test platform" and "insufficient funds" in rows[-1]["detail"]


def test_csv_cells_cannot_become_formulas(viewer, book, runtime):
    from tests.web.console.conftest import add_invoices, new

    add_invoices(runtime, [new("INV-9", contact="=HYPERLINK(1)")])
    rows = list(csv.DictReader(io.StringIO(viewer.get("/invoices.csv?q=INV-9").get_data(as_text=True))))
    assert rows[0]["contact"] == "'=HYPERLINK(1)"
