"""The duplicates and conflicts queues, with mark-original and resolve on the invoice."""

from __future__ import annotations

from tests.web.console.conftest import more_invoices, queries_for


def test_the_duplicates_queue_names_the_original(viewer, book):
    page = viewer.get("/queues/duplicates").get_data(as_text=True)
    assert f'<a href="/invoices/{book.ids["original"]}">INV-0100</a> in (platform)' in page
    assert "Mark as Original" not in page  # a viewer has no buttons


def test_mark_original_is_confirmed_audited_and_processed(support, book):
    invoice_id = book.ids["duplicate"]
    page = support.get(f"/invoices/{invoice_id}/mark-original").get_data(as_text=True)
    assert "Mark it as its own invoice?" in page
    version = book.invoice("duplicate").version
    response = support.post(f"/invoices/{invoice_id}/mark-original", {"reason": "two real orders", "version": version})
    assert response.status_code == 302
    assert book.invoice("duplicate").status == "scheduled"
    timeline = support.get(f"/invoices/{invoice_id}").get_data(as_text=True)
    assert "Mark original" in timeline and "two real orders" in timeline and "by support" in timeline
    assert f'/invoices/{invoice_id}"' not in support.get("/queues/duplicates").get_data(as_text=True)


def test_mark_original_refusals_change_nothing(support, viewer, book):
    invoice_id = book.ids["duplicate"]
    assert support.post(f"/invoices/{invoice_id}/mark-original", {"reason": ""}).status_code == 400
    stale = support.post(f"/invoices/{invoice_id}/mark-original", {"reason": "x", "version": 99})
    assert stale.status_code == 409 and "changed since you opened the page" in stale.get_data(as_text=True)
    assert viewer.post(f"/invoices/{invoice_id}/mark-original", {"reason": "x"}).status_code == 403
    assert book.invoice("duplicate").status == "duplicate"
    not_a_duplicate = support.post(f"/invoices/{book.ids['scheduled']}/mark-original", {"reason": "x"})
    assert not_a_duplicate.status_code == 409 and "only a duplicate" in not_a_duplicate.get_data(as_text=True)


def test_the_conflicts_queue_and_keeping_the_platforms_view(support, book):
    page = support.get("/queues/conflicts").get_data(as_text=True)
    assert "INV-0003" in page and "while a direct debit is in flight" in page
    invoice_id = book.ids["submitted"]
    version = book.invoice("submitted").version
    response = support.post(
        f"/invoices/{invoice_id}/resolve",
        {"resolution": "keep_platform", "note": "debit already with the bank", "version": version},
    )
    assert response.status_code == 302
    row = book.invoice("submitted")
    assert not row.needs_attention and row.status == "submitted"
    assert f'/invoices/{invoice_id}"' not in support.get("/queues/conflicts").get_data(as_text=True)
    assert "debit already with the bank" in support.get(f"/invoices/{invoice_id}").get_data(as_text=True)


def test_resolve_refusals_change_nothing(support, viewer, book):
    invoice_id = book.ids["submitted"]
    bad = support.post(f"/invoices/{invoice_id}/resolve", {"resolution": "shrug", "note": "x"})
    assert bad.status_code == 400 and "resolution: expected one of" in bad.get_data(as_text=True)
    assert (
        support.post(f"/invoices/{invoice_id}/resolve", {"resolution": "keep_platform", "note": ""}).status_code == 400
    )
    stale = support.post(f"/invoices/{invoice_id}/resolve", {"resolution": "keep_platform", "note": "x", "version": 99})
    assert stale.status_code == 409
    assert (
        viewer.post(f"/invoices/{invoice_id}/resolve", {"resolution": "keep_platform", "note": "x"}).status_code == 403
    )
    assert book.invoice("submitted").needs_attention
    nothing = support.post(f"/invoices/{book.ids['scheduled']}/resolve", {"resolution": "keep_platform", "note": "x"})
    assert nothing.status_code == 409 and "nothing needs attention" in nothing.get_data(as_text=True)


def test_queue_pages_run_a_fixed_number_of_queries(viewer, book, runtime, queries):
    urls = ["/queues", "/queues/conflicts", "/queues/duplicates", "/queues/quarantine", "/queues/failed"]
    before = [queries_for(viewer, queries, u) for u in urls]
    more_invoices(runtime, 80)
    assert [queries_for(viewer, queries, u) for u in urls] == before
    assert max(before) <= 4
