"""Logging in and out."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, session
from werkzeug.wrappers import Response

from connector.actions import ActionError
from connector.actions.users import log_in
from connector.web.context import runtime
from connector.web.guard import client_address, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.get("person"):
            return redirect(target)
        return render_template("login.html", next=target, name="", error=None)
    name = request.form.get("name", "")
    try:
        who = log_in(runtime(), name, request.form.get("password", ""), client_address())
    except ActionError as exc:
        return render_template("login.html", next=target, name=name, error=exc.message), 401
    session.clear()  # a fresh session (and CSRF token) on login: no fixation
    session.permanent = True
    session["person"] = who.id
    return redirect(target)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    session.clear()
    return redirect("/login")
