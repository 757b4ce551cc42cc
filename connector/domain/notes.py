"""Ledger notes: the short line an accountant reads on the ledger's invoice to know why it moved.

When the platform starts a collection, confirms one (or a payment request is paid) or pays the
money out, the connector leaves a note on the invoice in the ledger (Xero: History and notes;
QuickBooks: the invoice's private note). Which transitions deserve a note, and what it says, is
decided here, from the transition alone, so the wording is the same whichever ledger hears it.
A note is written through the outbox like every other ledger write; this module only says what.
"""

from __future__ import annotations

from connector.domain import events as ev
from connector.domain.transitions import Transition

#: The platform events a note is left for (the transition must have happened: a repeat leaves none).
NOTE_EVENTS = frozenset(
    {
        ev.CollectionStarted.kind,
        ev.CollectionConfirmed.kind,
        ev.PaymentReceived.kind,
        ev.PayoutSent.kind,
    }
)

#: Who the note says acted: the accountant must not take the line for one of their colleagues'.
BY = "the payments platform"


def ledger_note(transition: Transition) -> str | None:
    """The note for this transition, or None when the ledger need not be told anything.

    Short on purpose (Xero keeps 250 characters of a note, the adapter adds its marker): the
    date, the amount and the platform's reference, never anything the ledger already shows.
    """
    event, before, after = transition.event, transition.before, transition.after
    if event.kind not in NOTE_EVENTS or after is None:
        return None
    on = event.occurred_on.isoformat()
    if isinstance(event, ev.CollectionStarted):
        attempt = f" (attempt {before.attempts + 1})" if before.attempts else ""
        return f"Direct debit of {before.amount_due} started by {BY} on {on}{attempt}."
    if isinstance(event, ev.CollectionConfirmed | ev.PaymentReceived):
        collected = after.paid_amount or before.amount_due
        what = "Direct debit confirmed" if isinstance(event, ev.CollectionConfirmed) else "Payment received"
        ref = f", reference {event.reference}" if event.reference else ""
        return f"{what} by {BY} on {on}: {collected} collected{ref}; recorded as a payment to the clearing account."
    if isinstance(event, ev.PayoutSent):
        ref = f" {event.reference}" if event.reference else ""
        amount = f" {after.paid_amount}" if after.paid_amount else ""
        return f"Paid out{amount} to the bank by {BY} on {on} (payout{ref})."
    return None
