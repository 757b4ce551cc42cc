"""``connector sandbox xero``: run the Xero sandbox in the foreground until Ctrl-C.

``serve`` is a plain Typer command function; the main CLI registers it. It can also be
run on its own: ``python -m connector.sandbox.xero --seed 1000``.
"""

from __future__ import annotations

import shlex
import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from connector.sandbox.common.faults import FaultSpec, FaultSpecError
from connector.sandbox.common.ratelimit import RateLimits
from connector.sandbox.xero.sandbox import XeroSandbox


def _limit(value: int) -> int | None:
    return value if value > 0 else None


def _offset(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def serve(
    port: int = typer.Option(0, "--port", "-p", help="Port to listen on (0 picks a free one)."),
    seed: int = typer.Option(
        1, "--seed", help="Seed for the generated organisations (same seed, same books)."
    ),
    data: Path | None = typer.Option(
        None, "--data", help="JSON file to load state from and save it to, so a demo survives a restart."
    ),
    latency: int = typer.Option(0, "--latency", help="Extra milliseconds on every API call."),
    faults: str | None = typer.Option(
        None,
        "--faults",
        help='Fault spec, e.g. "5xx=0.1,latency=200,429burst=3,drop=0.05,malformed=0.02,expire_tokens".',
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (keep it local)."),
    tenants: int = typer.Option(
        2, "--tenants", min=1, help="Organisations to generate (NZ +13:00, US -08:00, ...)."
    ),
    invoices: int = typer.Option(60, "--invoices", min=0, help="Invoices to generate per organisation."),
    webhook_url: str | None = typer.Option(None, "--webhook-url", help="POST signed INVOICE events here."),
    webhook_key: str = typer.Option("sandbox-webhook-key", "--webhook-key", help="Webhook signing key."),
    per_minute: int = typer.Option(60, "--per-minute", help="Calls per minute per tenant (0: no limit)."),
    per_day: int = typer.Option(5000, "--per-day", help="Calls per day per tenant (0: no limit)."),
    concurrent: int = typer.Option(5, "--concurrent", help="Calls in flight per tenant (0: no limit)."),
) -> None:
    """Run a local Xero (OAuth, /connections, Accounting API) that the xero-python SDK accepts."""
    try:
        spec = FaultSpec.parse(faults) if faults else None
    except FaultSpecError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    limits = RateLimits(per_minute=_limit(per_minute), per_day=_limit(per_day), concurrent=_limit(concurrent))
    sb = XeroSandbox(
        seed=seed,
        tenants=tenants,
        invoices_per_tenant=invoices,
        data=data,
        limits=limits,
        latency_ms=latency,
        faults=spec,
        host=host,
        port=port,
        webhook_url=webhook_url,
        webhook_key=webhook_key,
    )
    stop = threading.Event()

    def _terminate(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _terminate)
    sb.start()
    try:
        _banner(sb, data, faults)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        typer.echo("\nStopping the Xero sandbox...")
        sb.stop()
        typer.echo("Stopped." + (f" State saved to {data}." if data else ""))


def _banner(sb: XeroSandbox, data: Path | None, faults: str | None) -> None:
    token = sb.issue_tokens()
    tenant = sb.tenants[0]
    url = f"{sb.accounting_url}/Invoices?page=1&pageSize=5"
    curl = (
        f"curl -s -H {shlex.quote('Authorization: Bearer ' + token['access_token'])} "
        f"-H {shlex.quote('xero-tenant-id: ' + tenant.tenant_id)} {shlex.quote(url)}"
    )
    echo = typer.echo
    echo(f"Xero sandbox listening on {sb.base_url}")
    echo(f"  state          {'file ' + str(data) if data else 'in memory (use --data FILE to keep it)'}")
    if faults:
        echo(f"  faults         {sb.faults.describe()}")
    echo(f"  accounting     {sb.accounting_url}   (AccountingApi base_url)")
    echo(f"  identity       {sb.identity_url}   (IdentityApi base_url; GET /connections)")
    echo(f"  token          {sb.token_url}   (patch TokenApi.refresh_token_url)")
    echo(f"  authorize      {sb.authorize_url}")
    echo(f"  app            client_id={sb.client_id}")
    echo(f"                 client_secret={sb.client_secret}")
    echo("  organisations")
    for t in sb.tenants:
        echo(f"    {t.tenant_id}  {t.name} ({t.base_currency}, UTC{_offset(t.utc_offset_minutes)})")
    echo(f"  access token   {token['access_token']}")
    echo("                 (valid 30 minutes; POST /__sandbox/tokens for a fresh one)")
    echo(f"  refresh token  {token.get('refresh_token', '')}")
    echo("")
    echo("Try:")
    echo(f"  {curl}")
    echo("")
    echo("Press Ctrl-C to stop.")
