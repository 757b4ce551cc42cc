"""A retried event or request changes nothing the second time and answers with the first result."""

from __future__ import annotations

from sqlalchemy import func, select

from connector.store.models import ActivityEvent, OutboxEntry
from tests.actions.conftest import add_invoice


def _events(rt) -> int:
    with rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(ActivityEvent))


def test_an_event_id_seen_before_is_not_applied_again(platform, api_rt) -> None:
    add_invoice(api_rt, "INV-1")
    event = {"id": "evt-7", "kind": "collection_started", "invoice": "INV-1"}
    first = platform.post(event)
    before = _events(api_rt)
    again = platform.post(event)
    assert again.status_code == first.status_code == 200
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert _events(api_rt) == before  # not even a "no change" line


def test_an_idempotency_key_replays_the_whole_answer(platform, api_rt) -> None:
    add_invoice(api_rt, "INV-1")
    platform.post({"kind": "collection_started", "invoice": "INV-1"})
    confirm = {"kind": "collection_confirmed", "invoice": "INV-1", "amount": "120.00"}
    first = platform.post(confirm, key="req-1")
    before = _events(api_rt)
    second = platform.post(confirm, key="req-1")
    assert second.status_code == first.status_code == 200 and second.json == first.json
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _events(api_rt) == before
    with api_rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.kind == "payment")) == 1


def test_a_key_reused_for_another_body_is_refused(platform, api_rt) -> None:
    add_invoice(api_rt, "INV-1")
    platform.post({"kind": "collection_started", "invoice": "INV-1"}, key="k")
    other = platform.post({"kind": "collection_failed", "invoice": "INV-1"}, key="k")
    assert other.status_code == 422 and other.json["error"]["field"] == "Idempotency-Key"


def test_an_event_id_reused_for_another_event_is_refused(platform, api_rt) -> None:
    add_invoice(api_rt, "INV-1")
    platform.post({"id": "same", "kind": "collection_started", "invoice": "INV-1"})
    other = platform.post({"id": "same", "kind": "collection_failed", "invoice": "INV-1"})
    assert other.status_code == 422 and other.json["error"]["field"] == "Idempotency-Key"
