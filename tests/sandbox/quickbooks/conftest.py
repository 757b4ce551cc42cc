"""Fixtures: a QuickBooks sandbox on a FakeClock, the real SDKs pointed at it over real
HTTP, and the central XSD check that sees every response the sandbox sends.

How the SDKs are pointed at the sandbox (no monkeypatching of either SDK):

* intuit-oauth: ``AuthClient(client_id, secret, redirect_uri, environment=sb.discovery_url)``.
  Any ``environment`` other than sandbox/production is used as the discovery-document URL
  and every endpoint (authorize, token, revoke, userinfo) comes from that document.
* python-quickbooks: ``qb.api_url_v3 = sb.api_url`` on the instance; the SDK builds every
  URL from its ``api_url`` property, which returns ``api_url_v3`` for non-sandbox clients.
* requests_oauthlib refuses ``http://`` unless ``OAUTHLIB_INSECURE_TRANSPORT=1``; the
  ``insecure_transport`` fixture sets it with monkeypatch for each test (autouse here).

Every sandbox comes from ``make_sandbox``, which installs the session's ``XsdChecker`` as
an observer; at teardown any response the XSD rejects fails the test. Tests never sleep to
pass time: they move ``sb.clock``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks

from connector.sandbox.quickbooks import FakeClock, QboLimits, QuickBooksSandbox
from tests.sandbox.factory import checked_sandboxes
from tests.sandbox.quickbooks.xsd_check import XSD_DIR, XsdChecker

MINOR_VERSION = 75


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not (XSD_DIR / "IntuitRestServiceDef.xsd").is_file():  # pragma: no cover - vendored in the package
        raise pytest.UsageError(f"the QuickBooks XSD is expected at {XSD_DIR} (see SOURCE.md there)")


@pytest.fixture(scope="session")
def xsd_checker() -> XsdChecker:
    """Loaded once per session (parsing Finance.xsd is the slow part)."""
    return XsdChecker()


@pytest.fixture(autouse=True)
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox speaks plain http; requests_oauthlib only allows that with this variable."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def make_sandbox(xsd_checker: XsdChecker) -> Iterator[Callable[..., QuickBooksSandbox]]:
    """Start sandboxes (FakeClock, small seed) that are XSD-checked and stopped after the test."""
    yield from checked_sandboxes(
        QuickBooksSandbox,
        xsd_checker,
        lambda: {"seed": 7, "clock": FakeClock(), "invoices_per_realm": 40, "limits": QboLimits.unlimited()},
        "the QuickBooks XSD",
        shown=15,
    )


@pytest.fixture
def sandbox(make_sandbox: Callable[..., QuickBooksSandbox]) -> QuickBooksSandbox:
    return make_sandbox()


@dataclass
class QboClient:
    """The real SDKs wired to a sandbox for one company, as a connector would hold them."""

    sandbox: QuickBooksSandbox
    auth: AuthClient
    qb: QuickBooks
    realm_id: str

    def url(self, path: str) -> str:
        return f"{self.qb.api_url}/company/{self.realm_id}/{path}"

    def reconnect(self) -> None:
        """Pick up the auth client's current access token (the SDK never does it by itself)."""
        self.qb._start_session()


def auth_client(sb: QuickBooksSandbox, **tokens: Any) -> AuthClient:
    return AuthClient(sb.client_id, sb.client_secret, sb.redirect_uri, sb.discovery_url, **tokens)


def connect(sb: QuickBooksSandbox, realm_id: str | None = None, tokens: dict[str, Any] | None = None) -> QboClient:
    """The auth-code flow over HTTP, then a QuickBooks client pointed at the sandbox."""
    tokens = tokens or sb.authorize(realm_id)
    realm = tokens.get("realmId") or realm_id or sb.realm_ids[0]
    auth = auth_client(sb, access_token=tokens["access_token"], refresh_token=tokens["refresh_token"], realm_id=realm)
    qb = QuickBooks(
        auth_client=auth, refresh_token=tokens["refresh_token"], company_id=realm, minorversion=MINOR_VERSION
    )
    qb.api_url_v3 = sb.api_url
    return QboClient(sb, auth, qb, realm)


@pytest.fixture
def client(sandbox: QuickBooksSandbox) -> QboClient:
    """The SDK connected to the first company (US, -08:00) of the default sandbox."""
    return connect(sandbox)
