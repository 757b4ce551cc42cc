"""``GET /api/v1/invoices`` and ``/invoices/<id>``: statuses and timelines, same authentication."""

from __future__ import annotations

from tests.actions.conftest import add_invoice


def test_one_invoice_with_its_timeline(platform, api_rt) -> None:
    invoice_id = add_invoice(api_rt, "INV-1")
    platform.post({"kind": "collection_started", "invoice": "INV-1"})
    response = platform.get(f"/api/v1/invoices/{invoice_id}")
    assert response.status_code == 200
    assert response.json["invoice"]["status"] == "submitted"
    assert [e["kind"] for e in response.json["events"]][-1] == "collection_started"
    assert platform.get("/api/v1/invoices/999999").status_code == 404


def test_pages_by_status_and_change(platform, api_rt) -> None:
    for n in range(5):
        add_invoice(api_rt, f"INV-{n}")
    platform.post({"kind": "collection_started", "invoice": "INV-3"})
    submitted = platform.get("/api/v1/invoices?status=submitted")
    assert [i["number"] for i in submitted.json["invoices"]] == ["INV-3"]
    first = platform.get("/api/v1/invoices?limit=2")
    assert len(first.json["invoices"]) == 2 and first.json["next"]
    seen = [i["number"] for i in first.json["invoices"]]
    cursor = first.json["next"]
    while cursor:
        page = platform.get(f"/api/v1/invoices?limit=2&after={cursor}")
        seen += [i["number"] for i in page.json["invoices"]]
        cursor = page.json["next"]
    assert sorted(seen) == [f"INV-{n}" for n in range(5)]
    assert platform.get("/api/v1/invoices?status=lost").status_code == 422
    assert platform.get("/api/v1/invoices?updated_since=yesterday").json["error"]["field"] == "updated_since"


def test_reads_need_the_signature_too(api_app) -> None:
    assert api_app.test_client().get("/api/v1/invoices").status_code == 401


def test_the_openapi_document_is_served(api_app) -> None:
    doc = api_app.test_client().get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1") and "/api/v1/events" in doc["paths"]
