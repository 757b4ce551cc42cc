"""``XeroSandbox``: a local Xero the real xero-python SDK cannot tell from the real one.

Typical use in tests, the demo and benchmarks::

    with XeroSandbox(seed=1, clock=FakeClock(), limits=RateLimits.unlimited()) as sb:
        token = sb.issue_tokens()                       # Xero's token body
        AccountingApi(api_client, base_url=sb.accounting_url)
        sb.ledger.add_payment(sb.tenant_ids[0], invoice_id, "10.00")   # "paid in Xero"
        sb.clock.advance(minutes=31)                    # expire the access token
        sb.faults.add("5xx=2x")                         # the next two API calls fail
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import requests

from connector.sandbox.common import seeding
from connector.sandbox.common.base import SandboxBase
from connector.sandbox.common.clock import Clock, SystemClock
from connector.sandbox.common.faults import FaultInjector, FaultSpec
from connector.sandbox.common.idempotency import IdempotencyCache
from connector.sandbox.common.ratelimit import RateLimiter, RateLimits
from connector.sandbox.common.recording import Observer
from connector.sandbox.xero import seed as seeder
from connector.sandbox.xero import store
from connector.sandbox.xero.app import ACCOUNTING_PREFIX, create_app
from connector.sandbox.xero.listing import QueryCache
from connector.sandbox.xero.oauth import DEFAULT_SCOPES, AuthServer
from connector.sandbox.xero.state import Ledger
from connector.sandbox.xero.webhooks import XeroWebhooks

log = logging.getLogger("connector.sandbox.xero")


@dataclass(frozen=True)
class TenantInfo:
    """What a test needs to know about one organisation."""

    tenant_id: str
    name: str
    base_currency: str
    timezone: str
    utc_offset_minutes: int


class XeroSandbox(SandboxBase):
    """Xero's identity service and Accounting API for one or more seeded organisations.

    State lives in memory; with ``data`` it is loaded from and saved to that JSON file
    (on stop, and every ``autosave_seconds`` while something changed). The clock is
    injectable so tests can move time instead of sleeping.
    """

    _server_name = "xero-sandbox"
    _log = log
    _store = store
    _pause_gc = True

    def __init__(
        self,
        *,
        seed: int = 1,
        tenants: int = 2,
        invoices_per_tenant: int = 60,
        contacts_per_tenant: int = 25,
        data: Path | str | None = None,
        limits: RateLimits | None = None,
        latency_ms: int = 0,
        faults: FaultSpec | str | None = None,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_key: str | None = None,
        auto_consent: bool = True,
        client_id: str | None = None,
        client_secret: str | None = None,
        autosave_seconds: float = 5.0,
    ) -> None:
        self.seed = seed
        self.clock: Clock = clock or SystemClock()
        self.ledger = Ledger(self.clock, id_seed=seed)
        self.auth = AuthServer(self.clock, seed)
        self.faults = FaultInjector(seed=seed, base_latency_ms=latency_ms)
        if faults:
            self.faults.add(faults)
        self.limits = limits or RateLimits()
        self.limiter = RateLimiter(self.limits, self.clock)
        self.idempotency = IdempotencyCache(self.clock)
        self.query_cache = QueryCache()
        self.observers: list[Observer] = []
        self.auto_consent = auto_consent
        self.data_path = Path(data) if data else None
        self.autosave_seconds = autosave_seconds
        self.webhooks: XeroWebhooks | None = None
        self.ledger.add_listener(self._on_change)

        rng = random.Random(f"xero-app-{seed}")
        self.client_id = client_id or seeding.token_string(rng, 32).upper()
        self.client_secret = client_secret or seeding.token_string(rng, 48)
        loaded = self._load() if self.data_path else False
        if not loaded:
            seeder.seed_ledger(self.ledger, seed, tenants, invoices_per_tenant, contacts_per_tenant)
        if self.client_id not in self.auth.apps:
            self.auth.register_app(self.client_id, self.client_secret)
        if webhook_url:
            self.configure_webhooks(webhook_url, webhook_key or "sandbox-webhook-key")

        self._init_server(create_app(self), host, port)
        self._stopped = False

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> XeroSandbox:
        self._stopped = False
        return super().start()

    def stop(self) -> None:
        """Stop serving, flush webhooks and save ``data``; calling it twice is harmless."""
        if self._stopped:
            return
        self._stopped = True
        super().stop()

    # --- addresses ------------------------------------------------------------------------------
    @property
    def accounting_url(self) -> str:
        """For ``AccountingApi(api_client, base_url=...)``."""
        return self.base_url + ACCOUNTING_PREFIX

    @property
    def identity_url(self) -> str:
        """For ``IdentityApi(api_client, base_url=...)`` (it appends ``/Connections``)."""
        return self.base_url

    @property
    def connections_url(self) -> str:
        return self.base_url + "/connections"

    @property
    def token_url(self) -> str:
        """Patch ``TokenApi.refresh_token_url`` (a class attribute in the SDK) to this."""
        return self.base_url + "/connect/token"

    @property
    def revocation_url(self) -> str:
        return self.base_url + "/connect/revocation"

    @property
    def authorize_url(self) -> str:
        return self.base_url + "/identity/connect/authorize"

    # --- tenants and tokens ------------------------------------------------------------------------
    @property
    def tenants(self) -> list[TenantInfo]:
        return [
            TenantInfo(t.id, t.org.name, t.org.base_currency, t.org.timezone, t.org.utc_offset_minutes)
            for t in self.ledger.tenants.values()
        ]

    @property
    def tenant_ids(self) -> list[str]:
        return list(self.ledger.tenants)

    def issue_tokens(
        self,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        tenants: Sequence[str] | None = None,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Consent without a browser: Xero's token response body (``scope`` is a string)."""
        return self.auth.grant_tokens(
            client_id or self.client_id,
            list(scopes),
            list(tenants) if tenants is not None else self.tenant_ids,
        )

    def authorize(
        self,
        redirect_uri: str = "http://127.0.0.1:8765/callback",
        scopes: Sequence[str] = DEFAULT_SCOPES,
        state: str = "sandbox-state",
        code_verifier: str | None = None,
        tenants: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Run the real authorization-code flow over HTTP (consent page, redirect, token)."""
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
        }
        if code_verifier:
            query["code_challenge"] = (
                base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            query["code_challenge_method"] = "S256"
        page = requests.get(f"{self.authorize_url}?{urlencode(query)}", timeout=10)
        page.raise_for_status()
        form = {
            **{k: v for k, v in query.items() if k != "response_type"},
            "decision": "allow",
            "tenant": list(tenants) if tenants is not None else self.tenant_ids,
        }
        consent = requests.post(self.authorize_url, data=form, allow_redirects=False, timeout=10)
        location = consent.headers.get("Location", "")
        params = parse_qs(urlparse(location).query)
        if "code" not in params or params.get("state", [None])[0] != state:
            raise RuntimeError(f"authorization failed: {consent.status_code} {location}")
        response = requests.post(
            self.token_url,
            timeout=10,
            data={
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "redirect_uri": redirect_uri,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                **({"code_verifier": code_verifier} if code_verifier else {}),
            },
        )
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def add_invoices(self, tenant_id: str, count: int, seed: int | None = None) -> int:
        """Bulk-generate more invoices in one organisation (benchmarks: 100,000 in ~3 s)."""
        return len(
            seeder.add_invoices(self.ledger, tenant_id, count, seed=self.seed if seed is None else seed)
        )

    def set_limits(self, limits: RateLimits) -> None:
        """Replace the rate limits (and forget the counts) while running."""
        self.limits = limits
        self.limiter = RateLimiter(limits, self.clock)

    # --- observers and webhooks -----------------------------------------------------------------------
    def configure_webhooks(
        self, url: str, key: str, *, batch_delay: float = 0.5, autostart: bool = True
    ) -> XeroWebhooks:
        """Send signed INVOICE/CREDITNOTE events to ``url`` when the books change."""
        if self.webhooks is not None:
            self.webhooks.stop()
        self.webhooks = XeroWebhooks(
            url,
            key,
            resource_base="https://api.xero.com/api.xro/2.0",
            batch_delay=batch_delay,
            autostart=autostart,
            seed=self.seed,
        )
        return self.webhooks

    # --- persistence ----------------------------------------------------------------------------------
    def _revision(self) -> tuple[int, int]:
        return sum(t.version for t in self.ledger.tenants.values()), self.auth.revision

    def _after_load(self) -> None:
        seeding.settle_bulk(sum(len(t.invoices) for t in self.ledger.tenants.values()))
