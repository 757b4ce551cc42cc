"""``connector sandbox xero``: run the Xero sandbox in the foreground until Ctrl-C.

``serve`` is a plain Typer command function; the main CLI registers it. It can also be
run on its own: ``python -m connector.sandbox.xero --seed 1000``.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import typer

from connector.sandbox.common.cli import (
    DATA_OPTION,
    FAULTS_OPTION,
    HOST_OPTION,
    LATENCY_OPTION,
    PORT_OPTION,
    echo_app,
    echo_heading,
    echo_try,
    limit,
    run_in_foreground,
    utc_offset,
)
from connector.sandbox.common.faults import FaultSpec, FaultSpecError
from connector.sandbox.common.ratelimit import RateLimits
from connector.sandbox.xero.sandbox import XeroSandbox


def serve(
    port: int = PORT_OPTION,
    seed: int = typer.Option(
        1, "--seed", help="Seed for the generated organisations (same seed, same books)."
    ),
    data: Path | None = DATA_OPTION,
    latency: int = LATENCY_OPTION,
    faults: str | None = FAULTS_OPTION,
    host: str = HOST_OPTION,
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
    limits = RateLimits(per_minute=limit(per_minute), per_day=limit(per_day), concurrent=limit(concurrent))
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
    run_in_foreground(sb, "Xero", data, lambda: _banner(sb, data, faults))


def _banner(sb: XeroSandbox, data: Path | None, faults: str | None) -> None:
    token = sb.issue_tokens()
    tenant = sb.tenants[0]
    url = f"{sb.accounting_url}/Invoices?page=1&pageSize=5"
    curl = (
        f"curl -s -H {shlex.quote('Authorization: Bearer ' + token['access_token'])} "
        f"-H {shlex.quote('xero-tenant-id: ' + tenant.tenant_id)} -H 'Accept: application/json' {shlex.quote(url)}"
    )
    echo = typer.echo
    echo_heading("Xero sandbox", sb, data, faults)
    echo(f"  accounting     {sb.accounting_url}   (AccountingApi base_url)")
    echo(f"  identity       {sb.identity_url}   (IdentityApi base_url; GET /connections)")
    echo(f"  token          {sb.token_url}   (patch TokenApi.refresh_token_url)")
    echo(f"  authorize      {sb.authorize_url}")
    echo_app(sb)
    echo("  organisations")
    for t in sb.tenants:
        echo(f"    {t.tenant_id}  {t.name} ({t.base_currency}, UTC{utc_offset(t.utc_offset_minutes)})")
    echo(f"  access token   {token['access_token']}")
    echo("                 (valid 30 minutes; POST /__sandbox/tokens for a fresh one)")
    echo(f"  refresh token  {token.get('refresh_token', '')}")
    echo_try(curl)
