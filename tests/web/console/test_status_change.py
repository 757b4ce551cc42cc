"""A person's status change: only allowed targets, a reason, a confirmation with "Notify customer",
recorded in the timeline with their name; stale pages and disallowed moves change nothing."""

from __future__ import annotations

import re

from sqlalchemy import select

from connector.actions import Actor
from connector.actions import platform as platform_actions
from connector.store.models import ActivityEvent, Invoice


def offered(page: str) -> list[str]:
    return re.findall(r'name="status" value="([a-z]+)"', page)


def events(runtime, invoice_id: int) -> list[ActivityEvent]:
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(ActivityEvent).where(ActivityEvent.invoice_id == invoice_id).order_by(ActivityEvent.id)
            )
        )


def status_of(runtime, invoice_id: int) -> str:
    with runtime.sessions() as session:
        return session.get(Invoice, invoice_id).status


def test_only_the_statuses_the_table_allows(support, book):
    assert offered(support.get(f"/invoices/{book.ids['draft']}/status").get_data(as_text=True)) == [
        "scheduled",
        "outstanding",
        "voided",
    ]
    assert offered(support.get(f"/invoices/{book.ids['scheduled']}/status").get_data(as_text=True)) == [
        "submitted",
        "voided",
    ]
    page = support.get(f"/invoices/{book.ids['paid']}/status").get_data(as_text=True)
    assert offered(page) == [] and "No status change is allowed from paid" in page


def test_change_confirm_and_see_it_in_the_timeline(support, book, runtime):
    invoice_id = book.ids["scheduled"]
    support.get(f"/invoices/{invoice_id}/status")
    version = book.invoice("scheduled").version
    review = support.post(
        f"/invoices/{invoice_id}/status", {"status": "voided", "reason": "customer cancelled", "version": version}
    )
    page = review.get_data(as_text=True)
    assert review.status_code == 200
    assert "This will change the status of the invoice. Are you sure?" in page
    # the customer can already see a scheduled invoice: notify starts ticked
    assert re.search(r'name="notify_customer" value="yes" checked', page)
    assert status_of(runtime, invoice_id) == "scheduled"  # nothing happens before the confirmation
    done = support.post(
        f"/invoices/{invoice_id}/status/confirm",
        {"status": "voided", "reason": "customer cancelled", "version": version},  # notify unticked
    )
    assert done.status_code == 302
    assert status_of(runtime, invoice_id) == "voided"
    last = events(runtime, invoice_id)[-1]
    assert (last.to_status, last.actor, last.source) == ("voided", "support", "person")
    assert last.data["reason"] == "customer cancelled" and last.data["notify_customer"] is False
    page = support.get(f"/invoices/{invoice_id}").get_data(as_text=True)
    assert "customer cancelled" in page and "notify customer: no" in page and "by support" in page


def test_notify_is_off_by_default_for_a_draft_and_recorded_when_ticked(support, book, runtime):
    invoice_id = book.ids["draft"]
    version = book.invoice("draft").version
    page = support.post(
        f"/invoices/{invoice_id}/status", {"status": "scheduled", "reason": "approved by phone", "version": version}
    ).get_data(as_text=True)
    assert 'name="notify_customer" value="yes" aria-describedby' in page  # not checked
    support.post(
        f"/invoices/{invoice_id}/status/confirm",
        {"status": "scheduled", "reason": "approved by phone", "version": version, "notify_customer": "yes"},
    )
    assert events(runtime, invoice_id)[-1].data["notify_customer"] is True


def test_a_reason_is_required(support, book, runtime):
    invoice_id = book.ids["scheduled"]
    response = support.post(f"/invoices/{invoice_id}/status", {"status": "voided", "reason": "  "})
    assert response.status_code == 400 and "reason must say why" in response.get_data(as_text=True)
    response = support.post(f"/invoices/{invoice_id}/status/confirm", {"status": "voided", "reason": ""})
    assert response.status_code == 400
    assert status_of(runtime, invoice_id) == "scheduled"


def test_a_stale_page_is_refused_and_changes_nothing(support, book, runtime):
    invoice_id = book.ids["scheduled"]
    version = book.invoice("scheduled").version
    # meanwhile the platform starts the collection
    platform_actions.record_event(runtime, "collection_started", [f"#{invoice_id}"], actor=Actor.platform())
    before = len(events(runtime, invoice_id))
    response = support.post(
        f"/invoices/{invoice_id}/status/confirm", {"status": "voided", "reason": "cancelled", "version": version}
    )
    assert response.status_code == 409
    assert "changed since you opened the page" in response.get_data(as_text=True)
    assert status_of(runtime, invoice_id) == "submitted" and len(events(runtime, invoice_id)) == before


def test_a_move_no_longer_allowed_is_refused(support, book, runtime):
    invoice_id = book.ids["submitted"]  # submitted: voiding is refused by the table
    response = support.post(f"/invoices/{invoice_id}/status/confirm", {"status": "voided", "reason": "cancelled"})
    assert response.status_code == 409 and "cannot go from submitted to voided" in response.get_data(as_text=True)
    assert status_of(runtime, invoice_id) == "submitted"


def test_a_viewer_cannot_change_a_status(viewer, book, runtime):
    invoice_id = book.ids["scheduled"]
    assert viewer.get(f"/invoices/{invoice_id}/status").status_code == 403
    assert viewer.post(f"/invoices/{invoice_id}/status", {"status": "voided", "reason": "x"}).status_code == 403
    response = viewer.post(f"/invoices/{invoice_id}/status/confirm", {"status": "voided", "reason": "x"})
    assert response.status_code == 403
    assert status_of(runtime, invoice_id) == "scheduled"


def test_without_the_csrf_token_nothing_happens(support, book, runtime):
    invoice_id = book.ids["scheduled"]
    response = support.post(f"/invoices/{invoice_id}/status/confirm", {"status": "voided", "reason": "x"}, csrf=False)
    assert response.status_code == 400
    assert status_of(runtime, invoice_id) == "scheduled"


def test_an_admin_may_act_too(admin, book, runtime):
    invoice_id = book.ids["scheduled"]
    admin.post(f"/invoices/{invoice_id}/status/confirm", {"status": "voided", "reason": "duplicate entry"})
    assert status_of(runtime, invoice_id) == "voided"
