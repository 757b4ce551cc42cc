"""The kinds that only tell the timeline (link opened, mandate), a payment made elsewhere, and a
payout's expected arrival: each shown in the invoice's timeline, read back through the API."""

from __future__ import annotations

from sqlalchemy import func, select

from connector.store.models import Invoice, OutboxEntry
from tests.actions.conftest import add_invoice


def _events(platform, invoice_id: int) -> list[tuple[str, str]]:
    return [(e["kind"], e["detail"]) for e in platform.get(f"/api/v1/invoices/{invoice_id}").json["events"]]


def test_link_opened_and_mandate_progress_are_in_the_timeline(platform, api_rt) -> None:
    invoice_id = add_invoice(api_rt, "INV-1")
    for kind in ("mandate_pending", "mandate_active", "payment_link_opened"):
        response = platform.post({"kind": kind, "invoice": "INV-1", "occurred_on": "2026-12-01"})
        assert response.status_code == 200 and response.json["invoices"][0]["outcome"] == "no_change"
    assert _events(platform, invoice_id)[-3:] == [
        ("mandate_pending", "the customer's direct debit mandate is being set up on 2026-12-01"),
        ("mandate_active", "the customer's direct debit mandate is active on 2026-12-01"),
        ("payment_link_opened", "the customer opened the payment link on 2026-12-01"),
    ]
    with api_rt.sessions() as session:
        assert session.get(Invoice, invoice_id).status == "scheduled"


def test_an_external_payment_pays_the_invoice_and_posts_nothing(platform, api_rt) -> None:
    invoice_id = add_invoice(api_rt, "INV-1")
    response = platform.post(
        {"kind": "external_payment", "invoice": "INV-1", "reason": "bank transfer", "reference": "BT-9"}
    )
    assert response.status_code == 200 and response.json["invoices"][0]["to_status"] == "paid"
    with api_rt.sessions() as session:
        row = session.get(Invoice, invoice_id)
        assert (row.status, row.paid_via) == ("paid", "external")
        assert session.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.kind == "payment")) == 0
    started = platform.post({"kind": "collection_started", "invoice": "INV-1"})
    assert started.status_code == 409  # nothing left to collect


def test_a_payout_says_when_the_money_should_arrive(platform, api_rt) -> None:
    invoice_id = add_invoice(api_rt, "INV-1")
    platform.post({"kind": "collection_started", "invoice": "INV-1"})
    platform.post({"kind": "collection_confirmed", "invoice": "INV-1"})
    platform.post(
        {"kind": "payout", "invoices": ["INV-1"], "fee": "1.00", "reference": "PO-7", "expected_arrival": "2026-12-04"}
    )
    assert ("payout_expected", "payout PO-7 expected in the bank on 2026-12-04") in _events(platform, invoice_id)
