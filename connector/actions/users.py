"""People who log in to the web application: adding them, and checking a login.

Passwords are hashed with argon2id (``argon2-cffi``'s defaults, RFC 9106's second
recommendation); the hash carries its own salt and parameters, and is upgraded on the next
login when the defaults move. Failed logins are counted in the database, per name and per
address, so the limit holds across processes and restarts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from connector.actions.errors import InvalidInput, NotFound, RefusedAction
from connector.runtime import Runtime
from connector.store.models import LoginFailure, User
from connector.store.types import utcnow

ROLES = ("admin", "support", "viewer")
#: What each role may do, cumulative: viewers read; support also acts on invoices and queues;
#: admins also connect ledgers and manage people.
RANK = {"viewer": 0, "support": 1, "admin": 2}
NAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,100}$")
MIN_PASSWORD = 10

#: The window failed logins are counted in, and how many it takes to refuse further tries.
WINDOW = timedelta(minutes=15)
PER_NAME = 5
PER_ADDRESS = 20

_hasher = PasswordHasher()
#: Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY = _hasher.hash("no such person: this hash only spends the time a real check takes")


@dataclass(frozen=True, slots=True)
class Person:
    """Who is logged in, as every page and action sees them (never the hash)."""

    id: int
    name: str
    role: str

    def may(self, role: str) -> bool:
        """True when this person's role includes ``role``'s rights."""
        return RANK[self.role] >= RANK[role]


def add_user(rt: Runtime, name: str, role: str, password: str) -> Person:
    """Create a person who can log in; the name is unique, the password long enough."""
    name = (name or "").strip()
    if not NAME.match(name):
        raise InvalidInput("a name is 1 to 100 letters, digits or . _ @ + -", field="name")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"the password must be at least {MIN_PASSWORD} characters", field="password")
    with rt.transaction() as session:
        if session.scalar(select(User.id).where(User.name == name)) is not None:
            raise RefusedAction(f"there is already a person named {name!r}", field="name")
        user = User(name=name, role=role, password_hash=_hasher.hash(password), disabled=False)
        session.add(user)
        session.flush()
        return Person(user.id, user.name, user.role)


def set_password(rt: Runtime, name: str, password: str) -> None:
    """Give an existing person a new password (for ``connector user add`` on a name that exists)."""
    if len(password or "") < MIN_PASSWORD:
        raise InvalidInput(f"the password must be at least {MIN_PASSWORD} characters", field="password")
    with rt.transaction() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"no person named {name!r}", field="name")
        user.password_hash = _hasher.hash(password)


def log_in(rt: Runtime, name: str, password: str, address: str) -> Person:
    """The person, if ``password`` is theirs; otherwise one message that never says which part was wrong.

    Too many failures for this name, or from this address, within :data:`WINDOW` refuse further
    tries without checking the password at all, until the window has passed.
    """
    name = (name or "").strip()[:100]
    address = (address or "unknown")[:64]
    since = utcnow() - WINDOW
    with rt.transaction() as session:
        by_name = session.scalar(select(func.count()).where(LoginFailure.name == name, LoginFailure.at > since))
        by_address = session.scalar(
            select(func.count()).where(LoginFailure.address == address, LoginFailure.at > since)
        )
        if (by_name or 0) >= PER_NAME or (by_address or 0) >= PER_ADDRESS:
            minutes = int(WINDOW.total_seconds() // 60)
            raise RefusedAction(f"Too many failed logins. Wait {minutes} minutes, then try again.", field="password")
        user = session.scalar(select(User).where(User.name == name))
        usable = user is not None and not user.disabled
        # Always one argon2 check, so a wrong name costs what a wrong password does.
        matches = _verify(user.password_hash if usable else _DUMMY, password) and usable
        if not matches:
            # Committed with this transaction: the failure counts even though the login is refused.
            session.add(LoginFailure(name=name, address=address, at=utcnow()))
        else:
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            user.last_login_at = utcnow()
            session.execute(delete(LoginFailure).where(LoginFailure.name == name))
            found = Person(user.id, user.name, user.role)
    if not matches:
        raise RefusedAction("That name and password do not match.", field="password")
    return found


def person(rt: Runtime, user_id: int) -> Person | None:
    """The person with this id, if they may still log in (a session outlives a disabled account otherwise)."""
    with rt.sessions() as session:
        user = session.get(User, user_id)
        if user is None or user.disabled:
            return None
        return Person(user.id, user.name, user.role)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password or "")
    except (VerificationError, InvalidHashError):
        return False
