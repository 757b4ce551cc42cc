"""Logging in: argon2 passwords, one vague message, rate limits, fresh sessions, safe redirects."""

from __future__ import annotations

from sqlalchemy import func, select

from connector.actions.users import PER_ADDRESS, PER_NAME
from connector.store.models import LoginFailure, User
from tests.web.kit import PASSWORD, WebClient, person


def test_a_person_logs_in_and_out(anonymous: WebClient, runtime) -> None:
    person(runtime, "ana", "support")
    page = anonymous.get("/login")
    assert page.status_code == 200 and b'name="csrf_token"' in page.data
    response = anonymous.login("ana")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # loopback: no TLS
    with runtime.sessions() as session:
        user = session.scalars(select(User)).one()
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert user.last_login_at is not None
    assert anonymous.post("/logout").status_code == 302
    assert anonymous.get("/connections").status_code == 302  # logged out: back to the login page


def test_a_wrong_password_or_name_gets_the_same_message(anonymous: WebClient, runtime) -> None:
    person(runtime, "ana", "support")
    anonymous.get("/login")
    wrong_password = anonymous.post("/login", {"name": "ana", "password": "not it at all"})
    wrong_name = anonymous.post("/login", {"name": "nobody", "password": PASSWORD})
    assert wrong_password.status_code == wrong_name.status_code == 401
    assert b"That name and password do not match." in wrong_password.data
    assert b"That name and password do not match." in wrong_name.data


def test_logins_are_limited_per_name(anonymous: WebClient, runtime) -> None:
    person(runtime, "ana", "support")
    anonymous.get("/login")
    for _ in range(PER_NAME):
        assert anonymous.post("/login", {"name": "ana", "password": "guess guess guess"}).status_code == 401
    refused = anonymous.post("/login", {"name": "ana", "password": PASSWORD})  # even the right one now
    assert refused.status_code == 401 and b"Too many failed logins" in refused.data
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)) == PER_NAME


def test_logins_are_limited_per_address(anonymous: WebClient, runtime) -> None:
    person(runtime, "ana", "support")
    anonymous.get("/login")
    for i in range(PER_ADDRESS):
        anonymous.post("/login", {"name": f"guess{i}", "password": "guess guess guess"})
    refused = anonymous.post("/login", {"name": "ana", "password": PASSWORD})
    assert b"Too many failed logins" in refused.data


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(anonymous: WebClient, runtime) -> None:
    person(runtime, "ana", "support")
    response = anonymous.post("/login", {"name": "ana", "password": PASSWORD}, csrf=False)
    assert response.status_code == 400 and b"did not come from this site" in response.data
    with runtime.sessions() as session:
        assert session.scalar(select(User.last_login_at)) is None


def test_login_never_redirects_to_another_site(anonymous: WebClient, runtime) -> None:
    person(runtime, "ana", "support")
    anonymous.get("/login?next=https://evil.example/")
    response = anonymous.post("/login", {"name": "ana", "password": PASSWORD, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_pages_carry_security_headers(anonymous: WebClient) -> None:
    page = anonymous.get("/login")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
