"""The one place where state changes on a person's or the platform's behalf.

Every entry point (the CLI, the web console, the platform events API, webhooks, workers and
the demo) parses its input, calls one function here, and renders what it returns. Each action
takes plain arguments and who is acting, runs in one transaction, and returns a result or
raises an :class:`ActionError` whose message a person can read. A rule lives here once.
"""

from connector.actions.context import Actor
from connector.actions.errors import ActionError, InvalidInput, NotFound, RefusedAction
from connector.actions.results import InvoiceOutcome, PayoutOutcome

__all__ = [
    "ActionError",
    "Actor",
    "InvalidInput",
    "InvoiceOutcome",
    "NotFound",
    "PayoutOutcome",
    "RefusedAction",
]
