"""``connector sandbox xero`` as a newcomer runs it: it prints where it listens and a working
sample command, answers that command, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import requests
import typer
from typer.testing import CliRunner

from connector.sandbox.common.recording import Exchange
from connector.sandbox.xero.cli import serve
from tests.sandbox.xero.spec_check import SpecChecker

ROOT = Path(__file__).resolve().parents[3]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(serve)
    return app


def test_help_and_bad_fault_spec() -> None:
    runner = CliRunner()
    help_text = runner.invoke(_app(), ["--help"]).output
    for option in ("--port", "--seed", "--data", "--latency", "--faults"):
        assert option in help_text
    result = runner.invoke(_app(), ["--faults", "teapot=1"])
    assert result.exit_code == 2
    assert "teapot" in result.output


def test_run_curl_and_ctrl_c(tmp_path: Path, spec_checker: SpecChecker) -> None:
    data = tmp_path / "demo.json"
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "connector.sandbox.xero", "--seed", "1000", "--data", str(data)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Press Ctrl-C to stop." in line:
                break
        output = "".join(lines)
        assert re.search(r"Xero sandbox listening on http://127\.0\.0\.1:\d+", output), output
        curl = next(line.strip() for line in lines if line.strip().startswith("curl "))
        args = shlex.split(curl)
        headers = dict(args[i + 1].split(": ", 1) for i, a in enumerate(args) if a == "-H")
        url = args[-1]
        response = requests.get(url, headers=headers, timeout=10)
        assert response.status_code == 200
        assert response.json()["Invoices"]
        path = url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
        problem = spec_checker.check(
            Exchange(
                method="GET",
                path="/" + path,
                query={},
                request_headers=headers,
                request_body=b"",
                status=response.status_code,
                content_type=response.headers["Content-Type"],
                response_headers={},
                body=response.content,
                area="accounting",
            )
        )
        assert problem is None, problem
    finally:
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, rest
    assert "Stopped." in rest
    assert data.exists() and data.stat().st_size > 1000
