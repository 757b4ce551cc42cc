"""``POST /api/v1/events``: each kind through the same actions as the CLI, with clear errors."""

from __future__ import annotations

from sqlalchemy import select

from connector.store.models import ActivityEvent, Invoice, OutboxEntry
from tests.actions.conftest import add_invoice


def _invoice(rt, number: str) -> Invoice:
    with rt.sessions() as session:
        return session.scalars(select(Invoice).where(Invoice.number == number)).one()


def test_a_direct_debit_from_start_to_payout(platform, api_rt) -> None:
    add_invoice(api_rt, "INV-1", amount="120.00")
    started = platform.post({"id": "e1", "kind": "collection_started", "invoice": "INV-1"})
    assert started.status_code == 200, started.json
    assert (
        started.json["invoices"][0]["outcome"] == "transition"
        and started.json["invoices"][0]["to_status"] == "submitted"
    )
    confirmed = platform.post(
        {"id": "e2", "kind": "collection_confirmed", "invoice": "INV-1", "amount": "120.00", "reference": "DD-1"}
    )
    assert confirmed.status_code == 200 and confirmed.json["invoices"][0]["to_status"] == "paid"
    payout = platform.post(
        {
            "id": "e3",
            "kind": "payout",
            "invoices": ["INV-1"],
            "fee": "1.40",
            "reference": "PO-1",
            "expected_arrival": "2026-12-04",
        }
    )
    assert payout.status_code == 200, payout.json
    assert payout.json["payout"]["net"] == "118.60" and payout.json["payout"]["expected_arrival"] == "2026-12-04"
    assert _invoice(api_rt, "INV-1").status == "settled"
    with api_rt.sessions() as session:
        actors = set(session.scalars(select(ActivityEvent.actor).where(ActivityEvent.source == "platform")))
        kinds = sorted(session.scalars(select(OutboxEntry.kind)))
    assert actors == {"acme-pay"}  # the timeline names the platform account
    assert kinds.count("payout") == 1


def test_a_refused_event_is_409_with_the_reason_and_an_unknown_invoice_404(platform, api_rt) -> None:
    add_invoice(api_rt, "INV-1")
    refused = platform.post({"kind": "collection_confirmed", "invoice": "INV-1"})  # never started
    assert refused.status_code == 409 and refused.json["invoices"][0]["outcome"] in ("refused", "conflict")
    assert refused.json["invoices"][0]["message"]
    missing = platform.post({"kind": "collection_started", "invoice": "INV-404"})
    assert missing.status_code == 404 and missing.json["error"]["field"] == "invoice"
    assert _invoice(api_rt, "INV-1").status == "scheduled"


def test_a_bad_payload_is_422_naming_the_field_and_changes_nothing(platform, api_rt) -> None:
    add_invoice(api_rt, "INV-1")
    cases = [
        ({"kind": "collection_confirmed", "invoice": "INV-1", "amount": "-5"}, "amount"),
        ({"kind": "collection_confirmed", "invoice": "INV-1", "amount": 12.5}, "amount"),
        ({"kind": "teleport", "invoice": "INV-1"}, "(body)"),
        ({"kind": "collection_started"}, "invoice"),
        ({"kind": "collection_started", "invoice": "INV-1", "surprise": 1}, "surprise"),
        (
            {"events": [{"kind": "collection_started", "invoice": "INV-1"}, {"kind": "payout", "invoices": []}]},
            "events[1].invoices",
        ),
        ({"kind": "collection_started", "invoice": "INV-1", "occurred_on": "2026-13-01"}, "occurred_on"),
    ]
    for payload, field in cases:
        response = platform.post(payload)
        assert response.status_code == 422, (payload, response.json)
        assert response.json["error"]["field"] == field or field == "(body)", (payload, response.json)
    assert platform.post(b"not json").status_code == 422
    assert platform.post(b"[1, 2]").json["error"]["field"] == "(body)"
    assert _invoice(api_rt, "INV-1").status == "scheduled"  # the valid first event of the bad batch did not run


def test_a_batch_is_answered_per_event(platform, api_rt) -> None:
    add_invoice(api_rt, "INV-1")
    add_invoice(api_rt, "INV-2")
    response = platform.post(
        {
            "events": [
                {"id": "b1", "kind": "collection_started", "invoice": "INV-1"},
                {"id": "b2", "kind": "collection_started", "invoice": "INV-404"},
                {"id": "b3", "kind": "collection_confirmed", "invoice": "INV-2"},
            ]
        }
    )
    assert response.status_code == 200
    assert [r["status"] for r in response.json["results"]] == [200, 404, 409]
    assert _invoice(api_rt, "INV-1").status == "submitted" and _invoice(api_rt, "INV-2").status == "scheduled"
