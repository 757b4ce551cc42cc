"""What the payments platform may send, as pydantic models: the validator and the OpenAPI schema.

One model per kind of event, told apart by ``kind``. Amounts are decimal strings ("12.50"),
never floats: money stays exact from the platform's JSON to the ledger.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, TypeAdapter

Reference = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
InvoiceRef = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    Field(description='the invoice: "#<connector id>", its number, or its ledger id'),
]


def _decimal_string(value: Any) -> Any:
    """Money arrives as a string: a JSON number may already have lost a cent in the sender's float."""
    if isinstance(value, bool | int | float):
        raise ValueError('give amounts as decimal strings, such as "120.50", not JSON numbers')
    return value


Amount = Annotated[
    Decimal,
    BeforeValidator(_decimal_string),
    Field(gt=0, le=Decimal(10**13), decimal_places=4, description='a decimal string such as "120.50"'),
]
Fee = Annotated[Decimal, BeforeValidator(_decimal_string), Field(ge=0, le=Decimal(10**13), decimal_places=4)]
EventId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    Field(description="the platform's id for this event: an event already received with this id is not applied again"),
]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: EventId | None = None
    occurred_on: date | None = Field(default=None, description="when it happened (default: today)")


class _InvoiceEvent(_Event):
    invoice: InvoiceRef
    connection: str | None = Field(default=None, max_length=100, description="connection name, when numbers clash")


class CollectionStarted(_InvoiceEvent):
    """A direct debit was initiated (Scheduled → Submitted)."""

    kind: Literal["collection_started"]


class CollectionFailed(_InvoiceEvent):
    """The direct debit failed (Submitted → Scheduled, retried per the connection's policy)."""

    kind: Literal["collection_failed"]
    reason: str = Field(default="", max_length=500, description="the bank's reason")


class CollectionConfirmed(_InvoiceEvent):
    """The bank confirmed the direct debit (Submitted → Paid)."""

    kind: Literal["collection_confirmed"]
    amount: Amount | None = None
    reference: Reference = ""


class PaymentRequestSent(_InvoiceEvent):
    """A payment request went to the customer (Draft → Outstanding)."""

    kind: Literal["payment_request_sent"]


class PaymentReceived(_InvoiceEvent):
    """The customer paid a payment request through the platform (Outstanding/Overdue → Paid)."""

    kind: Literal["payment_received"]
    amount: Amount | None = None
    reference: Reference = ""


class ExternalPayment(_InvoiceEvent):
    """The customer paid outside the platform (Scheduled/Outstanding/Overdue → Paid, paid elsewhere):
    nothing is collected or posted; the accountant records that money in the ledger."""

    kind: Literal["external_payment"]
    reference: Reference = ""
    reason: str = Field(default="", max_length=500, description="how it was paid, for the timeline")


class PaymentLinkOpened(_InvoiceEvent):
    """The customer opened the payment link (no status change; kept in the timeline)."""

    kind: Literal["payment_link_opened"]


class MandatePending(_InvoiceEvent):
    """The customer's direct debit mandate is being set up (no status change; kept in the timeline)."""

    kind: Literal["mandate_pending"]


class MandateActive(_InvoiceEvent):
    """The customer's direct debit mandate is active (no status change; kept in the timeline)."""

    kind: Literal["mandate_active"]


class Payout(_Event):
    """The platform paid these invoices out (Paid → Settled): a transfer and a fee go to the ledger."""

    kind: Literal["payout"]
    invoices: list[InvoiceRef] = Field(min_length=1, max_length=1000)
    fee: Fee = Decimal(0)
    net: Amount | None = Field(default=None, description="the net amount paid out, checked against the invoices")
    reference: Reference = ""
    expected_arrival: date | None = Field(default=None, description="when the money should reach the bank")


Event = Annotated[
    CollectionStarted
    | CollectionFailed
    | CollectionConfirmed
    | PaymentRequestSent
    | PaymentReceived
    | ExternalPayment
    | PaymentLinkOpened
    | MandatePending
    | MandateActive
    | Payout,
    Field(discriminator="kind"),
]
#: Every model of an event, in the order the OpenAPI document lists them.
EVENT_MODELS = (
    CollectionStarted,
    CollectionFailed,
    CollectionConfirmed,
    PaymentRequestSent,
    PaymentReceived,
    ExternalPayment,
    PaymentLinkOpened,
    MandatePending,
    MandateActive,
    Payout,
)


class Batch(BaseModel):
    """Several events in one request: each is applied on its own, and answered on its own."""

    model_config = ConfigDict(extra="forbid")

    events: list[Event] = Field(min_length=1, max_length=500)


EVENT = TypeAdapter(Event)
BATCH = TypeAdapter(Batch)

#: The API's kind → the action's kind.
ACTION_KINDS = {
    "collection_started": "collection_started",
    "collection_failed": "collection_failed",
    "collection_confirmed": "collection_confirmed",
    "payment_request_sent": "request_sent",
    "payment_received": "payment_received",
    "external_payment": "external_payment",
}
#: The API's kinds that only add to the timeline (connector/actions/platform.py NOTE_KINDS).
NOTE_KINDS = frozenset({"payment_link_opened", "mandate_pending", "mandate_active"})


def field_of(error: dict[str, Any]) -> str:
    """A pydantic error's location as the JSON path a client sees (``events[2].amount``)."""
    out = ""
    for part in error.get("loc", ()):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ACTION_KINDS or part in NOTE_KINDS or part == "payout":  # a union branch is not a field
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(body)"
