"""Fixtures for the web application's tests (see kit.py for the helpers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from connector.runtime import Runtime
from connector.web.app import create_app
from tests.web.kit import WebClient, chromium_or_skip, client_for, live_server


@pytest.fixture
def app(runtime: Runtime) -> Flask:
    return create_app(runtime)


@pytest.fixture
def anonymous(app: Flask, runtime: Runtime) -> WebClient:
    return client_for(app, runtime, None)


@pytest.fixture
def viewer(app: Flask, runtime: Runtime) -> WebClient:
    return client_for(app, runtime, "viewer")


@pytest.fixture
def support(app: Flask, runtime: Runtime) -> WebClient:
    return client_for(app, runtime, "support")


@pytest.fixture
def admin(app: Flask, runtime: Runtime) -> WebClient:
    return client_for(app, runtime, "admin")


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    with live_server(app) as base:
        yield base


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One Chromium for the whole session (Playwright driving Debian's build)."""
    path = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page per test."""
    context = chromium.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
