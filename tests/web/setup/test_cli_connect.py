"""``connector connect``: the same steps from a terminal, the answer caught on a loopback listener."""

from __future__ import annotations

import threading

import requests
from sqlalchemy import select
from typer.testing import CliRunner

from connector.cli import app as cli_app
from connector.store.models import Connection, Grant
from tests.web.setup import flow


def write_config(tmp_path, db_url: str, port: int, xero_sb) -> str:
    path = tmp_path / "connector.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"
[ledgers.xero]
client_id = "{xero_sb.client_id}"
client_secret_env = "SETUP_XERO_SECRET"
redirect_uri = "http://127.0.0.1:{port}/oauth/callback"
api_url = "{xero_sb.accounting_url}"
identity_url = "{xero_sb.identity_url}"
token_url = "{xero_sb.token_url}"
authorize_url = "{xero_sb.authorize_url}"
"""
    )
    return str(path)


def person_in_a_browser(decision: str = "allow", **choice):
    """Stands for the person: opens the URL, clicks, and the browser follows the redirect home."""
    done = threading.Event()

    def open_url(url: str) -> bool:
        def click() -> None:
            requests.get(flow.decide(url, decision=decision, **choice), timeout=10)
            done.set()

        threading.Thread(target=click, daemon=True).start()
        return True

    return open_url, done


def test_connect_xero_from_a_terminal(runtime, db_url, port, xero_sb, tmp_path, monkeypatch):
    config = write_config(tmp_path, db_url, port, xero_sb)
    open_url, done = person_in_a_browser(tenant=xero_sb.tenant_ids)
    monkeypatch.setattr("connector.cli.connect.webbrowser.open", open_url)
    result = CliRunner().invoke(
        cli_app, ["--config", config, "connect", "xero", "--all", "--clearing", "095", "--bank", "090", "--fees", "404"]
    )
    assert result.exit_code == 0, result.output
    assert done.is_set()
    assert "Connected:" in result.stdout and "invoices read" not in result.stdout
    with runtime.sessions() as session:
        rows = list(session.scalars(select(Connection).where(Connection.origin == "web")))
        assert {r.tenant_id for r in rows} == set(xero_sb.tenant_ids)
        assert {r.state for r in rows} == {"active"} and len({r.grant_id for r in rows}) == 1
    for secret in [*xero_sb.auth.access_tokens, *xero_sb.auth.refresh_tokens, *xero_sb.auth.codes]:
        assert secret not in result.output


def test_a_denied_consent_in_the_terminal_stores_nothing(runtime, db_url, port, xero_sb, tmp_path, monkeypatch):
    config = write_config(tmp_path, db_url, port, xero_sb)
    open_url, _ = person_in_a_browser(decision="deny")
    monkeypatch.setattr("connector.cli.connect.webbrowser.open", open_url)
    result = CliRunner().invoke(cli_app, ["--config", config, "connect", "xero", "--all"])
    assert result.exit_code == 2
    assert "You chose not to allow access in Xero" in result.output
    with runtime.sessions() as session:
        assert session.scalars(select(Grant)).all() == []
        assert session.scalars(select(Connection).where(Connection.origin == "web")).all() == []


def test_wrong_accounts_are_named_by_their_option(runtime, db_url, port, xero_sb, tmp_path, monkeypatch):
    config = write_config(tmp_path, db_url, port, xero_sb)
    open_url, _ = person_in_a_browser(tenant=xero_sb.tenant_ids[:1])
    monkeypatch.setattr("connector.cli.connect.webbrowser.open", open_url)
    result = CliRunner().invoke(
        cli_app, ["--config", config, "connect", "xero", "--clearing", "090", "--bank", "090", "--fees", "404"]
    )
    assert result.exit_code == 2
    assert "--bank: The bank account must be a different account" in " ".join(result.output.split())
