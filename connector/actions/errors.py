"""Typed errors an action raises, each with a message a person can act on (as stripe-python's).

Raising one means nothing changed: the action's transaction was never committed.
"""

from __future__ import annotations


class ActionError(Exception):
    """Base of every action error; ``message`` is shown as it is, ``field`` names the input at fault."""

    code = "action_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, str | None]:
        return {"error": self.code, "message": self.message, "field": self.field}


class NotFound(ActionError):
    """No such invoice, outbox entry, quarantined record or connection (or several match)."""

    code = "not_found"


class InvalidInput(ActionError):
    """An argument is malformed (a negative amount, an unknown kind, an empty reason)."""

    code = "invalid"


class RefusedAction(ActionError):
    """The rules do not allow it now (the status table, a payout that does not add up, a stale page)."""

    code = "refused"
