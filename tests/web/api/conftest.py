"""The events API under test: a runtime with one platform account, and a signing client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from connector.config import Config
from connector.runtime import Runtime, open_runtime
from connector.signing import sign_platform
from connector.web.app import create_app
from tests.conftest import ACCOUNTS

SECRET = "whsec_test_platform_secret_0123456789"


@pytest.fixture
def api_rt(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("TEST_PLATFORM_SECRET", SECRET)
    config = Config.model_validate(
        {
            "database": {"url": db_url},
            "api": {"accounts": [{"name": "acme-pay", "secret_env": "TEST_PLATFORM_SECRET"}]},
            "connections": [{"name": "acme", "provider": "xero", "tenant_id": "t-1", "accounts": ACCOUNTS}],
        }
    )
    rt = open_runtime(config=config)
    yield rt
    rt.close()


@pytest.fixture
def api_app(api_rt: Runtime) -> Flask:
    return create_app(api_rt)


class Platform:
    """The payments platform calling the API: signs each body as the docs say."""

    def __init__(self, app: Flask, secret: str = SECRET) -> None:
        self.client = app.test_client()
        self.secret = secret

    def post(
        self,
        payload: Any,
        *,
        key: str | None = None,
        at: float | None = None,
        secret: str | None = None,
        header: str | None = None,
    ) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        headers["X-Connector-Signature"] = (
            header
            if header is not None
            else sign_platform(body, secret or self.secret, int(at if at is not None else time.time()))
        )
        if key:
            headers["Idempotency-Key"] = key
        return self.client.post("/api/v1/events", data=body, headers=headers)

    def get(self, url: str) -> Any:
        header = sign_platform(b"", self.secret, int(time.time()))
        return self.client.get(url, headers={"X-Connector-Signature": header})


@pytest.fixture
def platform(api_app: Flask) -> Platform:
    return Platform(api_app)
