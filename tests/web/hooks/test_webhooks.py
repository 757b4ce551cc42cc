"""Ledger webhooks: signed hints that queue one debounced sync, never data applied as it is."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from connector.signing import sign_base64_hmac
from connector.store.models import Connection, Invoice, SyncRequest, SyncRun
from connector.store.types import utcnow
from connector.web.app import create_app
from jobs.tasks import hinted_syncs
from tests.web.kit import live_server

XERO_KEY = "xero-webhook-key-for-tests"
VERIFIER = "intuit-verifier-token-for-tests"


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XERO_WEBHOOK_KEY", XERO_KEY)
    monkeypatch.setenv("QBO_WEBHOOK_VERIFIER", VERIFIER)


def _requests(rt) -> list[tuple[int, int]]:
    with rt.sessions() as session:
        return [(r.connection_id, r.hints) for r in session.scalars(select(SyncRequest))]


def _xero_body(*tenants: str) -> bytes:
    events = [{"tenantId": t, "eventCategory": "INVOICE", "eventType": "UPDATE", "resourceId": "x"} for t in tenants]
    return json.dumps({"events": events, "firstEventSequence": 1, "lastEventSequence": len(events)}).encode()


def test_a_bad_signature_is_401_and_queues_nothing(runtime) -> None:
    client = create_app(runtime).test_client()
    body = _xero_body("t-1")
    good = sign_base64_hmac(XERO_KEY, body)
    for header in (None, "", good[:-4], sign_base64_hmac("another key", body)):
        headers = {"x-xero-signature": header} if header is not None else {}
        response = client.post("/webhooks/xero", data=body, headers=headers)
        assert response.status_code == 401 and response.data == b""
    assert _requests(runtime) == []
    assert client.post("/webhooks/xero", data=body, headers={"x-xero-signature": good}).status_code == 200


def test_a_burst_of_500_events_makes_one_sync_request(runtime) -> None:
    client = create_app(runtime).test_client()
    for _ in range(50):
        body = _xero_body(*(["t-1"] * 10))
        assert (
            client.post(
                "/webhooks/xero", data=body, headers={"x-xero-signature": sign_base64_hmac(XERO_KEY, body)}
            ).status_code
            == 200
        )
    with runtime.sessions() as session:
        connection_id = session.scalars(select(Connection.id)).one()
    assert _requests(runtime) == [(connection_id, 50)]  # 50 deliveries of 10 events: one request


def test_unknown_tenants_are_logged_and_ignored(runtime, caplog) -> None:
    caplog.set_level("INFO", logger="connector.webhooks")
    client = create_app(runtime).test_client()
    body = _xero_body("someone-else")
    assert (
        client.post(
            "/webhooks/xero", data=body, headers={"x-xero-signature": sign_base64_hmac(XERO_KEY, body)}
        ).status_code
        == 200
    )
    assert _requests(runtime) == [] and "someone-else" in caplog.text


@pytest.mark.parametrize(
    "document",
    [
        {"eventNotifications": [{"realmId": "t-1", "dataChangeEvent": {"entities": [{"name": "Invoice", "id": "1"}]}}]},
        [
            {
                "specversion": "1.0",
                "id": "e1",
                "type": "qbo.invoice.updated.v1",
                "intuitaccountid": "t-1",
                "intuitentityid": "1",
            }
        ],
    ],
    ids=["classic", "cloudevents"],
)
def test_quickbooks_both_formats(db_url, document) -> None:
    from connector.config import Config
    from connector.runtime import open_runtime
    from tests.conftest import ACCOUNTS

    rt = open_runtime(
        config=Config.model_validate(
            {
                "database": {"url": db_url},
                "connections": [{"name": "q", "provider": "quickbooks", "tenant_id": "t-1", "accounts": {**ACCOUNTS}}],
            }
        )
    )
    try:
        client = create_app(rt).test_client()
        body = json.dumps(document).encode()
        assert client.post("/webhooks/quickbooks", data=body, headers={"intuit-signature": "bad"}).status_code == 401
        ok = client.post(
            "/webhooks/quickbooks", data=body, headers={"intuit-signature": sign_base64_hmac(VERIFIER, body)}
        )
        assert ok.status_code == 200 and [h for _, h in _requests(rt)] == [1]
    finally:
        rt.close()


def test_xero_intent_to_receive(world) -> None:
    with live_server(create_app(world.rt)) as base:
        hooks = world.xero.configure_webhooks(f"{base}/webhooks/xero", XERO_KEY, autostart=False)
        good, bad = hooks.intent_to_receive()
    assert (good.status, bad.status) == (200, 401)


def test_round_trip_edit_in_xero_then_webhook_then_sync(world) -> None:
    world.sync("nz")
    tenant = world.tenant("nz")
    books = world.xero.ledger
    target = next(i for i in books.tenant(tenant).invoices.values() if i.status == "AUTHORISED" and i.amount_due > 10)
    with live_server(create_app(world.rt)) as base:
        hooks = world.xero.configure_webhooks(f"{base}/webhooks/xero", XERO_KEY, autostart=False)
        books.add_payment(tenant, target.id, Decimal("10.00"), account_code="090", reference="paid at the counter")
        deliveries = hooks.flush()
    assert deliveries and all(d.ok for d in deliveries)
    with world.rt.sessions() as session:
        runs_before = session.scalar(select(func.count()).select_from(SyncRun))
    assert hinted_syncs(world.rt, now=utcnow()) == []  # not due yet: the debounce interval has not passed
    results = hinted_syncs(world.rt, now=utcnow() + timedelta(seconds=31), make_ledger=world.ledger)
    assert [r.connection for r in results] == ["nz"] and results[0].state == "succeeded"
    with world.rt.sessions() as session:
        row = session.scalars(select(Invoice).where(Invoice.external_id == target.id)).one()
        assert row.ledger_amount_due == target.amount_due  # the sandbox's own figure, after the payment
        assert session.scalar(select(func.count()).select_from(SyncRun)) == runs_before + 1
    assert _requests(world.rt) == []
