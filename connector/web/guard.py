"""Who is asking, and whether they may: every page names the role it needs.

The session cookie holds only the person's id (signed); the person is re-read on each request,
so a disabled account or a changed role takes effect at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for

from connector.actions import Actor
from connector.actions.users import Person, person

F = TypeVar("F", bound=Callable[..., Any])


def actor() -> Actor:
    """The logged-in person, as the timeline names them (every view that acts passes this on)."""
    return Actor.person(g.person.name)


def current_person() -> Person | None:
    user_id = session.get("person")
    if not isinstance(user_id, int):
        return None
    return person(current_app.extensions["connector.runtime"], user_id)


def requires(role: str) -> Callable[[F], F]:
    """The view needs a logged-in person whose role includes ``role`` (viewer < support < admin).

    Not logged in: to the login page, coming back here after. Logged in without the role: 403,
    with a page saying which role is needed.
    """

    def wrap(view: F) -> F:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            who: Person | None = g.get("person")
            if who is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not who.may(role):
                abort(403, description=f"This needs the {role} role; you are {who.role}. Ask an admin.")
            return view(*args, **kwargs)

        checked.required_role = role  # type: ignore[attr-defined]  # read by the test that every page checks a role
        return checked  # type: ignore[return-value]

    return wrap


def safe_next(target: str | None, default: str = "/") -> str:
    """Where to go after login: only a path on this site, never another host (an open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def client_address() -> str:
    """The address a login is counted against (the proxy's forwarded one is not trusted by default)."""
    return request.remote_addr or "unknown"
