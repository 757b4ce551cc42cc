"""What every view needs from the application, without importing the application factory:
the runtime it serves, and the CSRF guard (which machine-facing blueprints opt out of)."""

from __future__ import annotations

from flask import current_app
from flask_wtf.csrf import CSRFProtect

from connector.runtime import Runtime

csrf = CSRFProtect()


def runtime() -> Runtime:
    """The runtime of the application serving this request."""
    return current_app.extensions["connector.runtime"]
