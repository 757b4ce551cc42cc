"""``/connections``: every connection, from the wizard or the config file, with its state."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from connector.store.models import Connection
from connector.web.app import runtime
from connector.web.guard import requires

bp = Blueprint("connections", __name__)


@bp.route("/connections")
@requires("viewer")
def index() -> str:
    with runtime().sessions() as session:
        rows = list(session.scalars(select(Connection).order_by(Connection.name)))
        return render_template("connections/index.html", title="Connections", connections=rows)
