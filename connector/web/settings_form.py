"""The collection-settings form, shared by the wizard's step 5 and a connection's settings page:
the same values, the same action, each field's error beside it; only the page around it differs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template, request
from werkzeug.wrappers import Response

from connector.actions import connections as actions
from connector.web.context import runtime
from connector.web.guard import actor


def settings_form(
    connection_id: int, template: str, saved: Callable[[dict[str, Any]], Response], **page: Any
) -> Response | str | tuple[str, int]:
    """GET shows the form; POST saves through the action and answers ``saved(brief)``, or shows it
    again (400) with the errors and what was typed."""
    rt = runtime()
    brief = actions.connection_brief(rt, connection_id)
    values = actions.current_settings(rt, connection_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.form.get(k, v) for k, v in values.items()}
        try:
            actions.save_settings(rt, connection_id, request.form, actor=actor())
        except actions.FieldErrors as exc:
            errors = exc.errors
        else:
            return saved(brief)
    if callable(page.get("title")):  # a title made from the connection (its name), read once here
        page["title"] = page["title"](brief)
    html = render_template(template, brief=brief, values=values, errors=errors, **page)
    return (html, 400) if errors else html
