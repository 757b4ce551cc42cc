"""``connector web``: waitress on loopback; beyond loopback only behind https."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import requests

from connector.config import WebConfig
from connector.web.serve import bind_problem


def test_loopback_is_fine_and_anywhere_else_needs_https() -> None:
    assert bind_problem(WebConfig()) is None
    assert bind_problem(WebConfig(host="::1")) is None
    problem = bind_problem(WebConfig(host="0.0.0.0"))
    assert problem and "public_url" in problem and "TLS" in problem
    assert bind_problem(WebConfig(host="0.0.0.0", public_url="http://c.example")) is not None
    assert bind_problem(WebConfig(host="0.0.0.0", public_url="https://c.example")) is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(tmp_path, *args: str, **kwargs):
    env = {**os.environ, "CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite'}"}
    return subprocess.Popen(
        [sys.executable, "-m", "connector.cli", *args], env=env, cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs,
    )


def test_connector_web_refuses_a_public_address_without_https(tmp_path) -> None:
    proc = _cli(tmp_path, "web", "--host", "0.0.0.0")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "public_url" in (out + err)


def test_connector_web_serves_with_waitress(tmp_path) -> None:
    port = _free_port()
    proc = _cli(tmp_path, "web", "--port", str(port))
    try:
        for _ in range(300):
            try:
                response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError("connector web did not answer")
        assert response.status_code == 200 and response.headers["Server"] == "connector"
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
