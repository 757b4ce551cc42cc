"""Fixtures for the setup wizard: both sandboxes over real HTTP, a runtime whose ledgers point at
them (with the OAuth callback on a known loopback port), and the app served there for Chromium."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from flask import Flask

from connector.config import Config
from connector.runtime import Runtime, open_runtime
from connector.sandbox.common.ratelimit import RateLimits
from connector.sandbox.quickbooks import QuickBooksSandbox
from connector.sandbox.xero import XeroSandbox
from tests.web.kit import live_server

#: A connection the config file declares: the wizard must refuse its name.
FILE_CONNECTION = "from-file"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def port() -> int:
    """Where the app listens in browser tests, and so where the ledgers send the browser back."""
    return _free_port()


@pytest.fixture
def xero_sb() -> Iterator[XeroSandbox]:
    """Two organisations, a consent page a person must click (no auto-consent)."""
    with XeroSandbox(
        seed=11, tenants=2, invoices_per_tenant=12, limits=RateLimits.unlimited(), auto_consent=False
    ) as sandbox:
        yield sandbox


@pytest.fixture
def qbo_sb(monkeypatch: pytest.MonkeyPatch) -> Iterator[QuickBooksSandbox]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # requests-oauthlib refuses http:// otherwise
    with QuickBooksSandbox(
        seed=5, realms=1, invoices_per_realm=12, limits=RateLimits.unlimited(), auto_consent=False
    ) as sandbox:
        yield sandbox


def setup_config(db_url: str, port: int, xero: XeroSandbox, qbo: QuickBooksSandbox) -> Config:
    callback = f"http://127.0.0.1:{port}/oauth/callback"
    return Config.model_validate(
        {
            "database": {"url": db_url},
            "web": {"port": port},
            "ledgers": {
                "xero": {
                    "client_id": xero.client_id,
                    "client_secret_env": "SETUP_XERO_SECRET",
                    "redirect_uri": callback,
                    "api_url": xero.accounting_url,
                    "identity_url": xero.identity_url,
                    "token_url": xero.token_url,
                    "authorize_url": xero.authorize_url,
                    # The sandbox's report endpoint still knows only the broad report scope.
                    "scopes": [
                        "offline_access",
                        "accounting.invoices",
                        "accounting.payments",
                        "accounting.banktransactions",
                        "accounting.settings",
                        "accounting.reports.read",
                    ],
                },
                "quickbooks": {
                    "client_id": qbo.client_id,
                    "client_secret_env": "SETUP_QBO_SECRET",
                    "redirect_uri": callback,
                    "api_url": qbo.api_url,
                    "identity_url": qbo.discovery_url,
                    "token_url": qbo.token_url,
                    "authorize_url": qbo.authorize_url,
                },
            },
            "connections": [
                {
                    "name": FILE_CONNECTION,
                    "provider": "xero",
                    "tenant_id": "not-a-real-tenant",
                    "accounts": {"clearing": "095", "bank": "090", "fees": "404"},
                    "enabled": False,
                }
            ],
        }
    )


@pytest.fixture
def runtime(
    db_url: str, port: int, xero_sb: XeroSandbox, qbo_sb: QuickBooksSandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runtime]:
    """Overrides the suite's runtime: the web fixtures (``app``, ``admin``…) are built on this one."""
    monkeypatch.setenv("SETUP_XERO_SECRET", xero_sb.client_secret)
    monkeypatch.setenv("SETUP_QBO_SECRET", qbo_sb.client_secret)
    rt = open_runtime(config=setup_config(db_url, port, xero_sb, qbo_sb))
    yield rt
    rt.close()


@pytest.fixture
def live(app: Flask, port: int) -> Iterator[str]:
    """The app served by waitress on ``port``, where the ledgers' consent pages send the browser."""
    with live_server(app, port, threads=6) as base:
        yield base
    join_imports(app)


@pytest.fixture(autouse=True)
def _join_imports(app: Flask) -> Iterator[None]:
    """Background imports end before the database goes away."""
    yield
    for worker in list(app.extensions.get("connector.imports", {}).values()):
        worker.join(timeout=60)


def join_imports(app: Flask) -> None:
    for worker in list(app.extensions.get("connector.imports", {}).values()):
        worker.join(timeout=60)
        assert not worker.is_alive()
