"""What every ``connector sandbox <ledger>`` command does alike: run in the foreground until
Ctrl-C or SIGTERM, and print a banner of the same layout.

The commands themselves (the Typer ``serve`` functions and their options) stay in each
provider's ``cli.py``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import typer

# Options every ``serve`` command takes the same way (Typer only reads these objects).
PORT_OPTION = typer.Option(0, "--port", "-p", help="Port to listen on (0 picks a free one).")
DATA_OPTION = typer.Option(
    None, "--data", help="JSON file to load state from and save it to, so a demo survives a restart."
)
LATENCY_OPTION = typer.Option(0, "--latency", help="Extra milliseconds on every API call.")
FAULTS_OPTION = typer.Option(
    None,
    "--faults",
    help='Fault spec, e.g. "5xx=0.1,latency=200,429burst=3,drop=0.05,malformed=0.02,expire_tokens".',
)
HOST_OPTION = typer.Option("127.0.0.1", "--host", help="Interface to bind (keep it local).")


def limit(value: int) -> int | None:
    """A ``--per-minute``-style option: 0 or less means no limit."""
    return value if value > 0 else None


def utc_offset(minutes: int) -> str:
    """``+13:00`` / ``-08:00`` for a UTC offset in minutes."""
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def run_in_foreground(sb: Any, label: str, data: Path | None, banner: Callable[[], None]) -> None:
    """Start ``sb``, print the banner, wait for Ctrl-C or SIGTERM, then stop (and save) it."""
    stop = threading.Event()

    def _terminate(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _terminate)
    sb.start()
    try:
        banner()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        typer.echo(f"\nStopping the {label} sandbox...")
        sb.stop()
        typer.echo("Stopped." + (f" State saved to {data}." if data else ""))


def echo_heading(title: str, sb: Any, data: Path | None, faults: str | None) -> None:
    """The banner's first lines: where it listens, where its state lives, its faults."""
    typer.echo(f"{title} listening on {sb.base_url}")
    typer.echo(f"  state          {'file ' + str(data) if data else 'in memory (use --data FILE to keep it)'}")
    if faults:
        typer.echo(f"  faults         {sb.faults.describe()}")


def echo_app(sb: Any) -> None:
    """The sandbox app's credentials."""
    typer.echo(f"  app            client_id={sb.client_id}")
    typer.echo(f"                 client_secret={sb.client_secret}")


def echo_try(curl: str) -> None:
    """The banner's end: a sample command and how to stop."""
    typer.echo("")
    typer.echo("Try:")
    typer.echo(f"  {curl}")
    typer.echo("")
    typer.echo("Press Ctrl-C to stop.")
