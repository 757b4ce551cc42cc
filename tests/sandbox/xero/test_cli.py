"""``connector sandbox xero`` as a newcomer runs it: it prints where it listens and a working
sample command, answers that command, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import requests
import typer
from typer.testing import CliRunner

from connector.sandbox.common.recording import Exchange
from connector.sandbox.xero.cli import serve
from tests.sandbox.running import PATIENCE_SECONDS, python_child
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
    command = ["-u", "-m", "connector.sandbox.xero", "--seed", "1000", "--data", str(data)]
    with python_child(command, ROOT, "Press Ctrl-C to stop.") as child:
        lines = child.banner
        output = "".join(lines)
        assert re.search(r"Xero sandbox listening on http://127\.0\.0\.1:\d+", output), output
        curl = next(line.strip() for line in lines if line.strip().startswith("curl "))
        args = shlex.split(curl)
        headers = dict(args[i + 1].split(": ", 1) for i, a in enumerate(args) if a == "-H")
        url = args[-1]
        response = requests.get(url, headers=headers, timeout=PATIENCE_SECONDS)
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
    rest = child.rest
    assert child.process.returncode == 0, rest
    assert "Stopped." in rest
    assert data.exists() and data.stat().st_size > 1000
