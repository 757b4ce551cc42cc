"""``connector demo``: the connector end to end against a local Xero, in under a minute.

It starts the Xero sandbox in this process with a seeded organisation, connects to it the way
the setup wizard will (consent, code exchange, choose the organisation), imports, shows the
invoices landing in Scheduled, plays the platform's events (collections started, one failing
and retried, confirmations, a payout with a fee), pushes them back, re-reads the ledger through
its API to show the payments, the transfer and the fee there, and prints the status table and
one invoice's timeline. Everything lands in a fresh SQLite file under ``demo/``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlparse

import requests
import typer
from rich.table import Table
from sqlalchemy import select

from connector.actions import Actor
from connector.actions import platform as platform_actions
from connector.actions.reconcile import run_reconcile
from connector.actions.sync import run_sync
from connector.config import Config
from connector.ledgers.oauth import OAuthClient, consent_url, exchange_code, new_state
from connector.ledgers.xero import SCOPES, XeroLedger
from connector.render import (
    console,
    fail,
    print_reconciliation,
    print_status,
    print_sync_summary,
    print_timeline,
    with_progress,
)
from connector.runtime import Runtime, open_runtime
from connector.store.models import Connection, Invoice
from connector.store.secrets import ConnectionTokens
from connector.sync.connect import ledger_for, save_token, vault_for, xero_app

SECRET_ENV = "CONNECTOR_DEMO_XERO_SECRET"
REDIRECT = "http://127.0.0.1:8080/oauth/callback"
ACCOUNTS = {"clearing": "095", "bank": "090", "fees": "404"}


def demo(
    folder: Annotated[Path, typer.Option("--folder", help="where the demo database and config go")] = Path("demo"),
    seed: Annotated[int, typer.Option("--seed", help="which organisation the sandbox generates")] = 1000,
    invoices: Annotated[int, typer.Option("--invoices", help="sales invoices in the organisation")] = 60,
    ledger: Annotated[str, typer.Option("--ledger", help="xero or quickbooks")] = "xero",
) -> None:
    """Run the connector end to end against a local Xero (or QuickBooks Online) sandbox."""
    from connector.reports import status_report, timeline

    if ledger not in ("xero", "quickbooks"):
        raise fail(f"--ledger: expected xero or quickbooks, got {ledger!r}")
    name = "Xero" if ledger == "xero" else "QuickBooks"
    started = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with _sandbox(ledger, seed, invoices) as sandbox:
        os.environ[SECRET_ENV] = sandbox.client_secret
        rt = open_runtime(config=_config(folder, sandbox, ledger))
        _write_config(folder, sandbox)
        console.rule(f"[bold]1. Connect to {name}")
        org = _connect(rt, sandbox) if ledger == "xero" else _connect_quickbooks(rt, sandbox)
        console.print(f"Consent given, code exchanged, token stored encrypted; organisation: [bold]{org}[/]")

        console.rule("[bold]2. Import")
        print_sync_summary(with_progress(lambda **kw: run_sync(rt, **kw)))
        with rt.transaction() as session:
            print_status(status_report(session))

        console.rule("[bold]3. The platform collects")
        chosen, failing = _play_platform(rt)
        console.print(
            f"{len(chosen)} direct debits started; {failing.number} failed (insufficient funds), was "
            f"retried and confirmed; all {len(chosen)} paid; a payout PO-DEMO-1 settled them, less a fee."
        )

        console.rule(f"[bold]4. Push to {name}")
        print_sync_summary(with_progress(lambda **kw: run_sync(rt, **kw)))

        console.rule(f"[bold]5. What {name} shows now (re-read through its API)")
        _show_ledger(rt, [c.external_id for c in chosen])

        console.rule("[bold]6. Status and one invoice's story")
        with rt.transaction() as session:
            print_status(status_report(session))
            print_timeline(timeline(session, session.get(Invoice, failing.id)))

        console.rule(f"[bold]7. Reconcile: {name} against the platform")
        results = run_reconcile(rt)
        print_reconciliation(results)
        login = _demo_person(rt)
        rt.close()
        if any(r.findings or r.error for r in results):
            raise fail("the reconciliation found differences after the demo's own lifecycle")
    console.print(
        f"\nDone in {time.perf_counter() - started:.1f} s. The database is {folder / 'connector.sqlite'}; "
        f"try: [bold]python3 dev.py --config {folder / 'connector.toml'} activity {failing.number}[/]",
        highlight=False,
    )
    config = folder / "connector.toml"
    console.print(
        f"\nSee it in the browser: run [bold]connector --config {config} web[/], open "
        f"[bold]http://127.0.0.1:8080[/] and log in as [bold]{login[0]}[/] with the password [bold]{login[1]}[/] "
        "(an admin, made for this demo).",
        highlight=False,
    )


DEMO_PERSON = "demo"


def _demo_person(rt: Runtime) -> tuple[str, str]:
    """An admin to log in to the web console with, on the demo's database; a fresh password each run."""
    import secrets

    from connector.actions.users import add_user

    password = secrets.token_urlsafe(12)
    add_user(rt, DEMO_PERSON, "admin", password)
    return DEMO_PERSON, password


