"""Signed webhooks in the legacy and the CloudEvents formats, verified the way receivers do
(python-quickbooks' own ``validate_webhook_signature``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from quickbooks import QuickBooks

from connector.sandbox.common.server import ServerThread
from connector.sandbox.common.webhooks import verify_signature
from connector.sandbox.quickbooks import QuickBooksSandbox
from tests.sandbox.quickbooks.conftest import connect
from tests.sandbox.quickbooks.test_entities import home_customer, new_invoice, new_payment

VERIFIER = "verifier-token-1234"


class Receiver:
    """A webhook endpoint on a real socket that keeps what it was sent."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.server = ServerThread(self, name="qbo-webhook-receiver")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        self.received.append((headers, body))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    @property
    def url(self) -> str:
        return self.server.url + "/webhooks/quickbooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    target = Receiver()
    target.server.start()
    yield target
    target.server.stop()


def _events(sb: QuickBooksSandbox, receiver: Receiver) -> tuple[Any, bytes, str]:
    assert sb.webhooks is not None
    deliveries = sb.webhooks.flush()
    assert deliveries and all(d.ok for d in deliveries)
    headers, body = receiver.received[-1]
    return json.loads(body), body, headers["intuit-signature"]


def test_legacy_notifications_are_signed_and_name_every_change(
    make_sandbox: Callable[..., Any], receiver: Receiver
) -> None:
    sb: QuickBooksSandbox = make_sandbox()
    sb.configure_webhooks(receiver.url, VERIFIER, "legacy", autostart=False)
    client = connect(sb)
    invoice = new_invoice(home_customer(client), 40.0).save(qb=client.qb)
    payment = new_payment(invoice, 40.0).save(qb=client.qb)
    other = sb.create_invoice(sb.realm_ids[1], amount="15.00")

    document, body, signature = _events(sb, receiver)
    notifications = {n["realmId"]: n["dataChangeEvent"]["entities"] for n in document["eventNotifications"]}
    us = [(e["name"], e["id"], e["operation"]) for e in notifications[client.realm_id]]
    assert us == [
        ("Invoice", invoice.Id, "Create"),
        ("Payment", payment.Id, "Create"),
        ("Invoice", invoice.Id, "Update"),
    ]
    assert [(e["name"], e["id"]) for e in notifications[sb.realm_ids[1]]] == [("Invoice", other.id)]
    assert all(e["lastUpdated"].endswith("Z") for e in notifications[client.realm_id])

    qb = QuickBooks(verifier_token=VERIFIER, minorversion=75)
    assert qb.validate_webhook_signature(body.decode(), signature) is True
    assert qb.validate_webhook_signature(body.decode().replace("Create", "Delete", 1), signature) is False


def test_cloudevents_name_voids_and_deletes(make_sandbox: Callable[..., Any], receiver: Receiver) -> None:
    sb: QuickBooksSandbox = make_sandbox(
        webhook_url=receiver.url, webhook_verifier=VERIFIER, webhook_format="cloudevents"
    )
    assert sb.webhooks is not None
    sb.webhooks.flush()  # nothing queued yet
    realm = sb.realm_ids[0]
    voided = sb.create_invoice(realm, amount="20.00")
    deleted = sb.create_invoice(realm, amount="30.00")
    sb.void_invoice(realm, voided.id)
    sb.delete_invoice(realm, deleted.id)

    events, body, signature = _events(sb, receiver)
    assert isinstance(events, list)
    kinds = [(e["type"], e["intuitentityid"]) for e in events if e["intuitentityid"] in (voided.id, deleted.id)]
    assert kinds == [
        ("qbo.invoice.created.v1", voided.id),
        ("qbo.invoice.created.v1", deleted.id),
        ("qbo.invoice.voided.v1", voided.id),
        ("qbo.invoice.deleted.v1", deleted.id),
    ]
    first = events[0]
    assert first["specversion"] == "1.0" and first["intuitaccountid"] == realm and first["data"] == {}
    assert len({e["id"] for e in events}) == len(events)
    assert verify_signature(VERIFIER, body, signature)
    assert QuickBooks(verifier_token=VERIFIER, minorversion=75).validate_webhook_signature(body.decode(), signature)
    assert not verify_signature("another-verifier", body, signature)
