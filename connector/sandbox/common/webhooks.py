"""Signed webhook delivery: HMAC-SHA256 over the raw body, base64, in a header.

Xero (``x-xero-signature``) and QuickBooks (``intuit-signature``) both sign this way, so
the sender is shared; what goes into a payload is the provider's business. Events queue
up and are sent in batches from a background thread (as ledgers do), or at once with
``flush()`` so tests need not wait.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("connector.sandbox.webhooks")


def sign_body(key: str | bytes, body: bytes) -> str:
    """base64(HMAC-SHA256(key, body)): the signature a receiver must recompute."""
    raw_key = key.encode() if isinstance(key, str) else key
    return base64.b64encode(hmac.new(raw_key, body, hashlib.sha256).digest()).decode("ascii")


def verify_signature(key: str | bytes, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign_body(key, body), signature or "")


@dataclass(frozen=True)
class Delivery:
    """One POST attempt and what the receiver answered (status 0 = no answer)."""

    url: str
    body: bytes
    signature: str
    status: int
    attempt: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class WebhookSender:
    """Batches events and POSTs them, signed, to one URL.

    ``build_payload(events)`` turns a batch into the JSON document to send. Failed
    deliveries are retried ``max_attempts`` times with a short backoff.
    """

    def __init__(
        self,
        url: str,
        key: str,
        build_payload: Callable[[list[dict[str, Any]]], dict[str, Any]],
        *,
        header: str = "x-xero-signature",
        batch_delay: float = 0.5,
        max_attempts: int = 3,
        timeout: float = 5.0,
        autostart: bool = True,
    ) -> None:
        self.url = url
        self.key = key
        self.build_payload = build_payload
        self.header = header
        self.batch_delay = batch_delay
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        if autostart:
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
            self._thread.start()

    def submit(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._pending.append(event)
        self._wake.set()

    def flush(self) -> list[Delivery]:
        """Send everything queued now, on this thread; returns the deliveries it made."""
        with self._send_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return []
            return self._deliver(self.build_payload(batch))

    def send_raw(self, payload: dict[str, Any], *, signature: str | None = None) -> Delivery:
        """POST one document once, optionally with a deliberately wrong signature."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        return self._post(body, signature or sign_body(self.key, body), attempt=1)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        try:
            self.flush()
        except Exception:  # pragma: no cover - best effort on shutdown
            log.exception("webhook flush on stop failed")

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stopping.is_set():
                break
            time.sleep(self.batch_delay)  # let a burst of changes share one POST
            try:
                self.flush()
            except Exception:  # pragma: no cover - a receiver bug must not kill the thread
                log.exception("webhook delivery failed")

    def _deliver(self, payload: dict[str, Any]) -> list[Delivery]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        signature = sign_body(self.key, body)
        made: list[Delivery] = []
        for attempt in range(1, self.max_attempts + 1):
            delivery = self._post(body, signature, attempt)
            made.append(delivery)
            if delivery.ok:
                break
            if attempt < self.max_attempts:
                time.sleep(min(2.0, 0.1 * 2**attempt))
        return made

    def _post(self, body: bytes, signature: str, attempt: int) -> Delivery:
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", self.header: signature},
        )
        status, error = 0, None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            error = str(exc)
        delivery = Delivery(self.url, body, signature, status, attempt, error)
        with self._lock:
            self.deliveries.append(delivery)
        return delivery