def _sandbox(ledger: str, seed: int, invoices: int) -> Any:
    if ledger == "xero":
        from connector.sandbox.xero import XeroSandbox

        return XeroSandbox(seed=seed, tenants=1, invoices_per_tenant=invoices)
    from connector.sandbox.quickbooks import QuickBooksSandbox

    os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the local sandbox speaks http on loopback
    return QuickBooksSandbox(seed=seed, realms=1, invoices_per_realm=invoices)


def _config(folder: Path, sandbox: Any, ledger: str) -> Config:
    if ledger == "xero":
        app = {
            "api_url": sandbox.accounting_url,
            "identity_url": sandbox.identity_url,
            "token_url": sandbox.token_url,
            "authorize_url": sandbox.authorize_url,
            "redirect_uri": REDIRECT,
        }
        accounts = ACCOUNTS
    else:  # accounts are chosen after connecting, as the wizard does
        app = {
            "api_url": sandbox.api_url,
            "identity_url": sandbox.discovery_url,
            "token_url": sandbox.token_url,
            "authorize_url": sandbox.authorize_url,
            "redirect_uri": sandbox.redirect_uri,
        }
        accounts = {"clearing": "to-choose", "bank": "to-choose-too", "fees": "to-choose"}
    return Config.model_validate(
        {
            "database": {"url": f"sqlite:///{folder / 'connector.sqlite'}"},
            "security": {"key_env": "", "key_file": str(folder / ".connector-key")},
            "ledgers": {ledger: {"client_id": sandbox.client_id, "client_secret_env": SECRET_ENV, **app}},
            "connections": [{"name": f"demo-{ledger}", "provider": ledger, "accounts": accounts}],
        }
    )


def _connect_quickbooks(rt: Runtime, qbo: Any) -> str:
    """Consent for one company, code exchange, then choose the clearing, bank and fee accounts."""
    from connector.ledgers.quickbooks import QuickBooksLedger
    from connector.sync.connect import quickbooks_app

    app = rt.config.ledgers.quickbooks
    client = OAuthClient(
        app.client_id,
        app.client_secret(),
        app.authorize_url,
        app.token_url,
        app.redirect_uri,
        ("com.intuit.quickbooks.accounting",),
    )
    state = new_state()
    url = consent_url(client, state)
    requests.get(url, timeout=10).raise_for_status()
    query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    answer = requests.post(
        app.authorize_url,
        data={**query, "decision": "allow", "realmId": qbo.realm_ids[0]},
        allow_redirects=False,
        timeout=10,
    )
    back = parse_qs(urlparse(answer.headers["Location"]).query)
    if back.get("state") != [state]:
        raise RuntimeError("the consent answer does not match the request (state)")
    token = exchange_code(client, back["code"][0])
    realm = back["realmId"][0]  # Intuit names the company in the redirect
    with rt.sessions() as session:
        connection_id = session.scalars(select(Connection.id)).one()
    save_token(rt, connection_id, token)
    tokens = ConnectionTokens(rt.sessions, connection_id, vault_for(rt.config))
    accounts = {a["name"]: a["id"] for a in QuickBooksLedger(quickbooks_app(rt.config), realm, tokens).accounts()}
    chosen = {
        "clearing": accounts["Payments Platform Clearing"],
        "bank": accounts["Checking"],
        "fees": accounts["Bank Charges & Fees"],
    }
    with rt.transaction() as session:
        connection = session.get(Connection, connection_id)
        connection.tenant_id = realm
        connection.settings = {**connection.settings, "accounts": chosen}
    return f"company {realm}"


def _write_config(folder: Path, sandbox: object) -> None:
    """A config for poking at the demo database afterwards (the sandbox itself is gone by then)."""
    (folder / "connector.toml").write_text(
        "# Written by `connector demo`: the demo database, for `status` and `activity` afterwards.\n"
        "[database]\n"
        'url = "sqlite:///connector.sqlite"  # the demo\'s SQLite file, next to this one\n'
        "[security]\n"
        'key_env = ""  # no key in the environment: use the file below\n'
        'key_file = ".connector-key"  # the demo\'s token key, next to this file\n'
    )


