"""``connector sandbox xero`` as a newcomer runs it: it prints where it listens and a working
sample command, answers that command, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
import typer
from typer.testing import CliRunner

from connector.sandbox.common.recording import Exchange
from connector.sandbox.xero.cli import serve
from tests.sandbox.xero.spec_check import SpecChecker

ROOT = Path(__file__).resolve().parents[3]
# How long to wait for the child to print its banner or to stop: a bound for a hung child, never a
# measurement, so generous enough for a machine under full load.
PATIENCE_SECONDS = 300


@contextmanager
def ctrl_c_reaches_children() -> Iterator[None]:
    """Let a child started in this block see SIGINT (Ctrl-C) even if this run ignores it.

    A test run started in the background by a shell without job control (``pytest ... &`` in a
    script, CI wrappers) inherits SIGINT ignored; Python then leaves it ignored and so would the
    child, which would never stop on Ctrl-C. A caught signal is reset to its default on exec, so
    catching it here for the moment of the spawn gives the child Python's usual KeyboardInterrupt.
    """
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    if not ignored or threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


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
    with ctrl_c_reaches_children():
        proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "connector.sandbox.xero", "--seed", "1000", "--data", str(data)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    # A child that hangs before its banner is killed, so the read below ends and the test fails.
    watchdog = threading.Timer(PATIENCE_SECONDS, proc.kill)
    watchdog.daemon = True
    watchdog.start()
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
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=PATIENCE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
            raise AssertionError("the sandbox did not stop on Ctrl-C:\n" + "".join(lines) + rest) from None
        finally:
            watchdog.cancel()
    assert proc.returncode == 0, rest
    assert "Stopped." in rest
    assert data.exists() and data.stat().st_size > 1000
