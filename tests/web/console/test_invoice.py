"""``/invoices/<id>``: the ledger's view beside the platform's, the timeline with who and why, the outbox."""

from __future__ import annotations

from sqlalchemy import select

from connector.store.models import Connection
from tests.web.console.conftest import queries_for


def test_both_views_side_by_side_with_a_link_into_xero(viewer, book):
    page = viewer.get(f"/invoices/{book.ids['submitted']}").get_data(as_text=True)
    assert 'id="platform-view">Platform<' in page and 'id="ledger-view">Xero<' in page
    assert "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=x-INV-0003" in page
    assert "Needs attention:</strong> the ledger changed the amount" in page
    assert '<span class="badge bad">Conflict</span>' in page


def test_quickbooks_link(viewer, book, runtime):
    with runtime.transaction() as session:
        session.scalars(select(Connection)).one().provider = "quickbooks"
    page = viewer.get(f"/invoices/{book.ids['submitted']}").get_data(as_text=True)
    assert "https://app.qbo.intuit.com/app/invoice?txnId=x-INV-0003" in page


def test_the_timeline_says_who_and_why(viewer, book):
    page = viewer.get(f"/invoices/{book.ids['failed']}").get_data(as_text=True)
    assert page.index("Imported") < page.index("Collection started") < page.index("Collection failed")
    assert "insufficient funds" in page and "by test platform" in page


def test_outbox_entries_with_their_state(viewer, book):
    page = viewer.get(f"/invoices/{book.ids['paid']}").get_data(as_text=True)
    assert "account archived" in page and "Rejected" in page and "pay-lost-1" in page
    assert "payment missing" in page  # its open reconciliation finding


def test_a_viewer_sees_no_actions_support_does(viewer, support, book):
    url = f"/invoices/{book.ids['duplicate']}"
    assert "Change status" not in viewer.get(url).get_data(as_text=True)
    page = support.get(url).get_data(as_text=True)
    assert "Change status" in page and "Mark as Original" in page


def test_unknown_invoice_is_404(viewer):
    assert viewer.get("/invoices/999999").status_code == 404


def test_a_fixed_number_of_queries_however_long_the_story(viewer, book, queries):
    short = queries_for(viewer, queries, f"/invoices/{book.ids['scheduled']}")
    long = queries_for(viewer, queries, f"/invoices/{book.ids['paid']}")
    assert short == long <= 5
