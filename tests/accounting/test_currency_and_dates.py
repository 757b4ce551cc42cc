"""Scenarios 5–7: a currency the connection cannot post is never collected; the organisation's own
date and time zone; each currency's minor units."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from connector.domain.fingerprint import fingerprint
from connector.domain.money import Money
from connector.store.models import Connection
from connector.sync.calendar import local_today
from tests.books import audit_clearing


def test_a_foreign_currency_invoice_is_refused_for_collection_with_the_reason(book):
    book.sync()
    before = book.clearing_balance()
    ext = book.foreign_invoice()
    row = book.row(ext)
    assert row.status == "scheduled" and row.collection_date is None and row.needs_attention
    refused = book.platform("collection_started", ext)
    assert refused.outcome == "refused" and row.currency in refused.message and "not supported" in refused.message
    book.sync()
    assert book.collected_in_ledger(ext) == 0
    audit_clearing(book, before)


def test_xero_organisations_keep_their_own_time_zone(xero_book):
    book = xero_book
    book.world.sync("nz")
    book.world.sync("us")
    with book.rt.sessions() as session:
        zones = {c.name: (c.settings or {}).get("timezone") for c in session.query(Connection)}
        nz = session.query(Connection).filter_by(name="nz").one()
        us = session.query(Connection).filter_by(name="us").one()
        moment = datetime(2026, 5, 10, 14, 0, tzinfo=UTC)  # 11 May 02:00 in Auckland; 10 May 07:00 in LA
        assert (local_today(nz, moment).day, local_today(us, moment).day) == (11, 10)
    assert zones["nz"] == "Pacific/Auckland" and zones["us"].startswith("America/")


def test_minor_units_follow_iso_4217():
    assert fingerprint("A", "INV-1", Decimal("10.004"), "KWD") != fingerprint("A", "INV-1", Decimal("10.001"), "KWD")
    assert fingerprint("A", "INV-1", Decimal("10.001"), "NZD") == fingerprint("A", "INV-1", Decimal("10.00"), "NZD")
    assert (str(Money.of("1200", "JPY")), str(Money.of("10.004", "KWD")), str(Money.of("46", "NZD"))) == (
        "1200 JPY",
        "10.004 KWD",
        "46.00 NZD",
    )
