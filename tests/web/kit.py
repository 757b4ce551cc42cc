"""What web tests share: a client that acts like a browser (CSRF token from the page), people to
log in as, a live waitress server, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connector.actions.users import add_user
from connector.runtime import Runtime

PASSWORD = "correct horse battery"
CHROMIUM = os.environ.get("CONNECTOR_CHROMIUM", "/usr/bin/chromium")
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class WebClient:
    """Flask's test client, carrying the CSRF token of the last page it read, as a browser does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def get(self, url: str, **kwargs: Any) -> Any:
        response = self.client.get(url, **kwargs)
        self._remember(response)
        return response

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any) -> Any:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token or self._fresh_token())
        response = self.client.post(url, data=data, **kwargs)
        self._remember(response)
        return response

    def login(self, name: str, password: str = PASSWORD) -> Any:
        self.get("/login")
        response = self.post("/login", {"name": name, "password": password})
        if response.status_code == 302:
            self.token = None  # a login starts a fresh session, with a fresh token
        return response

    def _fresh_token(self) -> str:
        for url in ("/login", "/"):  # the login form, or any page with the logout form
            found = _TOKEN.search(self.client.get(url).get_data(as_text=True))
            if found:
                return found.group(1)
        raise AssertionError("no page offered a CSRF token")

    def _remember(self, response: Any) -> None:
        if response.mimetype == "text/html":
            found = _TOKEN.search(response.get_data(as_text=True))
            if found:
                self.token = found.group(1)


def person(rt: Runtime, name: str, role: str) -> str:
    add_user(rt, name, role, PASSWORD)
    return name


def client_for(app: Flask, rt: Runtime, role: str | None) -> WebClient:
    """A client logged in as a person with ``role`` (named after it), or anonymous for None."""
    client = WebClient(app.test_client())
    if role:
        person(rt, role, role)
        response = client.login(role)
        assert response.status_code == 302, response.get_data(as_text=True)
    return client


@contextmanager
def live_server(app: Flask, port: int = 0, threads: int = 4) -> Iterator[str]:
    """The app served by waitress on loopback (a free port unless given), for the browser; yields its base URL."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=port, threads=threads, ident="connector-test")
    closing = threading.Event()

    def serve() -> None:
        try:
            server.run()
        except OSError:  # the socket closed under the select loop: how the server is stopped here
            if not closing.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        closing.set()
        server.close()
        thread.join(timeout=5)


def chromium_or_skip() -> str:
    """Debian's Chromium; a skip without it, but a failure in CI (the browser tests must run there)."""
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return CHROMIUM
    message = f"no Chromium at {CHROMIUM}: `apt-get install chromium` (.ci/run does this)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def screenshot(page: Any, name: str, folder: Path) -> Path:
    """Save a full-page screenshot to ``folder`` and, when $CONNECTOR_SCREENSHOTS names a folder
    (``python3 dev.py screenshots``), there too: the README's pictures."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    target = os.environ.get("CONNECTOR_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(target) / path.name)
    return path
