"""Support notices go out as digests: one message per kind per connection per hour, never a storm."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from connector.actions.notices import BACKOFF, collect, send_due
from connector.store.models import Connection, Notification, QuarantinedRecord
from connector.store.types import utcnow
from tests.notify.conftest import SUPPORT, free_port, notify_runtime


def _quarantine(rt, n: int, start: int = 0) -> None:
    with rt.transaction() as session:
        connection_id = session.scalars(select(Connection.id)).one()
        for i in range(start, start + n):
            session.add(
                QuarantinedRecord(
                    connection_id=connection_id,
                    stream="invoices",
                    external_id=f"bad-{i}",
                    reason="Total is not a number",
                    raw="{}",
                )
            )


def test_a_burst_is_one_digest_and_the_next_waits_an_hour(notify_rt, inbox) -> None:
    now = utcnow()
    _quarantine(notify_rt, 200)
    assert collect(notify_rt, now) == 200
    assert send_due(notify_rt, now).sent == 200
    [digest] = inbox.to(SUPPORT)
    assert digest["Subject"] == "acme: 200 ledger record(s) could not be imported"
    assert digest.get_body(("plain",)).get_content().count("quarantined: Total is not a number") == 200
    _quarantine(notify_rt, 30, start=200)
    collect(notify_rt, now + timedelta(minutes=5))
    waiting = send_due(notify_rt, now + timedelta(minutes=5))
    assert waiting.sent == 0 and waiting.waiting == 30 and len(inbox.messages) == 1
    assert send_due(notify_rt, now + timedelta(minutes=30)).sent == 0  # still within the hour
    later = send_due(notify_rt, now + timedelta(minutes=61))
    assert later.sent == 30 and len(inbox.to(SUPPORT)) == 2


def test_kinds_and_connections_are_digested_apart(notify_rt, inbox) -> None:
    _quarantine(notify_rt, 3)
    with notify_rt.transaction() as session:
        connection = session.scalars(select(Connection)).one()
        connection.state, connection.state_reason = "needs_reconnect", "invalid_grant"
    collect(notify_rt)
    send_due(notify_rt)
    subjects = sorted(m["Subject"] for m in inbox.to(SUPPORT))
    assert subjects == ["acme needs reconnecting", "acme: 3 ledger record(s) could not be imported"]
    collect(notify_rt)  # the same reconnect episode again: nothing new
    assert send_due(notify_rt).sent == 0


def test_a_mail_server_down_is_retried_with_backoff_and_loses_nothing(db_url) -> None:
    from aiosmtpd.controller import Controller

    from tests.notify.conftest import Inbox

    port = free_port()
    rt = notify_runtime(db_url, port)  # nothing listens there yet
    try:
        now = utcnow()
        _quarantine(rt, 2)
        collect(rt, now)
        first = send_due(rt, now)
        assert first.sent == 0
        with rt.sessions() as session:
            rows = list(session.scalars(select(Notification)))
        assert all(r.state == "pending" and r.attempts == 1 and r.last_error for r in rows)
        assert send_due(rt, now).sent == 0  # not due again before its backoff
        box = Inbox()
        controller = Controller(box, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            assert send_due(rt, now + BACKOFF[0]).sent == 2 and len(box.messages) == 1
        finally:
            controller.stop()
    finally:
        rt.close()
