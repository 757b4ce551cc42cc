"""``/runs`` (history, "Sync now" in the background) and ``/reconciliation`` (findings, repost, "Reconcile now")."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from connector.store.models import OutboxEntry, ReconciliationFinding, SyncRun
from tests.web.console.conftest import queries_for


def wait_for_jobs(app: Flask) -> None:
    for thread in app.extensions.get("console.jobs", []):
        thread.join(timeout=60)
        assert not thread.is_alive()


def runs(runtime, job: str) -> list[SyncRun]:
    with runtime.sessions() as session:
        return list(session.scalars(select(SyncRun).where(SyncRun.job == job).order_by(SyncRun.id)))


def test_the_history_shows_counts_calls_and_duration(viewer, book):
    page = viewer.get("/runs").get_data(as_text=True)
    assert "Succeeded" in page and ">12</td>" in page and "60.0 s" in page
    assert "Sync now" not in page


def test_sync_now_is_confirmed_and_runs_in_the_background(app, support, book, runtime):
    assert "Import from the ledger" in support.get(f"/runs/sync?connection={book.connection_id}").get_data(as_text=True)
    response = support.post("/runs/sync", {"connection": str(book.connection_id)})
    assert response.status_code == 302 and response.headers["Location"] == "/runs"
    wait_for_jobs(app)
    # This connection has no token: the run says so (in the history, and on the connection).
    assert len(runs(runtime, "sync")) >= 1
    assert "has started" in support.get("/runs").get_data(as_text=True)


def test_a_viewer_cannot_sync(viewer, book, runtime):
    assert viewer.post("/runs/sync", {"connection": ""}).status_code == 403
    assert viewer.get("/runs/sync").status_code == 403
    assert len(runs(runtime, "sync")) == 1


def test_an_unknown_connection_is_404(support, book):
    assert support.post("/runs/sync", {"connection": "999"}).status_code == 404


def test_reconciliation_lists_findings_with_explanation_and_fix(viewer, book):
    page = viewer.get("/reconciliation").get_data(as_text=True)
    assert "1 open finding" in page and "payment missing: 1" in page
    assert "deleted there" in page and "Re-post the payment." in page
    assert f'href="/invoices/{book.ids["paid"]}">INV-0004<' in page
    assert "Re-post the payment…" not in page and "Reconcile now" not in page


def test_repost_is_confirmed_and_queues_the_payment_again(support, book, runtime):
    url = f"/reconciliation/findings/{book.ids['finding']}/repost"
    assert "Queue this payment for the ledger again" in support.get(url).get_data(as_text=True)
    assert support.post(url).status_code == 302
    with runtime.sessions() as session:
        assert session.get(OutboxEntry, book.ids["lost"]).state == "replaced"
        pending = session.scalar(
            select(func.count()).where(
                OutboxEntry.invoice_id == book.ids["paid"],
                OutboxEntry.kind == "payment",
                OutboxEntry.state == "pending",
            )
        )
        assert pending == 1
    assert "queued again" in support.get(f"/invoices/{book.ids['paid']}").get_data(as_text=True)
    again = support.post(url)
    assert again.status_code == 409 and "already waiting to be posted" in again.get_data(as_text=True)


def test_a_viewer_cannot_repost(viewer, book, runtime):
    assert viewer.post(f"/reconciliation/findings/{book.ids['finding']}/repost").status_code == 403
    with runtime.sessions() as session:
        assert session.get(OutboxEntry, book.ids["lost"]).state == "done"


def test_reconcile_now_runs_in_the_background(app, support, book, runtime):
    assert support.post("/reconciliation/run", {"connection": ""}).status_code == 302
    wait_for_jobs(app)
    [run] = runs(runtime, "reconcile")
    assert run.state in ("failed", "succeeded")  # no token here: it fails, and says why
    page = support.get("/reconciliation").get_data(as_text=True)
    assert "Last reconcile:" in page and "never" not in page.split("Last reconcile:")[1][:20]
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReconciliationFinding)) >= 1


def test_fixed_query_counts(viewer, book, queries):
    assert queries_for(viewer, queries, "/runs") <= 3
    assert queries_for(viewer, queries, "/reconciliation") <= 5
