"""Xero webhook payloads: INVOICE (and CREDITNOTE) events, signed with ``x-xero-signature``.

Xero batches events into one POST with increasing sequence numbers and a random
``entropy`` string; the receiver must answer 200 to correctly signed bodies and 401 to
others (the intent-to-receive check sends both).
"""

from __future__ import annotations

import itertools
import random
import threading
from typing import Any

from connector.sandbox.common.webhooks import Delivery, WebhookSender
from connector.sandbox.xero.state import ChangeEvent
from connector.sandbox.xero.wire import iso_stamp

CATEGORIES = ("INVOICE", "CREDITNOTE")
_PATHS = {"INVOICE": "Invoices", "CREDITNOTE": "CreditNotes", "CONTACT": "Contacts"}


class XeroWebhooks:
    """Turns ledger changes into signed Xero webhook deliveries to one URL."""

    def __init__(
        self,
        url: str,
        key: str,
        resource_base: str = "https://api.xero.com/api.xro/2.0",
        categories: tuple[str, ...] = CATEGORIES,
        batch_delay: float = 0.5,
        autostart: bool = True,
        seed: int = 0,
    ) -> None:
        self.categories = categories
        self.resource_base = resource_base.rstrip("/")
        self._sequence = itertools.count(1)
        self._rng = random.Random(f"webhooks-{seed}")
        self._lock = threading.Lock()
        self.sender = WebhookSender(
            url, key, self._payload, header="x-xero-signature", batch_delay=batch_delay, autostart=autostart
        )

    @property
    def deliveries(self) -> list[Delivery]:
        return self.sender.deliveries

    def on_change(self, event: ChangeEvent) -> None:
        if event.category not in self.categories:
            return
        doc: dict[str, Any] = {
            "resourceUrl": f"{self.resource_base}/{_PATHS[event.category]}/{event.resource_id}",
            "resourceId": event.resource_id,
            "tenantId": event.tenant_id,
            "tenantType": "ORGANISATION",
            "eventCategory": event.category,
            "eventType": event.event_type,
            "eventDateUtc": iso_stamp(event.when_ms),
        }
        if event.category == "CREDITNOTE" and event.data:
            doc["data"] = dict(event.data)
        self.sender.submit(doc)

    def _entropy(self) -> str:
        with self._lock:
            return "".join(self._rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(20))

    def _payload(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            numbers = [next(self._sequence) for _ in events]
        return {
            "events": events,
            "firstEventSequence": numbers[0],
            "lastEventSequence": numbers[-1],
            "entropy": self._entropy(),
        }

    def flush(self) -> list[Delivery]:
        return self.sender.flush()

    def intent_to_receive(self) -> tuple[Delivery, Delivery]:
        """Xero's check before it enables a webhook: one good signature, one bad.

        The receiver passes when it answers 200 to the first and 401 to the second.
        """
        body = {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": self._entropy()}
        good = self.sender.send_raw(body)
        bad = self.sender.send_raw(body, signature="aW52YWxpZC1zaWduYXR1cmUtZm9yLXRlc3Rpbmc=")
        return good, bad

    def stop(self) -> None:
        self.sender.stop()
