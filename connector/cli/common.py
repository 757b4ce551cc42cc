"""What every command group shares: the options, opening the runtime, the acting person.

It also turns what a person can put right before anything runs (a bad config, a database that
cannot be opened, a token key that cannot be used) into one line and exit code 2: which URL or
file, what is wrong, what to do. Never a traceback, never a password.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from alembic.util.exc import CommandError
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, InterfaceError, OperationalError

from connector.actions import Actor
from connector.config import (
    DATABASE_URL_EXAMPLES,
    Config,
    ConfigError,
    database_url_problem,
    load_config,
    safe_url,
    sqlite_path,
)
from connector.render import action_errors, fail
from connector.runtime import Runtime, open_runtime
from connector.store.secrets import SecretKeyError

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="config file (default: $CONNECTOR_CONFIG or ./connector.toml)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
ConnectionOption = Annotated[str | None, typer.Option("--connection", help="connection name, when numbers clash")]
InvoiceArg = Annotated[str, typer.Argument(help="invoice number, ledger id or #id")]
InvoicesArg = Annotated[list[str], typer.Argument(help="invoice numbers, ledger ids or #ids")]
DateOption = Annotated[str | None, typer.Option("--date", help="when it happened (YYYY-MM-DD; default today)")]
ReasonOption = Annotated[str, typer.Option("--reason", help="why: kept in the activity log")]
AsOption = Annotated[
    str | None, typer.Option("--as", help="who is acting, for the timeline (default: your login name)")
]


def one_line(message: str) -> typer.Exit:
    """:func:`connector.render.fail` for a message that may hold brackets (``[database] url``)."""
    return fail(escape(" ".join(message.split())))


def open_rt(ctx: typer.Context) -> Runtime:
    """The runtime for this command; a bad config or a database that cannot be used is one line, exit 2."""
    try:
        config = load_config(ctx.obj.get("config") if ctx.obj else None)
    except ConfigError as exc:
        raise one_line(str(exc)) from None
    problem = database_url_problem(config.database_url)
    if problem:  # a URL from CONNECTOR_DATABASE_URL; the file's own was checked on loading
        raise one_line(f"database {_where(config)}: {problem}")
    try:
        return open_runtime(config=config)
    except ConfigError as exc:
        raise one_line(str(exc)) from None
    except Exception as exc:
        message = database_problem(exc, config)
        if message is None:
            raise
        raise one_line(message) from None


@contextmanager
def acting(ctx: typer.Context) -> Iterator[Runtime]:
    """The runtime for one command, with an action's typed error shown as one line (exit code 2).

    So is a token key that cannot be used at all (a key file others can read, a variable that
    holds no key): the whole installation's problem, found when a command first needs the key.
    """
    rt = open_rt(ctx)
    try:
        with action_errors():
            yield rt
    except SecretKeyError as exc:
        raise one_line(str(exc)) from None
    finally:
        rt.close()


def database_problem(exc: BaseException, config: Config) -> str | None:
    """``exc``, raised while opening or using ``config``'s database, as one line; None if it is not such a problem."""
    url = config.database_url
    origin = config.database_origin
    where = _where(config)
    problem = database_url_problem(url)
    if problem and isinstance(exc, ArgumentError | ImportError):
        return f"database {where}: {problem}"
    sqlite = sqlite_path(url)
    if sqlite is not None and isinstance(exc, OSError) and exc.filename:
        if Path(exc.filename) in (sqlite, *sqlite.parents):
            return (
                f"cannot create the SQLite database {sqlite} (from {origin}): {exc.filename}: "
                f"{exc.strerror or exc}: choose a folder you can write to"
            )
        return None
    if isinstance(exc, ImportError) and exc.name:
        driver = make_url(url).get_driver_name()
        if exc.name.split(".")[0].lower() != driver.lower():
            return None
        return f"database {where}: its driver {exc.name!r} is not installed: use {DATABASE_URL_EXAMPLES}"
    if isinstance(exc, OperationalError | InterfaceError) or type(exc) is DatabaseError:
        detail = _sentence(_driver_message(exc, url))
        if sqlite is not None:
            return (
                f"cannot use the SQLite database {sqlite} (from {origin}): {detail} It must be a SQLite "
                "file (or not exist yet) in a folder you can write to."
            )
        return (
            f"cannot use the database {where}: {detail} Check that the server is running and that "
            "the host, port, user, password and database name are right."
        )
    if isinstance(exc, CommandError):
        return (
            f"cannot bring the database {where} up to date: {_sentence(str(exc))} "
            "Was it made by a newer version of the connector?"
        )
    return None


def _where(config: Config) -> str:
    return f"{safe_url(config.database_url)} (from {config.database_origin})"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _driver_message(exc: BaseException, url: str) -> str:
    """The database driver's own words on one line, without SQLAlchemy's link or any password."""
    text = str(getattr(exc, "orig", None) or exc)
    text = re.sub(r"\(Background on this error at: [^)]*\)", "", text).removeprefix("connection failed: ")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    text = " ".join(_sentence(line) if i < len(lines) - 1 else line for i, line in enumerate(lines))
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):
        password = None
    return text.replace(str(password), "***") if password else text


def run_cli(app: typer.Typer) -> None:
    """The ``connector`` command's entry point.

    A config, database or key problem a command let escape (``init-db`` opens the database
    itself; a sync may meet a key it cannot use) is one line and exit code 2, not a traceback.
    Anything else is a bug, and keeps its traceback.
    """
    try:
        app()
    except (ConfigError, SecretKeyError) as exc:
        _exit(str(exc))
    except Exception as exc:
        config = _config_of_this_run(app)
        message = database_problem(exc, config) if config is not None else None
        if message is None:
            raise
        _exit(message)


def _exit(message: str) -> NoReturn:
    raise SystemExit(one_line(message).exit_code)


def _config_of_this_run(app: typer.Typer) -> Config | None:
    """The config this invocation named (``--config``, ``$CONNECTOR_CONFIG`` or ./connector.toml)."""
    try:
        command = typer.main.get_command(app)
        with command.make_context("connector", sys.argv[1:], resilient_parsing=True) as ctx:
            path = ctx.params.get("config")
        return load_config(path)
    except Exception:  # only to phrase an error already on its way: it keeps its own traceback
        return None


def person(name: str | None) -> Actor:
    """Who acts from this terminal: ``--as NAME``, or the login name."""
    return Actor.person(name) if name else Actor.terminal_user()
