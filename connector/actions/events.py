"""Platform events arriving over the API: each applied once, answered with what it did.

The events API's shell (:mod:`connector.web.api`) verifies the signature and parses the body;
this applies each event through the same actions the CLI uses, with the event's ``id`` as its
idempotency key, and turns every outcome and error into an :class:`~connector.actions.requests.Answer`.

A batch is answered **per event**: each event is applied in its own transaction, and the answer
lists each one's status. Nothing is half-applied within an event; a batch whose body does not
validate is refused whole (422) before any event runs.
"""

from __future__ import annotations

import json
from typing import Any

from connector.actions import lookup
from connector.actions import platform as platform_actions
from connector.actions.context import Actor
from connector.actions.errors import ActionError, InvalidInput
from connector.actions.requests import Answer, body_hash, once
from connector.actions.results import InvoiceOutcome
from connector.platform_api import schema
from connector.runtime import Runtime

STATUS = {"not_found": 404, "invalid": 422, "refused": 409, "in_progress": 409}


def apply_events(rt: Runtime, account: str, events: list[schema.Event]) -> list[Answer]:
    """Apply each event once (by its ``id`` when it has one); the answers in the same order."""
    answers = []
    for event in events:
        if event.id:
            digest = body_hash(event.model_dump_json().encode())
            try:
                answer = once(rt, account, f"event:{event.id}", digest, lambda e=event: _apply(rt, account, e))
            except ActionError as exc:  # the id reused for another event, or still running
                answer = _error(exc)
        else:
            answer = _apply(rt, account, event)
        answers.append(answer)
    return answers


def _apply(rt: Runtime, account: str, event: schema.Event) -> Answer:
    actor = Actor.platform(account)
    try:
        if isinstance(event, schema.Payout):
            payout = platform_actions.record_payout(
                rt,
                [_ref(rt, ref, None) for ref in event.invoices],
                actor=actor,
                fee=event.fee,
                net=event.net,
                on=event.occurred_on,
                reference=event.reference,
                expected_arrival=event.expected_arrival,
            )
            body = {
                "id": event.id,
                "kind": event.kind,
                "invoices": [o.as_dict() for o in payout.invoices],
                "payout": {
                    "reference": payout.reference,
                    "currency": payout.currency,
                    "gross": _str(payout.gross),
                    "fee": _str(payout.fee),
                    "net": _str(payout.net),
                    "notes": list(payout.notes),
                    "expected_arrival": event.expected_arrival.isoformat() if event.expected_arrival else None,
                },
            }
            return Answer(_status(payout.invoices), body)
        if event.kind in schema.NOTE_KINDS:
            outcomes = platform_actions.record_note(
                rt, event.kind, [_ref(rt, event.invoice, event.connection)], actor=actor, on=event.occurred_on
            )
            return Answer(200, {"id": event.id, "kind": event.kind, "invoices": [o.as_dict() for o in outcomes]})
        fields: dict[str, Any] = {"on": event.occurred_on}
        if isinstance(event, schema.CollectionConfirmed | schema.PaymentReceived):
            fields.update(amount=event.amount, reference=event.reference)
        if isinstance(event, schema.CollectionFailed):
            fields.update(reason=event.reason)
        if isinstance(event, schema.ExternalPayment):
            fields.update(reference=event.reference, reason=event.reason)
        outcomes = platform_actions.record_event(
            rt, schema.ACTION_KINDS[event.kind], [_ref(rt, event.invoice, event.connection)], actor=actor, **fields
        )
        return Answer(
            _status(outcomes), {"id": event.id, "kind": event.kind, "invoices": [o.as_dict() for o in outcomes]}
        )
    except ActionError as exc:
        return _error(exc, event)


def _ref(rt: Runtime, ref: str, connection: str | None) -> str:
    """The invoice as ``#id``, found once (narrowed by connection name when numbers clash)."""
    with rt.sessions() as session:
        return f"#{lookup.invoice(session, ref, connection).id}"


def _status(outcomes: list[InvoiceOutcome]) -> int:
    """200 when the status table took every invoice's event; 409 when it refused one (or a conflict)."""
    return 200 if all(o.accepted for o in outcomes) else 409


def _error(exc: ActionError, event: schema.Event | None = None) -> Answer:
    body = {"error": exc.as_dict()}
    if event is not None:
        body.update(id=event.id, kind=event.kind)
    return Answer(STATUS.get(exc.code, 409), body)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def parse(body: bytes) -> tuple[list[schema.Event], bool]:
    """The events in a request body, and whether it was a batch: one event object, or ``{"events": [...]}``.

    Raises :class:`InvalidInput` naming the first field at fault (``events[2].amount``), so the
    platform can fix it; nothing has been applied then.
    """
    from pydantic import ValidationError

    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the body is not JSON", field="(body)") from None
    if not isinstance(data, dict):
        raise InvalidInput('the body must be a JSON object: one event, or {"events": [...]}', field="(body)")
    try:
        if "events" in data:
            return list(schema.BATCH.validate_python(data).events), True
        return [schema.EVENT.validate_python(data)], False
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(f"{schema.field_of(first)}: {first['msg']}", field=schema.field_of(first)) from None