def _connect(rt: Runtime, xero: object) -> str:
    """What the setup wizard does: consent page, code exchange, choose the organisation."""
    app = rt.config.ledgers.xero
    client = OAuthClient(
        app.client_id, app.client_secret(), app.authorize_url, app.token_url, app.redirect_uri, tuple(SCOPES)
    )
    state = new_state()
    url = consent_url(client, state)
    requests.get(url, timeout=10).raise_for_status()  # the consent page a person would see
    query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    answer = requests.post(
        app.authorize_url, data={**query, "decision": "allow"}, allow_redirects=False, timeout=10
    )  # the person clicks "Allow access"
    back = parse_qs(urlparse(answer.headers["Location"]).query)
    if back.get("state") != [state]:
        raise RuntimeError("the consent answer does not match the request (state)")
    token = exchange_code(client, back["code"][0])
    with rt.sessions() as session:
        connection_id = session.scalars(select(Connection.id)).one()
    save_token(rt, connection_id, token)
    probe = XeroLedger(xero_app(rt.config), "", ConnectionTokens(rt.sessions, connection_id, vault_for(rt.config)))
    org = probe.connections()[0]  # one organisation in the demo: the wizard would offer a choice
    with rt.transaction() as session:
        connection = session.get(Connection, connection_id)
        connection.tenant_id, connection.tenant_name = org["tenant_id"], org["name"]
    return org["name"]


def _play_platform(rt: Runtime) -> tuple[list[Invoice], Invoice]:
    """The platform's events, through the same actions its API and the CLI use."""
    with rt.sessions() as session:
        scheduled = list(session.scalars(select(Invoice).where(Invoice.status == "scheduled").order_by(Invoice.id)))
        currency = Counter(i.currency for i in scheduled).most_common(1)[0][0]  # the organisation's own
        chosen = [i for i in scheduled if i.currency == currency][:5]
    refs = [f"#{inv.id}" for inv in chosen]
    failing = chosen[1]
    platform = Actor.platform("demo platform")
    platform_actions.record_event(rt, "collection_started", refs, actor=platform)
    platform_actions.record_event(rt, "collection_failed", [refs[1]], actor=platform, reason="insufficient funds")
    platform_actions.record_event(rt, "collection_started", [refs[1]], actor=platform)
    for ref, inv in zip(refs, chosen, strict=True):
        platform_actions.record_event(rt, "collection_confirmed", [ref], actor=platform, reference=f"DD-{inv.number}")
    fee = sum((inv.amount_due * Decimal("0.01") + Decimal("0.20") for inv in chosen), Decimal(0))
    platform_actions.record_payout(rt, refs, actor=platform, fee=fee.quantize(Decimal("0.01")), reference="PO-DEMO-1")
    return chosen, failing


def _show_ledger(rt: Runtime, external_ids: list[str]) -> None:
    with rt.sessions() as session:
        ledger = ledger_for(rt, session.scalars(select(Connection)).one())
    table = Table(title="Invoices in the ledger")
    for col in ("number", "ledger says", "amount due", "paid", "payment references"):
        table.add_column(col)
    for inv in ledger.get_invoices(external_ids):
        refs = "; ".join(p.reference for p in inv.payments if p.reference)  # type: ignore[union-attr]
        table.add_row(inv.number, inv.status, str(inv.amount_due), str(inv.amount_paid), refs)  # type: ignore[union-attr]
    console.print(table)
    if ledger.provider == "xero":
        transfers = ledger.accounting.get_bank_transfers(ledger.tenant_id).bank_transfers or []
        spends = ledger.accounting.get_bank_transactions(ledger.tenant_id, where='Type=="SPEND"').bank_transactions
        for t in transfers:
            if "PO-DEMO-1" in (t.reference or ""):
                console.print(
                    f"Bank transfer {t.amount} from {t.from_bank_account.name} to {t.to_bank_account.name} "
                    f"({t.reference})",
                    highlight=False,
                )
        for t in spends or []:
            if "PO-DEMO-1" in (t.reference or ""):
                console.print(
                    f"Spend money {t.total} from {t.bank_account.name}, account "
                    f"{t.line_items[0].account_code} ({t.reference})",
                    highlight=False,
                )
        return
    for t in ledger.payouts_on(date.today()):
        if "PO-DEMO-1" in str(t.get("PrivateNote", "")):
            if t["kind"] == "Transfer":
                console.print(
                    f"Transfer {t['Amount']} from {t['FromAccountRef'].get('name', t['FromAccountRef'])} "
                    f"to {t['ToAccountRef'].get('name', t['ToAccountRef'])} ({t['PrivateNote']})",
                    highlight=False,
                )
            else:
                console.print(
                    f"Purchase (fee) {t['TotalAmt']} from {t['AccountRef'].get('name', t['AccountRef'])} "
                    f"({t['PrivateNote']})",
                    highlight=False,
                )
