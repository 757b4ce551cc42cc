"""The dashboard, the invoice list (with its CSV downloads) and one invoice with a person's changes to it."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, request, url_for

from connector import reports
from connector.actions import ActionError
from connector.actions import invoices as actions
from connector.web.console.chart import stacked
from connector.web.console.common import bp, csv_lines, error_status, form_int, page_arg, render
from connector.web.context import runtime
from connector.web.guard import actor, requires


@bp.route("/")
@requires("viewer")
def dashboard() -> tuple[str, int]:
    with runtime().sessions() as session:
        data = reports.dashboard(session)
    charts = {card["id"]: stacked(card["chart"], data["statuses"]) for card in data["cards"]}
    return render("console/dashboard.html", title="Dashboard", charts=charts, **data)


@bp.route("/invoices")
@requires("viewer")
def invoices() -> tuple[str, int]:
    query, errors = reports.parse_invoice_query(request.args)
    with runtime().sessions() as session:
        data = reports.invoice_list(session, query, after=page_arg("after"), before=page_arg("before"))
    return render("console/invoices.html", title="Invoices", query=query, args=query.as_args(), errors=errors, **data)


def _download(filename: str, columns: tuple[str, ...], rows_of: Any) -> Response:
    """Stream the CSV from one read session: a large download never sits in memory whole.

    The generator needs no request context (it holds the runtime and the filters), so it runs
    as the server sends the body."""
    query, _ = reports.parse_invoice_query(request.args)
    rt = runtime()

    def lines() -> Any:
        with rt.sessions() as session:
            yield from csv_lines(columns, rows_of(session, query))

    response = Response(lines(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/invoices.csv")
@requires("viewer")
def invoices_csv() -> Response:
    return _download("invoices.csv", reports.CSV_COLUMNS, reports.invoice_rows)


@bp.route("/invoices-detailed.csv")
@requires("viewer")
def invoices_detailed_csv() -> Response:
    return _download("invoices-detailed.csv", reports.DETAILED_CSV_COLUMNS, reports.invoice_event_rows)


@bp.route("/invoices/<int:invoice_id>")
@requires("viewer")
def invoice(invoice_id: int) -> tuple[str, int]:
    with runtime().sessions() as session:
        found = reports.invoice_detail(session, invoice_id)
    if found is None:
        abort(404, description=f"There is no invoice #{invoice_id}.")
    return render("console/invoice.html", title=f"Invoice {found['number']}", inv=found)


def _brief(invoice_id: int) -> dict[str, Any]:
    with runtime().sessions() as session:
        found = reports.invoice_brief(session, invoice_id)
    if found is None:
        abort(404, description=f"There is no invoice #{invoice_id}.")
    return found


# --- a manual status change: choose (only what the table allows) → confirm → done ----------------------


@bp.route("/invoices/<int:invoice_id>/status", methods=["GET"])
@requires("support")
def status_form(invoice_id: int) -> tuple[str, int]:
    try:
        choices = actions.status_choices(runtime(), f"#{invoice_id}")
    except ActionError as exc:
        abort(error_status(exc), description=exc.message)
    return render("console/status_form.html", title="Change status", choices=choices, chosen="", reason="", error=None)


@bp.route("/invoices/<int:invoice_id>/status", methods=["POST"])
@requires("support")
def status_review(invoice_id: int) -> tuple[str, int]:
    """Step two: the change is checked (allowed now, reason given, page not stale), then confirmed."""
    target, reason = request.form.get("status", ""), request.form.get("reason", "")
    version = form_int("version")
    try:
        change = actions.check_status_change(
            runtime(), f"#{invoice_id}", target, reason=reason, expected_version=version
        )
    except ActionError as exc:
        choices = actions.status_choices(runtime(), f"#{invoice_id}")
        return render(
            "console/status_form.html",
            error_status(exc),
            title="Change status",
            choices=choices,
            chosen=target,
            reason=reason,
            error=exc,
        )
    return render("console/status_confirm.html", title="Confirm the change", change=change, reason=reason.strip())


@bp.route("/invoices/<int:invoice_id>/status/confirm", methods=["POST"])
@requires("support")
def status_confirm(invoice_id: int) -> Any:
    """Step three: the change, the person and their notify choice go into the timeline."""
    try:
        outcome = actions.set_status(
            runtime(),
            f"#{invoice_id}",
            request.form.get("status", ""),
            request.form.get("reason", ""),
            actor=actor(),
            notify_customer=request.form.get("notify_customer") == "yes",
            expected_version=form_int("version"),
        )
    except ActionError as exc:
        return _refused(invoice_id, exc, "Change status")
    flash(f"{outcome.number} is now {outcome.to_status}.", "success")
    return redirect(url_for("console.invoice", invoice_id=invoice_id))


def _refused(invoice_id: int, exc: ActionError, action: str) -> tuple[str, int]:
    """A refused action: its reason in plain words on the invoice, with nothing changed."""
    return render(
        "console/refused.html",
        error_status(exc),
        title="That did not happen",
        action=action,
        message=exc.message,
        back=url_for("console.invoice", invoice_id=invoice_id),
    )


# --- duplicates and conflicts on one invoice -----------------------------------------------------------


@bp.route("/invoices/<int:invoice_id>/mark-original", methods=["GET", "POST"])
@requires("support")
def mark_original(invoice_id: int) -> Any:
    inv = _brief(invoice_id)
    if request.method == "GET":
        return render("console/mark_original.html", title="Mark as original", inv=inv, reason="", error=None)
    reason = request.form.get("reason", "")
    try:
        outcome = actions.mark_original(
            runtime(), f"#{invoice_id}", reason, actor=actor(), expected_version=form_int("version")
        )
    except ActionError as exc:
        inv = _brief(invoice_id)
        return render(
            "console/mark_original.html", error_status(exc), title="Mark as original", inv=inv, reason=reason, error=exc
        )
    flash(f"{outcome.number} is marked Original and is processed now: it is {outcome.to_status}.", "success")
    return redirect(url_for("console.invoice", invoice_id=invoice_id))


@bp.route("/invoices/<int:invoice_id>/resolve", methods=["GET", "POST"])
@requires("support")
def resolve(invoice_id: int) -> Any:
    inv = _brief(invoice_id)
    context = {"title": "Resolve", "inv": inv, "resolutions": actions.RESOLUTIONS}
    if request.method == "GET":
        return render("console/resolve.html", resolution="", note="", error=None, **context)
    resolution, note = request.form.get("resolution", ""), request.form.get("note", "")
    try:
        actions.resolve_attention(
            runtime(), f"#{invoice_id}", resolution, note, actor=actor(), expected_version=form_int("version")
        )
    except ActionError as exc:
        context["inv"] = _brief(invoice_id)
        return render("console/resolve.html", error_status(exc), resolution=resolution, note=note, error=exc, **context)
    flash(f"{inv['number']}: resolved ({resolution.replace('_', ' ')}).", "success")
    return redirect(url_for("console.invoice", invoice_id=invoice_id))
