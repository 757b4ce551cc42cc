"""End to end in Chromium: log in → /setup → consent on the sandbox → organisations → accounts →
settings → first import, for Xero (two organisations, both chosen) and QuickBooks (the clearing
account created by the wizard). Then ``connector status`` and /connections show the invoices,
the open ones in Scheduled. Each step is saved as a screenshot (``python3 dev.py screenshots``)."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select
from typer.testing import CliRunner

from connector.cli import app as cli_app
from connector.store.models import Connection, Invoice
from tests.web.kit import PASSWORD, person, screenshot


def log_in(page, live: str) -> None:
    page.goto(f"{live}/setup")
    page.fill("#name", "owner")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live}/setup")


def accounts_settings_import(page, live: str, tmp_path, shots: str | None) -> None:
    """Steps 5 to 7 for one organisation, with the accounts the wizard preselected."""
    page.wait_for_url(re.compile(r".*/setup/\d+/accounts.*"))
    if shots:
        screenshot(page, f"{shots}-4-accounts", tmp_path)
    page.click("text=Save and continue")
    page.wait_for_url(re.compile(r".*/setup/\d+/settings"))
    if shots:
        screenshot(page, f"{shots}-5-settings", tmp_path)
    page.click("text=Save and continue")
    page.wait_for_url(re.compile(r".*/setup/\d+/import"))
    page.click("text=Start the first import")
    page.wait_for_selector("text=is connected")
    if shots:
        screenshot(page, f"{shots}-6-connected", tmp_path)


def status_of(db_url: str, monkeypatch, tmp_path) -> dict:
    """``connector status --json`` run against the same database, as support would."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", db_url)
    result = CliRunner().invoke(cli_app, ["status", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def scheduled_in_db(runtime, name: str) -> int:
    with runtime.sessions() as session:
        return session.scalar(
            select(func.count())
            .select_from(Invoice)
            .join(Connection)
            .where(Connection.name == name, Invoice.status == "scheduled")
        )


def test_browser_xero_two_organisations(page, live, runtime, xero_sb, db_url, monkeypatch, tmp_path):
    person(runtime, "owner", "admin")
    log_in(page, live)
    screenshot(page, "setup-1-choose", tmp_path)
    page.check("input[value=xero]")
    page.click("text=Continue to sign in")
    page.wait_for_url(f"{xero_sb.authorize_url}*")
    screenshot(page, "setup-2-consent-xero", tmp_path)
    for tenant in xero_sb.tenant_ids:
        assert page.is_checked(f"input[value='{tenant}']")
    page.click("#allow")
    page.wait_for_url(f"{live}/setup/organisations")
    screenshot(page, "setup-3-organisations", tmp_path)
    page.click("text=Connect the ticked organisations")
    accounts_settings_import(page, live, tmp_path, "setup")
    page.click("text=Next: set up")
    accounts_settings_import(page, live, tmp_path, None)
    page.click("text=See all connections")
    page.wait_for_url(f"{live}/connections")
    screenshot(page, "setup-7-connections", tmp_path)

    report = status_of(db_url, monkeypatch, tmp_path)
    names = [t.name for t in xero_sb.tenants]
    with runtime.sessions() as session:
        made = {c.tenant_name: c.name for c in session.scalars(select(Connection).where(Connection.origin == "web"))}
    assert sorted(made) == sorted(names)
    table = page.inner_text("table")
    for name in made.values():
        scheduled = scheduled_in_db(runtime, name)
        assert scheduled > 0
        assert report["counts"][name]["scheduled"] == scheduled
        row = next(line for line in table.splitlines() if line.startswith(name))
        assert f"\t{scheduled}\t" in row


def test_browser_quickbooks_creating_the_clearing_account(page, live, runtime, qbo_sb, db_url, monkeypatch, tmp_path):
    realm = qbo_sb.realm_ids[0]
    books = qbo_sb.ledger.books(realm)
    clearing = books.records["Account"][books.roles["clearing"]]
    clearing.doc["Name"] = clearing.doc["FullyQualifiedName"] = "Old platform money"  # no clearing account yet
    person(runtime, "owner", "admin")
    log_in(page, live)
    page.check("input[value=quickbooks]")
    page.click("text=Continue to sign in")
    page.wait_for_url(f"{qbo_sb.authorize_url}*")
    screenshot(page, "setup-2-consent-quickbooks", tmp_path)
    page.click("#allow")
    page.wait_for_url(f"{live}/setup/organisations")
    page.click("button:has-text('Connect this company')")
    page.wait_for_url(re.compile(r".*/setup/\d+/accounts"))
    page.click("text=Create “Payments platform clearing”")
    page.wait_for_selector("text=Created the account")
    chosen = page.eval_on_selector("#clearing", "el => el.options[el.selectedIndex].text")
    assert chosen.startswith("Payments platform clearing")
    screenshot(page, "setup-4-accounts-created-clearing", tmp_path)
    accounts_settings_import(page, live, tmp_path, None)
    assert sum(1 for a in books.records["Account"].values() if a.doc["Name"] == "Payments platform clearing") == 1

    report = status_of(db_url, monkeypatch, tmp_path)
    with runtime.sessions() as session:
        name = session.scalars(select(Connection.name).where(Connection.origin == "web")).one()
    scheduled = scheduled_in_db(runtime, name)
    assert scheduled > 0 and report["counts"][name]["scheduled"] == scheduled
    page.goto(f"{live}/connections")
    row = next(line for line in page.inner_text("table").splitlines() if line.startswith(name))
    assert f"\t{scheduled}\t" in row
