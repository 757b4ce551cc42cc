"""Quarantined records (release / dismiss with a reason) and failed pushes (retry / ignore with a reason)."""

from __future__ import annotations

from connector.store.models import OutboxEntry, QuarantinedRecord


def record(runtime, record_id: int) -> QuarantinedRecord:
    with runtime.sessions() as session:
        return session.get(QuarantinedRecord, record_id)


def entry(runtime, entry_id: int) -> OutboxEntry:
    with runtime.sessions() as session:
        return session.get(OutboxEntry, entry_id)


def test_quarantine_shows_record_reason_and_raw_payload(viewer, book):
    page = viewer.get("/queues/quarantine").get_data(as_text=True)
    assert "status &#39;WEIRD&#39; has no mapping rule" in page
    assert "&#34;Status&#34;: &#34;WEIRD&#34;" in page  # the raw payload, escaped
    assert "Release…" not in page


def test_dismiss_needs_a_reason_and_is_kept_with_who(support, book, runtime):
    url = f"/queues/quarantine/{book.ids['record']}/dismiss"
    assert "Dismiss this record?" in support.get(url).get_data(as_text=True)
    assert support.post(url, {"reason": ""}).status_code == 400
    assert record(runtime, book.ids["record"]).resolved_at is None
    assert support.post(url, {"reason": "a test record from the accountant"}).status_code == 302
    done = record(runtime, book.ids["record"])
    assert (done.resolved_by, done.dismissed_reason) == ("support", "a test record from the accountant")
    again = support.post(url, {"reason": "again"})
    assert again.status_code == 409 and "already resolved" in again.get_data(as_text=True)


def test_release_without_a_ledger_id_is_refused_plainly(support, book, runtime):
    response = support.post(f"/queues/quarantine/{book.ids['record']}/release")
    assert response.status_code == 409 and "no ledger id to re-read" in response.get_data(as_text=True)
    assert record(runtime, book.ids["record"]).resolved_at is None


def test_a_viewer_cannot_touch_the_quarantine(viewer, book, runtime):
    assert viewer.get(f"/queues/quarantine/{book.ids['record']}/dismiss").status_code == 403
    assert viewer.post(f"/queues/quarantine/{book.ids['record']}/dismiss", {"reason": "x"}).status_code == 403
    assert record(runtime, book.ids["record"]).resolved_at is None


def test_failed_pushes_show_the_ledgers_error_and_retry(support, book, runtime):
    page = support.get("/queues/failed").get_data(as_text=True)
    assert "the ledger refused: account archived" in page
    url = f"/queues/failed/{book.ids['entry']}/retry"
    assert "Send this write to the ledger again" in support.get(url).get_data(as_text=True)
    assert support.post(url).status_code == 302
    assert entry(runtime, book.ids["entry"]).state == "pending"
    assert "queued again by support" in support.get(f"/invoices/{book.ids['paid']}").get_data(as_text=True)


def test_ignore_needs_a_reason(support, book, runtime):
    url = f"/queues/failed/{book.ids['entry']}/ignore"
    assert support.post(url, {"reason": " "}).status_code == 400
    assert entry(runtime, book.ids["entry"]).state == "rejected"
    assert support.post(url, {"reason": "recorded by hand in Xero"}).status_code == 302
    assert entry(runtime, book.ids["entry"]).state == "ignored"
    refused = support.post(f"/queues/failed/{book.ids['lost']}/retry")  # a done write
    assert refused.status_code == 409 and "only a refused or waiting write" in refused.get_data(as_text=True)


def test_a_viewer_cannot_retry_or_ignore(viewer, book, runtime):
    assert viewer.post(f"/queues/failed/{book.ids['entry']}/retry").status_code == 403
    assert viewer.post(f"/queues/failed/{book.ids['entry']}/ignore", {"reason": "x"}).status_code == 403
    assert entry(runtime, book.ids["entry"]).state == "rejected"
