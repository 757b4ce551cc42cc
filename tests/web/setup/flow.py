"""Walking the consent at a sandbox the way a browser does, for Flask test-client tests: the
wizard's redirect, the sandbox's consent page over HTTP, the person's click, the way back."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

from tests.web.kit import WebClient

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def start(client: WebClient, provider: str) -> str:
    """Choose the ledger on /setup: the wizard answers with the provider's consent URL."""
    client.get("/setup")
    response = client.post("/setup/consent", {"provider": provider})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def decide(consent_url: str, decision: str = "allow", **choice: Any) -> str:
    """Open the sandbox's consent page and click Allow (or Cancel); returns the callback URL
    the sandbox sends the browser to. ``choice``: ``tenant=[ids]`` (Xero) or ``realmId=id``."""
    page = requests.get(consent_url, timeout=10)
    assert page.status_code == 200, page.text
    form = {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}
    action = consent_url.split("?", 1)[0]
    answer = requests.post(action, data={**form, "decision": decision, **choice}, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["Location"]


def back(client: WebClient, callback_url: str) -> Any:
    """The browser arrives at the connector's callback."""
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def connect(client: WebClient, provider: str, **choice: Any) -> Any:
    """Steps 1 to 3 in one: the answer is the callback's redirect."""
    return back(client, decide(start(client, provider), **choice))
