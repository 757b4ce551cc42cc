"""``connector demo`` leaves an admin to log in with, and says how."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from connector.cli import app as cli_app
from connector.runtime import open_runtime
from connector.web.app import create_app
from tests.web.kit import WebClient


def test_the_demo_prints_a_login_that_works(tmp_path, monkeypatch):
    """As the Quickstart runs it: the default, relative folder, from the project's folder."""
    monkeypatch.delenv("CONNECTOR_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    folder = Path("demo")
    result = CliRunner().invoke(cli_app, ["demo", "--invoices", "12"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert f"connector --config {folder / 'connector.toml'} web" in text and "http://127.0.0.1:8080" in text
    name, password = re.search(r"log in as (\S+) with the password (\S+)", text).groups()
    rt = open_runtime(folder / "connector.toml")
    try:
        client = WebClient(create_app(rt).test_client())
        assert client.login(name, password).status_code == 302
        assert client.get("/connections").status_code == 200
        assert "demo-xero" in client.get("/").get_data(as_text=True)  # the demo's own data, not an empty database
    finally:
        rt.close()
