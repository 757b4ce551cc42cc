"""QuickBooks webhook payloads in both formats, signed with ``intuit-signature``.

* legacy: ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [
  {"name", "id", "operation", "lastUpdated"}]}}]}``, one notification per realm;
* CloudEvents (mandatory from 2026): a JSON *array* of events with ``type``
  ``qbo.<entity>.<created|updated|deleted|voided|merged>.v1``, ``intuitentityid`` and
  ``intuitaccountid``; one delivery may mix realms.

Both carry ids only; the receiver reads the entity (or runs CDC) afterwards. The
signature is base64(HMAC-SHA256(verifier token, raw body)) in both formats. The common
``WebhookSender`` is typed for a dict payload but serialises any JSON value, so the
CloudEvents array goes through it unchanged (a cast, nothing more).
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any, Literal, cast

from connector.sandbox.common import seeding
from connector.sandbox.common.webhooks import Delivery, WebhookSender
from connector.sandbox.quickbooks.ledger import ChangeEvent

Format = Literal["legacy", "cloudevents"]
FORMATS: tuple[Format, ...] = ("legacy", "cloudevents")
SIGNATURE_HEADER = "intuit-signature"
_PAST = {"Create": "created", "Update": "updated", "Delete": "deleted", "Void": "voided", "Merge": "merged"}


def _utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class QboWebhooks:
    """Turns ledger changes into signed QBO webhook deliveries to one URL."""

    def __init__(self, url: str, verifier: str, fmt: Format = "legacy", *, batch_delay: float = 0.5,
                 autostart: bool = True, seed: int = 0) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"webhook format must be one of {', '.join(FORMATS)}")
        self.format: Format = fmt
        self._rng = random.Random(f"qbo-webhooks-{seed}")
        self._lock = threading.Lock()
        self.sender = WebhookSender(url, verifier, cast(Any, self._payload), header=SIGNATURE_HEADER,
                                    batch_delay=batch_delay, autostart=autostart)

    @property
    def deliveries(self) -> list[Delivery]:
        return self.sender.deliveries

    def on_change(self, event: ChangeEvent) -> None:
        self.sender.submit({
            "realmId": event.realm_id,
            "name": event.entity,
            "id": event.entity_id,
            "operation": event.operation,
            "lastUpdated": _utc(event.when),
        })

    def _payload(self, events: list[dict[str, Any]]) -> Any:
        if self.format == "cloudevents":
            return [self._cloud_event(e) for e in events]
        by_realm: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        for e in events:
            by_realm.setdefault(e["realmId"], []).append(
                {"name": e["name"], "id": e["id"], "operation": e["operation"], "lastUpdated": e["lastUpdated"]}
            )
        return {"eventNotifications": [
            {"realmId": realm, "dataChangeEvent": {"entities": entities}} for realm, entities in by_realm.items()
        ]}

    def _cloud_event(self, e: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            event_id = seeding.rng_uuid(self._rng)
        return {
            "specversion": "1.0",
            "id": event_id,
            "source": "intuit.sandbox.qbo",
            "type": f"qbo.{e['name'].lower()}.{_PAST.get(e['operation'], 'updated')}.v1",
            "datacontenttype": "application/json",
            "time": e["lastUpdated"],
            "intuitentityid": e["id"],
            "intuitaccountid": e["realmId"],
            "data": {},
        }

    def flush(self) -> list[Delivery]:
        return self.sender.flush()

    def stop(self) -> None:
        self.sender.stop()
