"""``QuickBooksSandbox``: a local QuickBooks Online the real python-quickbooks and
intuit-oauth SDKs cannot tell from the real one.

Typical use in tests, the demo and benchmarks::

    with QuickBooksSandbox(seed=1, clock=FakeClock(), limits=QboLimits.unlimited()) as sb:
        tokens = sb.authorize()                          # the real auth-code flow over HTTP
        auth = AuthClient(sb.client_id, sb.client_secret, sb.redirect_uri, sb.discovery_url)
        qb = QuickBooks(auth_client=auth, refresh_token=tokens["refresh_token"],
                        company_id=tokens["realmId"], minorversion=75)
        qb.api_url_v3 = sb.api_url                       # per instance; the SDK reads self.api_url
        sb.record_payment(tokens["realmId"], invoice_id)   # "paid in QuickBooks by someone else"
        sb.clock.advance(hours=1)                        # expire the access token
        sb.faults.add("5xx=2x")                          # the next two API calls fail

requests_oauthlib refuses plain http unless ``OAUTHLIB_INSECURE_TRANSPORT=1`` is set;
tests set it with monkeypatch, the CLI prints a reminder.
"""

from __future__ import annotations

import json
import logging
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from connector.sandbox.common import seeding
from connector.sandbox.common.base import SandboxBase
from connector.sandbox.common.clock import Clock, FakeClock, SystemClock
from connector.sandbox.common.faults import FaultInjector, FaultSpec
from connector.sandbox.common.idempotency import IdempotencyCache
from connector.sandbox.common.ratelimit import RateLimiter, RateLimits
from connector.sandbox.common.recording import Observer
from connector.sandbox.quickbooks import seed as seeder
from connector.sandbox.quickbooks import store
from connector.sandbox.quickbooks.app import create_app
from connector.sandbox.quickbooks.ledger import ChangeEvent, Ledger
from connector.sandbox.quickbooks.limits import QboLimits
from connector.sandbox.quickbooks.model import Record
from connector.sandbox.quickbooks.oauth import SCOPE_ACCOUNTING, AuthServer
from connector.sandbox.quickbooks.render import fragment
from connector.sandbox.quickbooks.routes_oauth import (
    AUTHORIZE_PATH,
    DISCOVERY_PATHS,
    REVOKE_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
)
from connector.sandbox.quickbooks.webhooks import Format, QboWebhooks

log = logging.getLogger("connector.sandbox.quickbooks")

DEFAULT_REDIRECT = "http://127.0.0.1:8765/callback"
REQUESTID_TTL = timedelta(days=1)


@dataclass(frozen=True)
class RealmInfo:
    """What a test needs to know about one company."""

    realm_id: str
    name: str
    currency: str
    country: str
    utc_offset_minutes: int
    multicurrency: bool


