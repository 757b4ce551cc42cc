"""``/connections``: every connection, from the wizard or the config file, and managing them.

Everyone may look; only admins reconnect (after ``invalid_grant``: same row, all history kept),
disconnect (revoked at the provider, history kept; with a confirmation page first) or edit the
collection settings of a connection made in the wizard. A connection from the config file takes
its settings from the file, which wins on a clash (docs/setup.md).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from connector.actions import ActionError
from connector.actions import connections as actions
from connector.web.context import runtime
from connector.web.guard import actor, requires
from connector.web.settings_form import settings_form

bp = Blueprint("connections", __name__)


@bp.route("/connections")
@requires("viewer")
def index() -> str:
    rt = runtime()
    return render_template(
        "connections/index.html",
        title="Connections",
        connections=actions.list_connections(rt),
        providers=actions.PROVIDERS,
    )


@bp.route("/connections/<int:connection_id>/reconnect", methods=["POST"])
@requires("admin")
def reconnect(connection_id: int) -> Response:
    from connector.web.setup import browser_id

    rt = runtime()
    brief = actions.connection_brief(rt, connection_id)
    try:
        start = actions.begin_consent(
            rt,
            brief["provider"],
            browser=browser_id(),
            actor=actor(),
            purpose="reconnect",
            connection_id=connection_id,
        )
    except ActionError as exc:
        flash(exc.message, "error")
        return redirect(url_for("connections.index"))
    return redirect(start.url, code=303)


@bp.route("/connections/<int:connection_id>/disconnect", methods=["GET", "POST"])
@requires("admin")
def disconnect(connection_id: int) -> Response | str:
    rt = runtime()
    brief = actions.connection_brief(rt, connection_id)
    if request.method == "GET":
        return render_template("connections/disconnect.html", title=f"Disconnect {brief['name']}", brief=brief)
    outcome = actions.disconnect(rt, connection_id, actor=actor())
    message = f"Disconnected {outcome.name}. Its invoices and their history are kept; nothing is synced any more."
    if outcome.note:
        message += " " + outcome.note
    flash(message, "ok")
    return redirect(url_for("connections.index"))


@bp.route("/connections/<int:connection_id>/settings", methods=["GET", "POST"])
@requires("admin")
def settings(connection_id: int) -> Response | str | tuple[str, int]:
    def saved(brief: dict[str, Any]) -> Response:
        flash(f"Saved the settings of {brief['name']}. They apply from the next sync.", "ok")
        return redirect(url_for("connections.index"))

    return settings_form(
        connection_id,
        "connections/settings.html",
        saved,
        title=lambda brief: f"Settings of {brief['name']}",
        action=url_for("connections.settings", connection_id=connection_id),
        submit="Save settings",
    )
