"""What the payments platform reports: collections, payment requests, money received, payouts.

The CLI's ``connector platform …`` commands and the platform events API call these. An event
the status table refuses is still recorded in the invoice's timeline (with why), so a refusal is
an outcome, not an error; malformed input and unknown invoices are errors and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from connector.actions import lookup
from connector.actions.context import Actor
from connector.actions.errors import InvalidInput, RefusedAction
from connector.actions.results import InvoiceOutcome, PayoutOutcome
from connector.domain import (
    CollectionConfirmed,
    CollectionFailed,
    CollectionStarted,
    Money,
    PaidElsewhere,
    PaymentReceived,
    PaymentRequestSent,
)
from connector.domain.events import Event
from connector.runtime import Runtime
from connector.store.models import Invoice
from connector.sync.apply import PayoutError, apply_event, log_activity
from connector.sync.apply import record_payout as record_payout_rows

EventMaker = Callable[[date, Money | None, str, str], Event]

#: Every kind of invoice event the platform reports, by the name the CLI and the API use.
EVENT_KINDS: dict[str, EventMaker] = {
    "collection_started": lambda on, _amount, _ref, reason: CollectionStarted(occurred_on=on, detail=reason),
    "collection_failed": lambda on, _amount, _ref, reason: CollectionFailed(occurred_on=on, detail=reason),
    "collection_confirmed": lambda on, amount, ref, reason: CollectionConfirmed(
        occurred_on=on, amount=amount, reference=ref, detail=reason
    ),
    "request_sent": lambda on, _amount, _ref, reason: PaymentRequestSent(occurred_on=on, detail=reason),
    "payment_received": lambda on, amount, ref, reason: PaymentReceived(
        occurred_on=on, amount=amount, reference=ref, detail=reason
    ),
    "external_payment": lambda on, _amount, ref, reason: PaidElsewhere(
        occurred_on=on, detail="; ".join(x for x in (reason, ref and f"reference {ref}") if x)
    ),
}
#: What the platform reports that changes no status but belongs in the timeline, with how it reads.
NOTE_KINDS: dict[str, str] = {
    "payment_link_opened": "the customer opened the payment link",
    "mandate_pending": "the customer's direct debit mandate is being set up",
    "mandate_active": "the customer's direct debit mandate is active",
}
#: The kinds that carry money (``amount`` and ``reference`` apply).
MONEY_KINDS = frozenset({"collection_confirmed", "payment_received"})


def record_event(
    rt: Runtime,
    kind: str,
    refs: list[str],
    *,
    actor: Actor,
    on: date | str | None = None,
    amount: str | Decimal | None = None,
    reference: str = "",
    reason: str = "",
) -> list[InvoiceOutcome]:
    """Apply one platform event to each invoice named, in one transaction."""
    make = EVENT_KINDS.get(kind.replace("-", "_"))
    if make is None:
        raise InvalidInput(f"kind: expected one of {', '.join(EVENT_KINDS)}, got {kind!r}", field="kind")
    if not refs:
        raise InvalidInput("invoices: name at least one invoice", field="invoices")
    if amount is not None and len(refs) != 1:
        raise InvalidInput("amount applies to one invoice at a time", field="amount")
    if amount is not None and kind.replace("-", "_") not in MONEY_KINDS:
        raise InvalidInput(f"amount does not apply to {kind}", field="amount")
    today = lookup.day(on)
    collected = lookup.amount(amount, "amount") if amount is not None else None
    with rt.transaction() as session:
        rows = [lookup.invoice(session, ref) for ref in refs]
        results = []
        for row in rows:
            money = Money(collected, row.currency) if collected is not None else None
            event = make(today, money, reference, reason)
            results.append(
                InvoiceOutcome.of(row, apply_event(session, row, event, source=actor.source, actor=actor.name))
            )
        return results


def record_note(
    rt: Runtime,
    kind: str,
    refs: list[str],
    *,
    actor: Actor,
    on: date | str | None = None,
    detail: str = "",
) -> list[InvoiceOutcome]:
    """Something the platform saw that changes no status (a link opened, a mandate's progress):
    written to each invoice's timeline, so support can tell the customer what happened when."""
    what = NOTE_KINDS.get(kind.replace("-", "_"))
    if what is None:
        raise InvalidInput(f"kind: expected one of {', '.join(NOTE_KINDS)}, got {kind!r}", field="kind")
    if not refs:
        raise InvalidInput("invoices: name at least one invoice", field="invoices")
    day = lookup.day(on)
    with rt.transaction() as session:
        rows = [lookup.invoice(session, ref) for ref in refs]
        for row in rows:
            text = f"{what} on {day.isoformat()}" + (f" ({detail})" if detail else "")
            log_activity(
                session,
                row,
                "note",
                kind.replace("-", "_"),
                row.status,
                row.status,
                actor.source,
                text,
                actor=actor.name,
                data={"on": day.isoformat()},
            )
        return [InvoiceOutcome(r.id, r.number, "no_change", r.status, r.status, what) for r in rows]


def record_payout(
    rt: Runtime,
    refs: list[str],
    *,
    actor: Actor,
    fee: str | Decimal = "0",
    net: str | Decimal | None = None,
    on: date | str | None = None,
    reference: str = "",
    expected_arrival: date | str | None = None,
) -> PayoutOutcome:
    """The platform paid these invoices out: they settle, and a transfer and a fee go to the ledger."""
    if not refs:
        raise InvalidInput("invoices: name at least one invoice", field="invoices")
    fee_amount = lookup.amount(fee, "fee")
    net_amount = lookup.amount(net, "net") if net is not None else None
    today = lookup.day(on)
    arrival = lookup.day(expected_arrival, "expected_arrival") if expected_arrival is not None else None
    with rt.transaction() as session:
        rows: list[Invoice] = [lookup.invoice(session, ref) for ref in refs]
        try:
            outcomes, entry = record_payout_rows(
                session,
                rows,
                on=today,
                fee=fee_amount,
                reference=reference,
                net=net_amount,
                source=actor.source,
                actor=actor.name,
            )
        except PayoutError as exc:
            raise RefusedAction(str(exc), field="invoices") from None
        results = [InvoiceOutcome.of(row, outcome) for row, outcome in zip(rows, outcomes, strict=True)]
        if arrival is not None and entry is not None:
            for row in rows:  # the timeline says when the money should reach the bank
                log_activity(
                    session,
                    row,
                    "note",
                    "payout_expected",
                    row.status,
                    row.status,
                    actor.source,
                    f"payout {reference or ''} expected in the bank on {arrival.isoformat()}".replace("  ", " "),
                    actor=actor.name,
                    data={"expected_arrival": arrival.isoformat()},
                )
        if entry is None:
            return PayoutOutcome(results, reference)
        session.flush()
        p = entry.payload
        notes = []
        if Decimal(p["net"]) <= 0:
            notes.append(
                f"the fee exceeds what was collected: {-Decimal(p['net'])} {p['currency']} moves bank → clearing"
            )
        return PayoutOutcome(results, reference, p["currency"], p["gross"], p["fee"], p["net"], entry.id, notes)
