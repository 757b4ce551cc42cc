"""Fixtures: a Xero sandbox on a FakeClock, the real xero-python SDK pointed at it, and the
central spec check that sees every response the sandbox sends.

Every sandbox a test starts comes from ``make_sandbox``, which installs the session's
``SpecChecker`` as an observer; at teardown any response the spec rejected fails the
test. Tests never sleep to pass time: they move ``sb.clock``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from urllib3.util.retry import Retry
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.identity import IdentityApi

from connector.sandbox.xero import FakeClock, RateLimits, XeroSandbox
from tests.sandbox.factory import checked_sandboxes
from tests.sandbox.xero.spec_check import SpecChecker

MakeSandbox = Callable[..., XeroSandbox]


@pytest.fixture(scope="session")
def spec_checker() -> SpecChecker:
    """Loaded once per session: parsing the accounting spec is the slow part."""
    return SpecChecker()


@pytest.fixture
def make_sandbox(spec_checker: SpecChecker) -> Iterator[MakeSandbox]:
    """Start sandboxes (FakeClock, small seed) that are spec-checked and stopped after the test."""
    yield from checked_sandboxes(
        XeroSandbox,
        spec_checker,
        lambda: {"seed": 7, "clock": FakeClock(), "invoices_per_tenant": 40},
        "the Xero spec",
        shown=10,
    )


@pytest.fixture
def sandbox(make_sandbox: MakeSandbox) -> XeroSandbox:
    """The default sandbox: generous limits so only rate-limit tests see 429s."""
    return make_sandbox(limits=RateLimits(per_minute=10_000, per_day=100_000, concurrent=50))


def sdk_token(body: dict[str, Any]) -> dict[str, Any]:
    """Xero's token body as the SDK wants it stored: scope as a list (a str makes the SDK
    send "o f f l i n e ..." on refresh) and expires_at on the SDK's own clock."""
    return {**body, "scope": body["scope"].split(), "expires_at": time.time() + body["expires_in"]}


@dataclass
class XeroClient:
    """The real SDK wired to a sandbox, with the token store a connector would keep."""

    sandbox: XeroSandbox
    api_client: ApiClient
    accounting: AccountingApi
    identity: IdentityApi
    store: dict[str, Any] = field(default_factory=dict)
    saved: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tenant_id(self) -> str:
        return self.sandbox.tenant_ids[0]

    @property
    def token(self) -> dict[str, Any]:
        return self.store["token"]

    def force_refresh_next_call(self) -> None:
        """Make the SDK believe its access token is about to expire (it refreshes first)."""
        self.store["token"] = {**self.store["token"], "expires_at": time.time() - 1}

    def advance(self, **units: float) -> None:
        """Move the sandbox clock; past 30 minutes the access token dies, so refresh first."""
        self.sandbox.clock.advance(**units)  # type: ignore[attr-defined]
        self.force_refresh_next_call()

    def last_headers(self) -> dict[str, str]:
        return dict(self.api_client.last_response.getheaders())


def connect(sb: XeroSandbox, token_body: dict[str, Any] | None = None, honour_retry_after: bool = False) -> XeroClient:
    body = token_body or sb.issue_tokens()
    store: dict[str, Any] = {"token": sdk_token(body)}
    saved: list[dict[str, Any]] = []

    def save(token: dict[str, Any]) -> None:
        store["token"] = token
        saved.append(token)

    configuration = Configuration()
    # Configuration is a copy-of-first-instance singleton in the SDK: set the token object
    # explicitly so this client never inherits another test's credentials.
    configuration.oauth2_token = OAuth2Token(client_id=sb.client_id, client_secret=sb.client_secret)
    api_client = ApiClient(
        configuration, pool_threads=1, oauth2_token_getter=lambda: store["token"], oauth2_token_saver=save
    )
    if not honour_retry_after:
        # urllib3 (under the SDK) silently sleeps Retry-After and retries GET/PUT on 429 and
        # 503. Tests that want to see the 429 turn only that off; connection-error retries
        # stay, as in production.
        api_client.rest_client.pool_manager.connection_pool_kw["retries"] = Retry(
            total=3, respect_retry_after_header=False
        )
    return XeroClient(
        sb,
        api_client,
        AccountingApi(api_client, base_url=sb.accounting_url),
        IdentityApi(api_client, base_url=sb.identity_url),
        store,
        saved,
    )


XeroFor = Callable[..., XeroClient]


@pytest.fixture
def point_sdk_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[XeroSandbox], None]:
    """The SDK's token URLs are class attributes (research §8): patch them per test."""

    def point(sb: XeroSandbox) -> None:
        monkeypatch.setattr(TokenApi, "refresh_token_url", sb.token_url)
        monkeypatch.setattr(TokenApi, "revoke_token_url", sb.revocation_url)

    return point


@pytest.fixture
def xero(sandbox: XeroSandbox, point_sdk_at: Callable[[XeroSandbox], None]) -> XeroClient:
    point_sdk_at(sandbox)
    return connect(sandbox)


@pytest.fixture
def xero_for(point_sdk_at: Callable[[XeroSandbox], None]) -> XeroFor:
    """SDK client for a sandbox a test made itself (custom limits, faults, webhooks)."""

    def build(
        sb: XeroSandbox, token_body: dict[str, Any] | None = None, *, honour_retry_after: bool = False
    ) -> XeroClient:
        point_sdk_at(sb)
        return connect(sb, token_body, honour_retry_after)

    return build
