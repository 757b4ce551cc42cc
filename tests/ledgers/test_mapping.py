"""mappings/xero.toml places every Xero status; an unknown one is quarantined, a bill is skipped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connector.domain import LedgerStatus
from connector.ledgers.records import LedgerInvoice
from connector.mapping import Placement, Skip, Unmapped, load_mapping

BASE = LedgerInvoice(
    external_id="x",
    number="INV-1",
    contact_name="A",
    currency="GBP",
    total=Decimal(100),
    amount_due=Decimal(100),
    amount_paid=Decimal(0),
    issue_date=None,
    due_date=None,
    status="AUTHORISED",
    type="ACCREC",
    updated_at=datetime(2026, 1, 1, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("status", "due", "paid", "expected", "label"),
    [
        ("DRAFT", 100, 0, LedgerStatus.DRAFT, "draft"),
        ("SUBMITTED", 100, 0, LedgerStatus.DRAFT, "awaiting approval"),
        ("AUTHORISED", 100, 0, LedgerStatus.OPEN, "awaiting payment"),
        ("AUTHORISED", 60, 40, LedgerStatus.OPEN, "partly paid"),
        ("AUTHORISED", 0, 0, LedgerStatus.PAID, "nothing left to pay"),
        ("PAID", 0, 100, LedgerStatus.PAID, "paid"),
        ("VOIDED", 0, 0, LedgerStatus.VOIDED, "voided"),
        ("DELETED", 100, 0, LedgerStatus.VOIDED, "deleted"),
    ],
)
def test_each_xero_status(status, due, paid, expected, label):
    record = replace(BASE, status=status, amount_due=Decimal(due), amount_paid=Decimal(paid))
    placement = load_mapping("xero").place(record)
    assert isinstance(placement, Placement)
    assert placement.ledger_status is expected and label in placement.label


def test_bills_and_credit_notes_are_not_collected_and_unknowns_are_quarantined():
    mapping = load_mapping("xero")
    assert isinstance(mapping.place(replace(BASE, type="ACCPAY")), Skip)
    unknown = mapping.place(replace(BASE, status="ARCHIVED"))
    assert isinstance(unknown, Unmapped) and "'ARCHIVED'" in unknown.reason
    assert isinstance(mapping.place(replace(BASE, type="SOMETHINGNEW")), Unmapped)