class QuickBooksSandbox(SandboxBase):
    """Intuit OAuth and the QBO Accounting API for one or more seeded companies.

    State lives in memory; with ``data`` it is loaded from and saved to that JSON file
    (on stop, and every ``autosave_seconds`` while something changed). The clock is
    injectable so tests move time instead of sleeping.
    """

    _server_name = "qbo-sandbox"
    _log = log
    _store = store

    def __init__(
        self,
        *,
        seed: int = 1,
        realms: int = 2,
        invoices_per_realm: int = 60,
        customers_per_realm: int = 20,
        data: Path | str | None = None,
        limits: QboLimits | RateLimits | None = None,
        latency_ms: int = 0,
        faults: FaultSpec | str | None = None,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_verifier: str | None = None,
        webhook_format: Format = "legacy",
        auto_consent: bool = True,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uri: str = DEFAULT_REDIRECT,
        autosave_seconds: float = 5.0,
    ) -> None:
        self.seed = seed
        self.clock: Clock = clock or SystemClock()
        self.ledger = Ledger(self.clock)
        self.auth = AuthServer(self.clock, seed)
        self.faults = FaultInjector(seed=seed, base_latency_ms=latency_ms)
        if faults:
            self.faults.add(faults)
        self.set_limits(limits)
        self.requestids = IdempotencyCache(self.clock, ttl=REQUESTID_TTL)
        self.observers: list[Observer] = []
        self.auto_consent = auto_consent
        self.redirect_uri = redirect_uri
        self.data_path = Path(data) if data else None
        self.autosave_seconds = autosave_seconds
        self.webhooks: QboWebhooks | None = None
        self.events: deque[ChangeEvent] = deque(maxlen=10_000)  # recent changes, for tests

        rng = random.Random(f"qbo-app-{seed}")
        self.client_id = client_id or "AB" + seeding.token_string(rng, 48)
        self.client_secret = client_secret or seeding.token_string(rng, 40)
        loaded = self._load() if self.data_path else False
        if not loaded:
            seeder.seed_ledger(self.ledger, seed, realms, invoices_per_realm, customers_per_realm)
        if self.client_id not in self.auth.apps:
            self.auth.register_app(self.client_id, self.client_secret)
        self.ledger.add_listener(self._on_change)
        if webhook_url:
            self.configure_webhooks(webhook_url, webhook_verifier or "sandbox-verifier-token", webhook_format)

        self._init_server(create_app(self), host, port)

    # --- addresses ----------------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """For ``QuickBooks.api_url_v3`` (per instance): the SDK appends ``/company/{realm}/...``."""
        return self.base_url + "/v3"

    @property
    def discovery_url(self) -> str:
        """For ``AuthClient(..., environment=discovery_url)``: every OAuth endpoint comes from it."""
        return self.base_url + DISCOVERY_PATHS[1]

    @property
    def authorize_url(self) -> str:
        return self.base_url + AUTHORIZE_PATH

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def revoke_url(self) -> str:
        return self.base_url + REVOKE_PATH

    @property
    def userinfo_url(self) -> str:
        return self.base_url + USERINFO_PATH

    # --- companies and tokens -----------------------------------------------------------------------
    @property
    def realms(self) -> list[RealmInfo]:
        return [
            RealmInfo(b.realm_id, b.company.name, b.company.currency, b.company.country,
                      b.company.utc_offset_minutes, b.company.multicurrency)
            for b in self.ledger.realms.values()
        ]

    @property
    def realm_ids(self) -> list[str]:
        return list(self.ledger.realms)

    def issue_tokens(self, realm_id: str | None = None, scopes: Sequence[str] = (SCOPE_ACCOUNTING,)) -> dict[str, Any]:
        """Consent without a browser: Intuit's token response body for one company."""
        return self.auth.grant_tokens(self.client_id, list(scopes), realm_id or self.realm_ids[0])

    def authorize(
        self,
        realm_id: str | None = None,
        redirect_uri: str | None = None,
        scopes: Sequence[str] = (SCOPE_ACCOUNTING,),
        state: str = "sandbox-state",
    ) -> dict[str, Any]:
        """Run the real authorization-code flow over HTTP (consent page, redirect, token).

        Returns the token response body plus ``realmId`` from the redirect, which is where a
        client learns which company it was connected to.
        """
        import requests

        redirect_uri = redirect_uri or self.redirect_uri
        query = {"client_id": self.client_id, "response_type": "code", "scope": " ".join(scopes),
                 "redirect_uri": redirect_uri, "state": state}
        page = requests.get(f"{self.authorize_url}?{urlencode(query)}", timeout=10)
        page.raise_for_status()
        form = {**{k: v for k, v in query.items() if k != "response_type"}, "decision": "allow",
                "realmId": realm_id or self.realm_ids[0]}
        consent = requests.post(self.authorize_url, data=form, allow_redirects=False, timeout=10)
        params = parse_qs(urlparse(consent.headers.get("Location", "")).query)
        if "code" not in params or params.get("state", [None])[0] != state:
            raise RuntimeError(f"authorization failed: {consent.status_code} {consent.headers.get('Location')}")
        response = requests.post(
            self.token_url, timeout=10, auth=(self.client_id, self.client_secret),
            data={"grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": redirect_uri},
        )
        response.raise_for_status()
        return {**response.json(), "realmId": params["realmId"][0]}

    def set_limits(self, limits: QboLimits | RateLimits | None) -> None:
        """Replace the throttles (and forget the counts) while running."""
        self.limits = QboLimits.of(limits)
        self.limiter = RateLimiter(self.limits.general(), self.clock)
        self.batch_limiter = RateLimiter(self.limits.batch(), self.clock)

    # --- direct access to the books ("someone did this in QuickBooks") --------------------------------
    def entity(self, realm_id: str, kind: str, entity_id: str) -> dict[str, Any]:
        """An entity exactly as the API would return it (parsed JSON)."""
        with self.ledger.lock:
            record = self.ledger.read(realm_id, kind, entity_id)
            return json.loads(fragment(self.ledger.books(realm_id), record), parse_float=Decimal)  # type: ignore[no-any-return]

    def create_invoice(self, realm_id: str, customer_id: str | None = None, amount: Decimal | str | int = "100.00",
                       **kwargs: Any) -> Record:
        return self.ledger.create_invoice(realm_id, customer_id, amount, **kwargs)

    def record_payment(self, realm_id: str, invoice_id: str, amount: Decimal | str | int | None = None,
                       **kwargs: Any) -> Record:
        return self.ledger.record_payment(realm_id, invoice_id, amount, **kwargs)

    def create_credit_memo(self, realm_id: str, customer_id: str, amount: Decimal | str | int = "10.00",
                           **kwargs: Any) -> Record:
        return self.ledger.create_credit_memo(realm_id, customer_id, amount, **kwargs)

    def close_books(self, realm_id: str, through: date | None) -> None:
        """The accountant closes the books through ``through`` (after reconciling): writes to
        transactions dated on or before it are refused with QBO's fault 6200."""
        self.ledger.close_books(realm_id, through)

    def enable_currency(self, realm_id: str, code: str, rate: Decimal | str) -> None:
        self.ledger.enable_currency(realm_id, code, rate)

    def void_invoice(self, realm_id: str, invoice_id: str) -> Record:
        return self.ledger.void_invoice(realm_id, invoice_id)

    def delete_invoice(self, realm_id: str, invoice_id: str) -> Record:
        return self.ledger.delete_invoice(realm_id, invoice_id)

    def today(self, realm_id: str) -> date:
        return self.ledger.today(realm_id)

    def advance(self, delta: timedelta | float = 0.0, **units: float) -> None:
        """Move a FakeClock forward (token expiry, rate-limit windows, the CDC window)."""
        if not isinstance(self.clock, FakeClock):
            raise TypeError("the sandbox runs on the system clock; pass clock=FakeClock() to move time")
        self.clock.advance(delta, **units)

    # --- observers and webhooks -----------------------------------------------------------------------
    def configure_webhooks(self, url: str, verifier: str, fmt: Format = "legacy", *, batch_delay: float = 0.5,
                           autostart: bool = True) -> QboWebhooks:
        """Send signed change notifications to ``url`` (legacy or CloudEvents format)."""
        if self.webhooks is not None:
            self.webhooks.stop()
        self.webhooks = QboWebhooks(url, verifier, fmt, batch_delay=batch_delay, autostart=autostart,
                                    seed=self.seed)
        return self.webhooks

    def _on_change(self, event: ChangeEvent) -> None:
        self.events.append(event)
        super()._on_change(event)

    # --- persistence ----------------------------------------------------------------------------------
    def _revision(self) -> tuple[int, int]:
        return sum(b.version for b in self.ledger.realms.values()), self.auth.revision
