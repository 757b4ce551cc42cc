"""Every page says which role it needs, and a viewer cannot act."""

from __future__ import annotations

from connector.web.app import create_app

#: Pages anyone may open: logging in, the health check, static files, and the OAuth callback
#: (which checks its own single-use state, bound to the browser that started the consent).
PUBLIC = {"static", "auth.login", "auth.logout", "health.healthz"}


def test_every_page_checks_the_role(runtime) -> None:
    app = create_app(runtime)
    unchecked = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC
        and not getattr(app.view_functions[rule.endpoint], "required_role", None)
        and not getattr(app.view_functions[rule.endpoint], "public_reason", None)
    ]
    assert unchecked == []


def test_anonymous_goes_to_login_with_the_way_back(anonymous) -> None:
    response = anonymous.get("/connections?x=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
