"""``connector web`` and ``connector user add``: the web application, and who may log in to it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from connector.cli.common import acting, one_line, open_rt
from connector.render import console

user_app = typer.Typer(no_args_is_help=True, help="People who log in to the web application.")


def web(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="address to listen on (default: [web] host)")] = None,
    port: Annotated[int | None, typer.Option("--port", help="port (default: [web] port)")] = None,
) -> None:
    """Serve the setup wizard and the console (waitress), on 127.0.0.1:8080 unless configured."""
    from connector import logs
    from connector.web.app import create_app
    from connector.web.serve import bind_problem, is_loopback, serve

    rt = open_rt(ctx)
    logs.configure(rt.config)
    web_config = rt.config.web
    host = host or web_config.host
    port = port or web_config.port
    problem = bind_problem(web_config, host)
    if problem:
        rt.close()
        raise one_line(problem)
    try:
        app = create_app(rt)
    except Exception:
        rt.close()
        raise
    shown = web_config.public_url or f"http://{host}:{port}"
    console.print(f"Connector web on [bold]{shown}[/] (listening on {host}:{port}); Ctrl+C stops it.", highlight=False)
    try:
        serve(app, host, port, behind_proxy=not is_loopback(host))
    finally:
        rt.close()


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the login name")],
    role: Annotated[str, typer.Option("--role", help="admin, support or viewer")] = "support",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input (for scripts)")
    ] = False,
) -> None:
    """Add a person who can log in (or give an existing one a new password)."""
    from connector.actions.errors import RefusedAction
    from connector.actions.users import add_user, set_password

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with acting(ctx) as rt:
        try:
            who = add_user(rt, name, role, password)
            console.print(f"Added {who.name} ({who.role}). They log in at /login.", highlight=False)
        except RefusedAction:
            set_password(rt, name.strip(), password)
            console.print(f"{name.strip()} already existed: their password is changed.", highlight=False)
