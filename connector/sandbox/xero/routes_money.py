"""Accounting routes that move money: ``/Payments``, ``/CreditNotes`` (with allocations),
``/BankTransfers`` and ``/BankTransactions``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response

from connector.sandbox.xero import inputs, wire
from connector.sandbox.xero.listing import (
    bank_transaction_fields,
    bank_transfer_fields,
    credit_note_fields,
    payment_fields,
)
from connector.sandbox.xero.overpayments import OVERPAYMENT_TYPES
from connector.sandbox.xero.prepayments import PREPAYMENT_TYPES
from connector.sandbox.xero.routes_common import (
    accounting,
    allocation_batch,
    bad_body,
    current_tenant,
    elements_of,
    envelope,
    failed_element,
    list_response,
    not_found,
    read_body,
    record_response,
    summarize_errors,
    unitdp,
    write_batch,
)
from connector.sandbox.xero.state import LedgerError, NotFound
from connector.sandbox.xero.web import json_response, sandbox


# --- payments ---------------------------------------------------------------------------------
@accounting.route("/Payments", methods=["GET"])
def get_payments() -> Response:
    t = current_tenant()
    return list_response(
        "Payments",
        t.payments.values(),
        payment_fields(t),
        lambda p: wire.payment(p, t),
        updated=lambda p: p.updated_ms,
    )


@accounting.route("/Payments/<payment_id>", methods=["GET"])
def get_payment(payment_id: str) -> Response:
    t = current_tenant()
    return record_response("Payments", t.payments, payment_id.lower(), lambda r: wire.payment(r, t))


@accounting.route("/Payments", methods=["PUT", "POST"])
def put_payments() -> Response:
    """PUT takes ``{"Payments": [...]}``; POST also takes one bare Payment (create_payment)."""
    sb, t = sandbox(), current_tenant()
    raw = elements_of(read_body(), "Payments")
    if raw is None:
        return bad_body("The request body must contain Payments")
    summarize = summarize_errors()
    with sb.ledger.lock:
        pending: dict[str, Decimal] = {}
        parsed = []
        for element in raw:
            if not isinstance(element, dict):
                parsed.append((None, ["Each item in Payments must be an object"]))
                continue
            payment_in, errors = inputs.payment(element)
            if not errors:
                errors = sb.ledger.check_payment(t, payment_in, pending)
            parsed.append((payment_in, errors))
        if summarize and any(errors for _, errors in parsed):
            elements = [
                {
                    **(inputs.echo_payment(p) if p else {}),
                    **({"ValidationErrors": wire.errors_list(errors)} if errors else {}),
                }
                for p, errors in parsed
            ]
            return json_response(wire.validation_error(elements), 400)
        docs = []
        for payment_in, errors in parsed:
            if errors or payment_in is None:
                docs.append(
                    failed_element(
                        inputs.echo_payment(payment_in) if payment_in else {}, errors, "HasValidationErrors"
                    )
                )
                continue
            doc = wire.payment(sb.ledger.apply_payment(t.id, payment_in), t)
            if not summarize:
                doc["StatusAttributeString"] = "OK"
            docs.append(doc)
        document = envelope("Payments", docs)
    return json_response(document)


@accounting.route("/Payments/<payment_id>", methods=["POST"])
def delete_payment(payment_id: str) -> Response:
    """Deleting is a POST with ``{"Status": "DELETED"}`` (or that inside ``Payments``)."""
    sb, t = sandbox(), current_tenant()
    body = read_body()
    elements = elements_of(body, "Payments")
    status = elements[0].get("Status") if elements and isinstance(elements[0], dict) else None
    with sb.ledger.lock:
        if t.payments.get(payment_id.lower()) is None:
            return not_found()
        if status != "DELETED":
            return json_response(
                wire.validation_error(
                    [
                        {
                            "PaymentID": payment_id.lower(),
                            "ValidationErrors": wire.errors_list(
                                ["Payments can only be updated to a Status of DELETED"]
                            ),
                        }
                    ]
                ),
                400,
            )
        try:
            payment = sb.ledger.delete_payment(t.id, payment_id)
        except LedgerError as exc:
            return json_response(
                wire.validation_error(
                    [
                        {
                            "PaymentID": payment_id.lower(),
                            "ValidationErrors": wire.errors_list(exc.messages),
                        }
                    ]
                ),
                400,
            )
        document = envelope("Payments", [wire.payment(payment, t)])
    return json_response(document)


# --- banking -----------------------------------------------------------------------------------
@accounting.route("/BankTransfers", methods=["GET"])
def get_bank_transfers() -> Response:
    t = current_tenant()
    return list_response(
        "BankTransfers",
        t.bank_transfers.values(),
        bank_transfer_fields(t),
        lambda b: wire.bank_transfer(b, t),
        updated=lambda b: b.created_ms,
        paged=False,
    )


@accounting.route("/BankTransfers/<transfer_id>", methods=["GET"])
def get_bank_transfer(transfer_id: str) -> Response:
    t = current_tenant()
    return record_response("BankTransfers", t.bank_transfers, transfer_id.lower(), lambda r: wire.bank_transfer(r, t))


@accounting.route("/BankTransfers", methods=["PUT"])
def put_bank_transfers() -> Response:
    sb, t = sandbox(), current_tenant()
    return write_batch(
        "BankTransfers",
        elements_of(read_body(), "BankTransfers"),
        inputs.bank_transfer,
        lambda _e, kw: inputs.echo_bank_transfer(kw),
        lambda kw: sb.ledger.create_bank_transfer(t.id, **kw),
        lambda b: wire.bank_transfer(b, t),
        None,
        True,
    )


@accounting.route("/BankTransactions", methods=["GET"])
def get_bank_transactions() -> Response:
    t = current_tenant()
    places = unitdp()
    return list_response(
        "BankTransactions",
        t.bank_transactions.values(),
        bank_transaction_fields(t),
        lambda b: wire.bank_transaction(b, t, places),
        updated=lambda b: b.updated_ms,
    )


@accounting.route("/BankTransactions/<transaction_id>", methods=["GET"])
def get_bank_transaction(transaction_id: str) -> Response:
    t = current_tenant()
    tx = t.bank_transactions.get(transaction_id.lower())
    if tx is None:
        return not_found()
    return json_response(envelope("BankTransactions", [wire.bank_transaction(tx, t, unitdp())]))


@accounting.route("/BankTransactions", methods=["PUT"])
def put_bank_transactions() -> Response:
    """SPEND and RECEIVE money, RECEIVE-OVERPAYMENT (which creates an Overpayment) and
    RECEIVE-PREPAYMENT (which creates a Prepayment)."""
    sb, t, places = sandbox(), current_tenant(), unitdp()

    def create(kw: dict[str, Any]) -> Any:
        if kw["type"] in OVERPAYMENT_TYPES:
            return sb.ledger.create_overpayment(t.id, **kw)
        if kw["type"] in PREPAYMENT_TYPES:
            return sb.ledger.create_prepayment(t.id, **kw)
        return sb.ledger.create_bank_transaction(t.id, **kw)

    raw = elements_of(read_body(), "BankTransactions")
    # An element without a Type Xero knows cannot be answered element by element (the answer's
    # BankTransaction needs one): the whole request is refused, as summarizeErrors=true does.
    untyped = any(not isinstance(e, dict) or e.get("Type") not in inputs.BANK_TRANSACTION_TYPES for e in raw or [])
    return write_batch(
        "BankTransactions",
        raw,
        lambda el: inputs.bank_transaction(el, places),
        lambda _e, kw: inputs.echo_bank_transaction(kw),
        create,
        lambda b: wire.bank_transaction(b, t, places),
        None,
        summarize_errors() or untyped,
    )


# --- credit notes -----------------------------------------------------------------------------
@accounting.route("/CreditNotes", methods=["GET"])
def get_credit_notes() -> Response:
    t = current_tenant()
    places = unitdp()
    return list_response(
        "CreditNotes",
        t.credit_notes.values(),
        credit_note_fields(t),
        lambda n: wire.credit_note(n, t, places),
        updated=lambda n: n.updated_ms,
    )


@accounting.route("/CreditNotes/<note_id>", methods=["GET"])
def get_credit_note(note_id: str) -> Response:
    t = current_tenant()
    with sandbox().ledger.lock:
        note = t.credit_notes.get(note_id.lower()) or next(
            (n for n in t.credit_notes.values() if n.number == note_id), None
        )
        if note is None:
            return not_found()
        document = envelope("CreditNotes", [wire.credit_note(note, t, unitdp())])
    return json_response(document)


@accounting.route("/CreditNotes", methods=["PUT"])
def put_credit_notes() -> Response:
    sb, t, places = sandbox(), current_tenant(), unitdp()
    return write_batch(
        "CreditNotes",
        elements_of(read_body(), "CreditNotes"),
        lambda el: inputs.credit_note(el, places),
        lambda _e, kw: inputs.echo_credit_note(kw),
        lambda kw: sb.ledger.create_credit_note(t.id, **kw),
        lambda n: wire.credit_note(n, t, places),
        "HasErrors",
        summarize_errors(),
    )


@accounting.route("/CreditNotes/<note_id>/Allocations", methods=["PUT"])
def put_allocations(note_id: str) -> Response:
    sb, t = sandbox(), current_tenant()
    if note_id.lower() not in t.credit_notes:
        return not_found()
    return allocation_batch(
        lambda kw, pending: sb.ledger.check_allocation(t, note_id, kw["invoice_id"], kw["amount"], pending),
        lambda kw: sb.ledger.allocate_credit_note(t.id, note_id, kw["invoice_id"], kw["amount"], kw["date"]),
    )


@accounting.route("/CreditNotes/<note_id>/Allocations/<allocation_id>", methods=["DELETE"])
def delete_allocation(note_id: str, allocation_id: str) -> Response:
    sb, t = sandbox(), current_tenant()
    with sb.ledger.lock:
        try:
            allocation = sb.ledger.delete_allocation(t.id, note_id, allocation_id)
        except NotFound:
            return not_found()
        document = wire.allocation(allocation, t)
    return json_response(document)
