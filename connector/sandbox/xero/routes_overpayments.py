"""``/Overpayments``: list and read overpayments, and allocate them to invoices.

Overpayments are created through ``PUT /BankTransactions`` (``RECEIVE-OVERPAYMENT``), as in
Xero; see :mod:`connector.sandbox.xero.overpayments` for the rules.
"""

from __future__ import annotations

from flask import Response, request

from connector.sandbox.xero import wire
from connector.sandbox.xero.listing import overpayment_fields
from connector.sandbox.xero.routes_common import (
    accounting,
    allocation_batch,
    csv_param,
    current_tenant,
    list_response,
    not_found,
    record_response,
)
from connector.sandbox.xero.web import sandbox


@accounting.route("/Overpayments", methods=["GET"])
def get_overpayments() -> Response:
    """``where``/``order``/``page``, and the ``References`` list the SDK sends as CSV."""
    t = current_tenant()
    references = set(csv_param("References"))
    return list_response(
        "Overpayments",
        t.overpayments.values(),
        overpayment_fields(t),
        lambda o: wire.overpayment(o, t),
        updated=lambda o: o.updated_ms,
        extra=(lambda o: o.reference in references) if "References" in request.args else None,
    )


@accounting.route("/Overpayments/<overpayment_id>", methods=["GET"])
def get_overpayment(overpayment_id: str) -> Response:
    t = current_tenant()
    return record_response("Overpayments", t.overpayments, overpayment_id.lower(), lambda r: wire.overpayment(r, t))


@accounting.route("/Overpayments/<overpayment_id>/Allocations", methods=["PUT"])
def put_overpayment_allocations(overpayment_id: str) -> Response:
    sb, t = sandbox(), current_tenant()
    if overpayment_id.lower() not in t.overpayments:
        return not_found()
    return allocation_batch(
        lambda kw, pending: sb.ledger.check_overpayment_allocation(
            t, overpayment_id, kw["invoice_id"], kw["amount"], pending
        ),
        lambda kw: sb.ledger.allocate_overpayment(t.id, overpayment_id, kw["invoice_id"], kw["amount"], kw["date"]),
    )
