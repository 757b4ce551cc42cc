"""The queues: conflicts, duplicates, quarantined records and failed pushes, each with its actions.

Conflicts and duplicates are invoices: their actions live on the invoice (``pages.py``), linked
from here. Quarantined records and ledger writes have their own confirmation steps here.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for

from connector import reports
from connector.actions import ActionError
from connector.actions import outbox as outbox_actions
from connector.actions import quarantine as quarantine_actions
from connector.web.console.common import bp, error_status, page_arg, render
from connector.web.context import runtime
from connector.web.guard import actor, requires


@bp.route("/queues")
@requires("viewer")
def queues() -> tuple[str, int]:
    with runtime().sessions() as session:
        data = reports.queue_overview(session)
    return render("console/queues.html", title="Queues", **data)


@bp.route("/queues/conflicts")
@requires("viewer")
def conflicts() -> tuple[str, int]:
    with runtime().sessions() as session:
        page = reports.conflict_queue(session, after=page_arg("after"))
    return render("console/queue_conflicts.html", title="Conflicts", page=page, queue="conflicts")


@bp.route("/queues/duplicates")
@requires("viewer")
def duplicates() -> tuple[str, int]:
    with runtime().sessions() as session:
        page = reports.duplicate_queue(session, after=page_arg("after"))
    return render("console/queue_duplicates.html", title="Duplicates", page=page, queue="duplicates")


@bp.route("/queues/quarantine")
@requires("viewer")
def quarantine() -> tuple[str, int]:
    with runtime().sessions() as session:
        page = reports.quarantine_queue(session, after=page_arg("after"))
    return render("console/queue_quarantine.html", title="Quarantine", page=page, queue="quarantine")


@bp.route("/queues/failed")
@requires("viewer")
def failed() -> tuple[str, int]:
    with runtime().sessions() as session:
        page = reports.failed_push_queue(session, after=page_arg("after"))
    return render("console/queue_failed.html", title="Failed pushes", page=page, queue="failed")


# --- quarantined records: release (re-read and apply now) or dismiss with a reason -----------------------

#: What each confirmation page asks, by action.
QUARANTINE = {
    "release": ("Release the record", "Re-read this record from the ledger now and apply it?", False),
    "dismiss": ("Dismiss the record", "Dismiss this record? The connector will not take it in.", True),
}
PUSHES = {
    "retry": ("Retry the write", "Send this write to the ledger again at the next push?", False),
    "ignore": ("Ignore the write", "Never send this write? Say why (e.g. recorded by hand in the ledger).", True),
}


def _record(record_id: int) -> dict[str, Any]:
    with runtime().sessions() as session:
        found = reports.quarantined_record(session, record_id)
    if found is None:
        abort(404, description=f"There is no quarantined record {record_id}.")
    return found


def _entry(entry_id: int) -> dict[str, Any]:
    with runtime().sessions() as session:
        found = reports.outbox_entry(session, entry_id)
    if found is None:
        abort(404, description=f"There is no ledger write {entry_id}.")
    return found


@bp.route("/queues/quarantine/<int:record_id>/<any(release, dismiss):action>", methods=["GET", "POST"])
@requires("support")
def quarantine_action(record_id: int, action: str) -> Any:
    record = _record(record_id)
    title, question, needs_reason = QUARANTINE[action]
    context = {"title": title, "question": question, "needs_reason": needs_reason, "record": record}
    if request.method == "GET":
        return render("console/confirm_record.html", reason="", error=None, **context)
    reason = request.form.get("reason", "")
    try:
        if action == "release":
            outcome = quarantine_actions.release_record(runtime(), record_id, actor=actor())
        else:
            outcome = quarantine_actions.dismiss_record(runtime(), record_id, reason, actor=actor())
    except ActionError as exc:
        return render("console/confirm_record.html", error_status(exc), reason=reason, error=exc, **context)
    flash(f"Quarantined record {record_id}: {outcome.message}.", "success")
    return redirect(url_for("console.quarantine"))


@bp.route("/queues/failed/<int:entry_id>/<any(retry, ignore):action>", methods=["GET", "POST"])
@requires("support")
def push_action(entry_id: int, action: str) -> Any:
    entry = _entry(entry_id)
    title, question, needs_reason = PUSHES[action]
    context = {"title": title, "question": question, "needs_reason": needs_reason, "entry": entry}
    if request.method == "GET":
        return render("console/confirm_push.html", reason="", error=None, **context)
    reason = request.form.get("reason", "")
    try:
        if action == "retry":
            outcome = outbox_actions.retry_push(runtime(), entry_id, actor=actor())
        else:
            outcome = outbox_actions.ignore_push(runtime(), entry_id, reason, actor=actor())
    except ActionError as exc:
        return render("console/confirm_push.html", error_status(exc), reason=reason, error=exc, **context)
    flash(f"Ledger write {entry_id}: {outcome.message}.", "success")
    return redirect(url_for("console.failed"))
