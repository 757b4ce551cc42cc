"""``connector connect xero|quickbooks``: the setup wizard's steps from a terminal (headless servers).

The same actions as ``/setup`` (:mod:`connector.actions.connections`). The consent still needs a
browser, anywhere: the command prints the provider's URL (or opens it), and catches the answer on
a temporary listener at the ``redirect_uri`` of ``[ledgers.<provider>]`` (a loopback address such
as ``http://127.0.0.1:8080/oauth/callback``; stop ``connector web`` meanwhile, or the port is
taken). On a server without a browser, forward the port (``ssh -L 8080:127.0.0.1:8080 server``)
and open the URL on your own machine. Accounts come from ``--clearing/--bank/--fees`` (Xero: the
account code; QuickBooks: the account id; ``--clearing create`` makes "Payments platform
clearing"), or from prompts.
"""

from __future__ import annotations

import secrets
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

import typer

from connector.actions import Actor
from connector.actions import connections as actions
from connector.actions.sync import run_sync
from connector.cli.common import acting, one_line
from connector.render import console, print_sync_summary, with_progress

_ANSWERED = (
    b"<!doctype html><meta charset=utf-8><title>Connector</title>"
    b"<p style='font-family:sans-serif'>Done: go back to the terminal. You can close this window.</p>"
)


class _Callback:
    """A one-shot HTTP listener for the provider's redirect: keeps the first query at ``path``."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.query: dict[str, str] | None = None
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != path or outer.arrived.is_set():
                    self.send_error(404)
                    return
                outer.query = dict(parse_qsl(parts.query))
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(_ANSWERED)
                outer.arrived.set()

            def log_message(self, *_: Any) -> None:  # the query holds the code: never printed
                return

        self.server = HTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Callback:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def connect(
    ctx: typer.Context,
    provider: Annotated[str, typer.Argument(help="xero or quickbooks")],
    no_browser: Annotated[bool, typer.Option("--no-browser", help="print the consent URL, do not open it")] = False,
    clearing: Annotated[str | None, typer.Option("--clearing", help="clearing account (code or id; 'create')")] = None,
    bank: Annotated[str | None, typer.Option("--bank", help="bank account payouts arrive in (code or id)")] = None,
    fees: Annotated[str | None, typer.Option("--fees", help="expense account for the platform's fees")] = None,
    every: Annotated[bool, typer.Option("--all", help="Xero: connect every organisation the consent covers")] = False,
    name: Annotated[str | None, typer.Option("--name", help="connection name (one organisation)")] = None,
    no_import: Annotated[bool, typer.Option("--no-import", help="leave the first import to the daemon")] = False,
) -> None:
    """Connect Xero or QuickBooks from a terminal: consent, organisations, accounts, first import."""
    if provider not in actions.PROVIDERS:
        raise one_line("connect: expected xero or quickbooks")
    actor = Actor.terminal_user()
    with acting(ctx) as rt:
        client = actions.oauth_client(rt.config, provider)
        target = urlsplit(client.redirect_uri)
        if target.scheme != "http" or target.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise one_line(
                f"[ledgers.{provider}] redirect_uri is {client.redirect_uri}: `connector connect` listens on a "
                "loopback http address; use the setup wizard of `connector web` behind your public address instead"
            )
        browser = secrets.token_urlsafe(24)  # this terminal session stands for the browser
        try:
            listener = _Callback(target.hostname or "127.0.0.1", target.port or 80, target.path or "/")
        except OSError as exc:
            raise one_line(
                f"cannot listen on {target.hostname}:{target.port} for the answer ({exc.strerror}): "
                "is `connector web` running there? Stop it, or use its setup wizard"
            ) from None
        with listener:
            start = actions.begin_consent(rt, provider, browser=browser, actor=actor)
            console.print(f"Open this address in a browser and allow access:\n\n{start.url}\n", highlight=False,
                          soft_wrap=True)
            if not no_browser:
                webbrowser.open(start.url)
            console.print(f"Waiting for {actions.PROVIDERS[provider]} to send the browser back (10 minutes at most)…")
            if not listener.arrived.wait(actions.CONSENT_TTL.total_seconds()):
                raise one_line("no answer within 10 minutes: run `connector connect` again")
        answer = listener.query or {}
        done = actions.complete_consent(
            rt,
            state=answer.get("state"),
            browser=browser,
            code=answer.get("code"),
            error=answer.get("error"),
            realm_id=answer.get("realmId"),
        )
        _, found = actions.consent_organisations(rt, done.request_id, browser)
        offered = [o for o in found if not o.connected_as]
        for o in found:
            if o.connected_as:
                console.print(f"{o.name} is already connected, as {o.connected_as}.", highlight=False)
        if not offered:
            raise one_line("every organisation this consent covers is already connected")
        picked = _pick(offered, every)
        chosen = {o.tenant_id: (name if name and len(picked) == 1 else o.suggested_name) for o in picked}
        ids = actions.choose_organisations(rt, done.request_id, browser, chosen, actor=actor)
        names = []
        for cid in ids:
            brief = actions.connection_brief(rt, cid)
            console.rule(f"[bold]{brief['organisation']}[/] ({brief['name']})")
            _accounts(rt, cid, clearing, bank, fees, actor)
            actions.save_settings(rt, cid, actions.current_settings(rt, cid), actor=actor)
            names.append(actions.start_first_import(rt, cid, actor=actor))
        if no_import:
            console.print(f"Connected: {', '.join(names)}. The daemon imports them on its next run.", highlight=False)
            return
        results = []
        for connection in names:
            results += with_progress(lambda connection=connection, **kw: run_sync(rt, connection=connection, **kw))
        print_sync_summary(results)
        console.print(f"Connected: {', '.join(names)}. `connector status` shows their invoices.", highlight=False)


def _pick(offered: list[actions.Organisation], every: bool) -> list[actions.Organisation]:
    if every or len(offered) == 1:
        return offered
    for n, org in enumerate(offered, 1):
        console.print(f"  {n}. {org.name}", highlight=False)
    answer = typer.prompt("Which organisations? Numbers separated by commas, or 'all'", default="all")
    if answer.strip().lower() == "all":
        return offered
    try:
        return [offered[int(part) - 1] for part in answer.replace(" ", "").split(",") if part]
    except (ValueError, IndexError):
        raise one_line(f"not a choice: {answer!r}") from None


def _accounts(rt: Any, cid: int, clearing: str | None, bank: str | None, fees: str | None, actor: Actor) -> None:
    view = actions.chart_of_accounts(rt, cid)
    if clearing == "create":
        made, created = actions.create_clearing_account(rt, cid, actor=actor)
        console.print(f"{'Created' if created else 'Using'} the clearing account {made.label}.", highlight=False)
        clearing = made.ref
        view = actions.chart_of_accounts(rt, cid)
    given = {"clearing": clearing, "bank": bank, "fees": fees}
    for role in ("clearing", "bank", "fees"):
        if given[role]:
            continue
        options = [a for a in view.for_role(role) if not a.problem]
        console.print(f"Accounts that can be the {role} account:")
        for a in options:
            console.print(f"  {a.ref}: {a.label}", highlight=False)
        given[role] = typer.prompt(f"{role} account")
    try:
        actions.save_accounts(
            rt, cid, clearing=given["clearing"] or "", bank=given["bank"] or "", fees=given["fees"] or "", actor=actor
        )
    except actions.FieldErrors as exc:
        raise one_line(" ".join(f"--{field}: {message}" for field, message in exc.errors.items())) from None
