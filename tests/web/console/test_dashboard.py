"""``/``: a card per connection with counts, sync health, attention items and a 30-day chart."""

from __future__ import annotations

import re

from sqlalchemy import select

from connector.store.models import Connection
from tests.web.console.conftest import more_invoices, queries_for


def test_a_card_per_connection_with_counts_health_and_attention(viewer, book):
    page = viewer.get("/").get_data(as_text=True)
    assert "acme" in page
    # at a glance: one paid (processed) against the rest, in words as well as colour
    assert re.search(r'glance-n">1</span> fully processed', page)
    assert re.search(r'glance-n">5</span> waiting or needing attention', page)
    # counts per status link to the filtered list
    assert re.search(r'aria-label="1 duplicate invoices in acme"><span class="n">1<', page)
    assert re.search(r'aria-label="2 scheduled invoices in acme"><span class="n">2<', page)
    # sync health: the last run, and the calls against Xero's daily limit
    assert "12 of 5,000" in page and "Succeeded" in page
    # attention items
    for text in ("1 conflicts", "1 duplicates awaiting a decision", "1 quarantined records", "1 failed pushes"):
        assert text in page
    assert "1 reconciliation mismatches" in page


def test_the_chart_is_server_side_svg_without_inline_styles(viewer, book):
    page = viewer.get("/").get_data(as_text=True)
    svg = page[page.index('<svg viewBox="0 0 640') : page.index("</svg>", page.index('<svg viewBox="0 0 640'))]
    assert svg.count("<g><title>") == 30  # a bar per day
    assert "style=" not in page and "<script" not in page
    assert 'class="st-scheduled"' in svg
    # every bar says its numbers in words
    assert re.search(r"<title>\d{4}-\d\d-\d\d: .*2 scheduled", svg)


def test_needs_reconnect_is_red_with_the_reconnect_link(viewer, book, runtime):
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        conn.state, conn.state_reason = "needs_reconnect", "the refresh token was revoked (invalid_grant)"
    page = viewer.get("/").get_data(as_text=True)
    assert "Needs reconnect." in page and "invalid_grant" in page
    assert '<a class="button danger" href="/connections">Reconnect</a>' in page
    assert "not until reconnected" in page


def test_quickbooks_says_it_has_no_daily_cap(viewer, book, runtime):
    with runtime.transaction() as session:
        session.scalars(select(Connection)).one().provider = "quickbooks"
    page = viewer.get("/").get_data(as_text=True)
    assert "QuickBooks Online has no daily cap" in page


def test_a_fixed_number_of_queries_whatever_the_data(viewer, book, runtime, queries):
    before = queries_for(viewer, queries, "/")
    more_invoices(runtime, 120)
    assert queries_for(viewer, queries, "/") == before <= 8


def test_anonymous_goes_to_login(anonymous):
    assert anonymous.get("/").status_code == 302
