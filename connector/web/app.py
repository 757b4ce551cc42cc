"""The Flask application factory: sessions, CSRF, security headers, error pages, blueprints."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from connector.actions import ActionError
from connector.runtime import Runtime
from connector.sync.connect import vault_for
from connector.web import api, auth, connections, console, health, hooks, metrics, setup
from connector.web.context import csrf
from connector.web.guard import current_person

#: How long a login lasts without activity.
SESSION_LIFETIME = timedelta(hours=12)
#: Scripts and styles come only from this app (no CDN, no inline script): a stolen page cannot
#: load code from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(rt: Runtime, **overrides: Any) -> Flask:
    """The application for ``rt``; ``overrides`` go into ``app.config`` (tests)."""
    app = Flask(__name__)
    web = rt.config.web
    app.config.update(
        SECRET_KEY=vault_for(rt.config).derive("connector web sessions"),
        SESSION_COOKIE_NAME="connector_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=web.behind_https,
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
        WTF_CSRF_TIME_LIMIT=None,  # bound to the session instead, which expires on its own
        WTF_CSRF_SSL_STRICT=web.behind_https,
        PREFERRED_URL_SCHEME="https" if web.behind_https else "http",
        MAX_CONTENT_LENGTH=5 * 1024 * 1024,
    )
    app.config.update(overrides)
    app.extensions["connector.runtime"] = rt
    csrf.init_app(app)

    for blueprint in (health.bp, auth.bp, setup.bp, connections.bp, console.bp, api.bp, hooks.bp, metrics.bp):
        app.register_blueprint(blueprint)

    @app.before_request
    def _who() -> None:
        g.person = current_person()

    @app.context_processor
    def _page_globals() -> dict[str, Any]:
        return {"person": g.get("person"), "endpoint": request.endpoint or ""}

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        if web.behind_https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> tuple[str, int]:
        message = "This form has expired or did not come from this site. Go back, reload the page and try again."
        return render_template("error.html", title="Please try again", message=message), 400

    @app.errorhandler(ActionError)
    def _refused(exc: ActionError) -> tuple[str, int]:
        status = {"not_found": 404, "invalid": 400}.get(exc.code, 409)
        return render_template("error.html", title="That did not happen", message=exc.message), status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        if request.path.startswith(("/api/", "/webhooks/")):  # machines get JSON, people a page
            body = {"error": {"error": exc.name.lower().replace(" ", "_"), "message": exc.description, "field": None}}
            return jsonify(body), exc.code or 500
        return render_template("error.html", title=exc.name, message=exc.description), exc.code or 500

    return app
