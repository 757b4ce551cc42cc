"""Signatures on what arrives over HTTP: the platform's API calls and the ledgers' webhooks.

Every comparison is constant-time (:func:`hmac.compare_digest`), so a forger learns nothing
from how long a refusal takes. The platform's scheme follows Stripe's: ``t=<unix time>,v1=<hex
HMAC-SHA256 of "t.body">``, several ``v1`` allowed while a secret is rotated, and a replay
window around ``t``. Xero signs the raw body with the webhook key (base64 HMAC-SHA256 in
``x-xero-signature``); Intuit the same with its verifier token (``intuit-signature``).
Pure functions: no I/O, no clock of their own (the caller passes ``now``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class SignatureError(Exception):
    """The request is not signed as it must be; ``reason`` says how, without any secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Signed:
    """Who signed a platform request, and when they say they did."""

    account: str
    timestamp: int


def sign_platform(body: bytes, secret: str, timestamp: int) -> str:
    """The ``X-Connector-Signature`` header a platform sends with ``body`` (for clients and tests)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_platform(
    header: str | None, body: bytes, secrets: Mapping[str, str], *, now: float, window: float
) -> Signed:
    """The account whose secret signed ``body``; :class:`SignatureError` for anything else.

    Each configured secret is tried against each ``v1`` (all compared, none short-circuited on
    the account that matched). A timestamp outside ``now ± window`` is refused even when the
    signature is good: that is the replay window.
    """
    if not header:
        raise SignatureError("the X-Connector-Signature header is missing")
    timestamp, signatures = _parse(header)
    if abs(now - timestamp) > window:
        raise SignatureError(
            f"the signature's timestamp is {int(abs(now - timestamp))} s away from now; "
            f"at most {int(window)} s is accepted (a replayed or delayed request)"
        )
    signed = f"{timestamp}.".encode() + body
    found: str | None = None
    for account, secret in secrets.items():
        if not secret:
            continue
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        for candidate in signatures:
            if hmac.compare_digest(expected, candidate) and found is None:
                found = account
    if found is None:
        raise SignatureError("the signature does not match the body with any configured secret")
    return Signed(found, timestamp)


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            if not value.isdigit():
                raise SignatureError("the signature's t= is not a unix time")
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise SignatureError('the signature header must be "t=<unix time>,v1=<hex HMAC-SHA256>"')
    return timestamp, signatures


def _base64_hmac(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def verify_base64_hmac(header: str | None, body: bytes, keys: Iterable[str], *, name: str) -> None:
    """Xero's and Intuit's webhook signature: base64 HMAC-SHA256 of the raw body.

    ``keys`` may hold several (a key being rotated); an empty key never verifies anything.
    """
    if not header:
        raise SignatureError(f"the {name} header is missing")
    ok = False
    for key in keys:
        if key and hmac.compare_digest(_base64_hmac(key, body), header.strip()):
            ok = True
    if not ok:
        raise SignatureError(f"the {name} signature does not match the body")


def sign_base64_hmac(key: str, body: bytes) -> str:
    """What a ledger puts in its webhook signature header (the sandboxes use it)."""
    return _base64_hmac(key, body)
