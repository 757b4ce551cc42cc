"""``connector sandbox quickbooks``: run the QuickBooks Online sandbox in the foreground until Ctrl-C.

``serve`` is a plain Typer command function; the main CLI registers it. It can also be
run on its own: ``python -m connector.sandbox.quickbooks --seed 1000``.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from urllib.parse import quote

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
from connector.sandbox.quickbooks.limits import QboLimits
from connector.sandbox.quickbooks.sandbox import QuickBooksSandbox
from connector.sandbox.quickbooks.webhooks import FORMATS


def serve(
    port: int = PORT_OPTION,
    seed: int = typer.Option(1, "--seed", help="Seed for the generated companies (same seed, same books)."),
    data: Path | None = DATA_OPTION,
    latency: int = LATENCY_OPTION,
    faults: str | None = FAULTS_OPTION,
    host: str = HOST_OPTION,
    realms: int = typer.Option(2, "--realms", min=1, help="Companies to generate (US -08:00, AU +10:00, ...)."),
    invoices: int = typer.Option(60, "--invoices", min=0, help="Invoices to generate per company."),
    webhook_url: str | None = typer.Option(None, "--webhook-url", help="POST signed change notifications here."),
    webhook_verifier: str = typer.Option("sandbox-verifier-token", "--webhook-verifier",
                                         help="Webhook verifier token (the HMAC key)."),
    webhook_format: str = typer.Option("legacy", "--webhook-format", help="legacy or cloudevents."),
    per_minute: int = typer.Option(500, "--per-minute", help="Requests per minute per company (0: no limit)."),
    concurrent: int = typer.Option(10, "--concurrent", help="Requests in flight per company (0: no limit)."),
    batch_per_minute: int = typer.Option(40, "--batch-per-minute", help="Batch requests per minute (0: no limit)."),
) -> None:
    """Run a local QuickBooks Online (Intuit OAuth + Accounting API) that python-quickbooks accepts."""
    try:
        spec = FaultSpec.parse(faults) if faults else None
    except FaultSpecError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    if webhook_format not in FORMATS:
        raise typer.BadParameter(f"one of {', '.join(FORMATS)}", param_hint="--webhook-format")
    limits = QboLimits(per_minute=limit(per_minute), concurrent=limit(concurrent),
                       batch_per_minute=limit(batch_per_minute))
    sb = QuickBooksSandbox(
        seed=seed, realms=realms, invoices_per_realm=invoices, data=data, limits=limits, latency_ms=latency,
        faults=spec, host=host, port=port, webhook_url=webhook_url, webhook_verifier=webhook_verifier,
        webhook_format=webhook_format,  # type: ignore[arg-type]
    )
    run_in_foreground(sb, "QuickBooks", data, lambda: _banner(sb, data, faults))


def _banner(sb: QuickBooksSandbox, data: Path | None, faults: str | None) -> None:
    realm = sb.realms[0]
    token = sb.issue_tokens(realm.realm_id)
    query = quote("select * from Invoice orderby MetaData.LastUpdatedTime maxresults 5")
    url = f"{sb.api_url}/company/{realm.realm_id}/query?query={query}&minorversion=75"
    curl = (f"curl -s -H {shlex.quote('Authorization: Bearer ' + token['access_token'])} "
            f"-H 'Accept: application/json' {shlex.quote(url)}")
    echo = typer.echo
    echo_heading("QuickBooks Online sandbox", sb, data, faults)
    echo(f"  api            {sb.api_url}   (set qb.api_url_v3 on the QuickBooks instance)")
    echo(f"  discovery      {sb.discovery_url}   (AuthClient environment=...)")
    echo(f"  token          {sb.token_url}")
    echo(f"  authorize      {sb.authorize_url}")
    echo_app(sb)
    echo("  companies")
    for r in sb.realms:
        echo(f"    {r.realm_id}  {r.name} ({r.currency}, UTC{utc_offset(r.utc_offset_minutes)})")
    echo(f"  access token   {token['access_token']}")
    echo(f"                 (company {realm.realm_id}; valid 1 hour; POST /__sandbox/tokens for a fresh one)")
    echo(f"  refresh token  {token['refresh_token']}")
    echo("  note           the SDKs refuse http:// unless OAUTHLIB_INSECURE_TRANSPORT=1 is set")
    echo_try(curl)
