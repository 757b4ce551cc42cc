"""Signed webhooks: INVOICE events for changes, HMAC-SHA256 base64 of the raw body."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import jsonschema
import pytest
import yaml
from flask import Flask, Response, request
from xero_python.accounting import Account, Invoice, Payment, Payments

from connector.sandbox.common.server import ServerThread
from connector.sandbox.common.webhooks import sign_body, verify_signature
from connector.sandbox.xero import XeroSandbox
from tests.sandbox.xero.conftest import MakeSandbox, XeroFor
from tests.sandbox.xero.spec_check import SPEC_DIR, xero_format_checker

KEY = "test-webhook-key"


@dataclass
class Receiver:
    """A webhook endpoint that behaves as Xero requires: 200 when signed right, else 401."""

    url: str = ""
    received: list[tuple[bytes, str]] = field(default_factory=list)
    fail_next: int = 0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    app = Flask("receiver")

    @app.post("/webhooks/xero")
    def hook() -> Response:
        body, signature = request.get_data(), request.headers.get("x-xero-signature", "")
        if state.fail_next:
            state.fail_next -= 1
            return Response(status=500)
        if not verify_signature(KEY, body, signature):
            return Response(status=401)
        state.received.append((body, signature))
        return Response(status=200)

    with ServerThread(app, name="receiver") as server:
        state.url = server.url + "/webhooks/xero"
        yield state


@pytest.fixture(scope="module")
def webhook_schema() -> dict:
    spec = yaml.safe_load((SPEC_DIR / "xero-webhooks.yaml").read_text())
    return {
        **spec["components"]["schemas"]["WebhookEvent"],
        "$schema": "https://json-schema.org/draft/2020-12/schema",
    }


def _connect(make_sandbox: MakeSandbox, receiver: Receiver, **kw: object) -> XeroSandbox:
    sb = make_sandbox()
    sb.configure_webhooks(receiver.url, KEY, **kw)  # type: ignore[arg-type]
    return sb


def test_signature_is_hmac_sha256_base64_of_the_raw_body() -> None:
    # Reference value from: printf hello | openssl dgst -sha256 -hmac key -binary | base64
    assert sign_body("key", b"hello") == "kwezuRXvtRcf8U2MtV+8x5jGwO8UVtZt7RpqpyOli3s="
    assert verify_signature("key", b"hello", "kwezuRXvtRcf8U2MtV+8x5jGwO8UVtZt7RpqpyOli3s=")
    assert not verify_signature("key", b"hello!", "kwezuRXvtRcf8U2MtV+8x5jGwO8UVtZt7RpqpyOli3s=")


def test_invoice_changes_become_signed_events(
    make_sandbox: MakeSandbox, receiver: Receiver, webhook_schema: dict, xero_for: XeroFor
) -> None:
    sb = _connect(make_sandbox, receiver, autostart=False)
    xero = xero_for(sb)
    tenant_id = sb.tenant_ids[0]
    created = sb.ledger.create_invoice(tenant_id, contact_name="Webhook Test Ltd", amount="50.00")
    xero.accounting.create_payments(
        tenant_id,
        Payments(
            payments=[
                Payment(
                    invoice=Invoice(invoice_id=created.id),
                    account=Account(code="090"),
                    amount=Decimal("50.00"),
                    date=date(2024, 6, 1),
                )
            ]
        ),
    )
    deliveries = sb.webhooks.flush()
    assert [d.status for d in deliveries] == [200]
    body, signature = receiver.received[0]
    assert signature == sign_body(KEY, body)
    payload = json.loads(body)
    jsonschema.validate(payload, webhook_schema, format_checker=xero_format_checker())
    invoice_events = [e for e in payload["events"] if e["eventCategory"] == "INVOICE"]
    assert [(e["resourceId"], e["eventType"]) for e in invoice_events] == [
        (created.id, "CREATE"),
        (created.id, "UPDATE"),
    ]
    assert all(e["tenantId"] == tenant_id and e["tenantType"] == "ORGANISATION" for e in invoice_events)
    assert invoice_events[0]["resourceUrl"].endswith(f"/api.xro/2.0/Invoices/{created.id}")
    assert payload["firstEventSequence"] == 1 and payload["lastEventSequence"] == len(payload["events"])
    assert len(payload["entropy"]) == 20


def test_intent_to_receive(make_sandbox: MakeSandbox, receiver: Receiver) -> None:
    sb = _connect(make_sandbox, receiver, autostart=False)
    good, bad = sb.webhooks.intent_to_receive()
    assert (good.status, bad.status) == (200, 401)
    assert json.loads(good.body)["events"] == []


def test_background_delivery_batches_and_retries(
    make_sandbox: MakeSandbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_delay = 0.05
    # After the first change the sender waits batch_delay so that a burst shares one POST. Hold
    # that wait until the burst below is made: on a loaded machine the two changes could
    # otherwise fall on either side of it. Other sleeps (the retry backoff) run as usual.
    burst_made = threading.Event()
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        caller = sys._getframe(1).f_globals.get("__name__")
        if seconds == batch_delay and caller == "connector.sandbox.common.webhooks":
            burst_made.wait(300)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    sb = _connect(make_sandbox, receiver, batch_delay=batch_delay)
    receiver.fail_next = 1  # the first attempt fails; the sender tries again
    tenant_id = sb.tenant_ids[0]
    inv = sb.ledger.create_invoice(tenant_id, contact_name="Batch Ltd", amount="10.00")
    sb.ledger.void_invoice(tenant_id, inv.id)
    burst_made.set()
    # Wait for the sender to record the successful attempt (the receiver sees the body a moment
    # before the sender sees the 200). A bound for a sender that never sends, not a measurement.
    deadline = time.monotonic() + 300
    while not any(d.ok for d in sb.webhooks.deliveries) and time.monotonic() < deadline:
        real_sleep(0.02)
    assert receiver.received, "no webhook arrived"
    events = json.loads(receiver.received[0][0])["events"]
    assert [e["eventType"] for e in events] == ["CREATE", "UPDATE"]
    assert [d.status for d in sb.webhooks.deliveries] == [500, 200]


def test_rolled_back_batches_send_nothing(make_sandbox: MakeSandbox, receiver: Receiver, xero_for: XeroFor) -> None:
    from xero_python.accounting import Contact, Invoices, LineItem
    from xero_python.exceptions import AccountingBadRequestException

    sb = _connect(make_sandbox, receiver, autostart=False)
    xero = xero_for(sb)
    good = Invoice(
        type="ACCREC",
        contact=Contact(name="Rollback Ltd"),
        status="DRAFT",
        line_items=[LineItem(description="a", quantity=Decimal(1), unit_amount=Decimal(1), account_code="200")],
    )
    bad = Invoice(
        type="ACCREC",
        contact=Contact(name="Rollback Ltd"),
        status="AUTHORISED",
        line_items=[LineItem(description="b", quantity=Decimal(1), unit_amount=Decimal(1), account_code="nope")],
    )
    with pytest.raises(AccountingBadRequestException):
        xero.accounting.create_invoices(xero.tenant_id, Invoices(invoices=[good, bad]))
    assert sb.webhooks.flush() == []
