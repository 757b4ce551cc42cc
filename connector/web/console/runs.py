"""Sync runs (with "Sync now") and reconciliation (with "Reconcile now" and the one-click re-post).

A sync or reconcile talks to the ledger for seconds to minutes: it runs in a background thread
and the page answers at once; the run history shows it running, then its outcome.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for

from connector import reports
from connector.actions import ActionError
from connector.actions import reconcile as reconcile_actions
from connector.actions.sync import run_sync
from connector.web.console.common import bp, error_status, page_arg, render, start_job
from connector.web.context import runtime
from connector.web.guard import actor, requires


@bp.route("/runs")
@requires("viewer")
def runs() -> tuple[str, int]:
    with runtime().sessions() as session:
        data = reports.sync_runs(session, connection_id=page_arg("connection"), after=page_arg("after"))
    return render("console/runs.html", title="Sync runs", connection_id=page_arg("connection"), **data)


def _connection_name(form_or_args: Any, names: list[dict[str, Any]]) -> str | None:
    """The chosen connection's name (None: every connection); 404 for one that does not exist."""
    raw = (form_or_args.get("connection") or "").strip()
    if not raw:
        return None
    for c in names:
        if str(c["id"]) == raw:
            return str(c["name"])
    abort(404, description="There is no such connection.")


def _job_page(kind: str) -> Any:
    """The confirmation step of "Sync now" / "Reconcile now", and starting it."""
    with runtime().sessions() as session:
        names = reports.connection_list(session)
    source = request.form if request.method == "POST" else request.args
    name = _connection_name(source, names)
    if request.method == "GET":
        return render("console/confirm_job.html", title=f"{kind.capitalize()} now", kind=kind, name=name, names=names)
    rt = runtime()
    if kind == "sync":
        start_job(f"sync-{name or 'all'}", lambda: run_sync(rt, connection=name))
        flash(f"A sync of {name or 'every connection'} has started; it appears below as it runs.", "success")
        return redirect(url_for("console.runs"))
    start_job(f"reconcile-{name or 'all'}", lambda: reconcile_actions.run_reconcile(rt, connection=name))
    flash(f"A reconciliation of {name or 'every connection'} has started; its findings appear when it ends.", "success")
    return redirect(url_for("console.reconciliation"))


@bp.route("/runs/sync", methods=["GET", "POST"])
@requires("support")
def sync_now() -> Any:
    return _job_page("sync")


@bp.route("/reconciliation")
@requires("viewer")
def reconciliation() -> tuple[str, int]:
    with runtime().sessions() as session:
        data = reports.reconciliation(session, connection_id=page_arg("connection"), after=page_arg("after"))
    return render("console/reconciliation.html", title="Reconciliation", connection_id=page_arg("connection"), **data)


@bp.route("/reconciliation/run", methods=["GET", "POST"])
@requires("support")
def reconcile_now() -> Any:
    return _job_page("reconcile")


@bp.route("/reconciliation/findings/<int:finding_id>/repost", methods=["GET", "POST"])
@requires("support")
def repost(finding_id: int) -> Any:
    with runtime().sessions() as session:
        found = reports.finding(session, finding_id)
    if found is None:
        abort(404, description=f"There is no finding {finding_id}.")
    if request.method == "GET":
        return render("console/confirm_repost.html", title="Re-post the payment", finding=found, error=None)
    try:
        outcome = reconcile_actions.repost_payment(runtime(), finding_id, actor=actor())
    except ActionError as exc:
        return render(
            "console/confirm_repost.html", error_status(exc), title="Re-post the payment", finding=found, error=exc
        )
    flash(f"{outcome.number}: {outcome.message}. The next push posts it; the next reconcile checks it.", "success")
    return redirect(url_for("console.reconciliation"))
