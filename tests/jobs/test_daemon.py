"""The daemon runs its jobs and stops cleanly; the overdue sweep moves outstanding requests."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from connector.domain import LedgerStatus, PaymentRequestSent
from connector.store.models import Connection, Invoice, SyncRun
from connector.sync.apply import NewInvoice, apply_event, create_invoice
from jobs.daemon import build_scheduler, run_daemon
from jobs.tasks import overdue_sweep


def test_overdue_sweep(runtime):
    today = date(2026, 5, 10)
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        for i, due in enumerate((today - timedelta(days=1), today + timedelta(days=1))):
            inv = create_invoice(
                session,
                conn,
                NewInvoice(
                    number=f"OD-{i}",
                    contact_name=f"C{i}",
                    currency="GBP",
                    total=Decimal(10),
                    amount_due=Decimal(10),
                    issue_date=today,
                    due_date=due,
                    ledger_status=LedgerStatus.DRAFT,
                    external_id=f"od-{i}",
                ),
                today=today,
            )
            apply_event(session, inv, PaymentRequestSent(occurred_on=today))
    assert overdue_sweep(runtime, today) == 1
    with runtime.transaction() as session:
        statuses = dict(session.execute(select(Invoice.number, Invoice.status)).all())
    assert statuses == {"OD-0": "overdue", "OD-1": "outstanding"}
    assert overdue_sweep(runtime, today) == 0  # a repeat changes nothing


def test_jobs_never_overlap_and_the_daemon_stops_cleanly(runtime):
    scheduler = build_scheduler(runtime)
    assert {job.id for job in scheduler.get_jobs()} == {
        "sync",
        "push",
        "hinted_syncs",
        "notices",
        "reconcile",
        "overdue_sweep",
    }
    assert all(job.max_instances == 1 and job.coalesce for job in scheduler.get_jobs())
    stop = threading.Event()
    worker = threading.Thread(target=run_daemon, args=(runtime, stop))
    worker.start()
    deadline = threading.Event()
    for _ in range(6000):  # the first sync and sweep run at start (up to 300 s under load; ends when seen)
        with runtime.sessions() as session:
            if session.scalars(select(SyncRun).where(SyncRun.job == "overdue_sweep")).first():
                break
        deadline.wait(0.05)
    stop.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    with runtime.sessions() as session:
        assert session.scalars(select(SyncRun).where(SyncRun.job == "overdue_sweep")).first() is not None


def test_overdue_follows_the_organisations_own_date(runtime):
    """At 20:00 UTC it is already tomorrow in Auckland (+13:00) but still today in San Francisco (-08:00)."""
    from datetime import UTC, datetime

    now = datetime(2026, 5, 10, 20, 0, tzinfo=UTC)
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        conn.settings = {**conn.settings, "utc_offset_minutes": 13 * 60}
        inv = create_invoice(
            session,
            conn,
            NewInvoice(
                number="NZ-1",
                contact_name="Kiwi",
                currency="NZD",
                total=Decimal(10),
                amount_due=Decimal(10),
                issue_date=date(2026, 5, 1),
                due_date=date(2026, 5, 10),
                ledger_status=LedgerStatus.DRAFT,
                external_id="nz-1",
            ),
            today=date(2026, 5, 1),
        )
        apply_event(session, inv, PaymentRequestSent(occurred_on=date(2026, 5, 1)))
    assert overdue_sweep(runtime, now=now) == 1  # 11 May in Auckland: due 10 May has passed
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        conn.settings = {**conn.settings, "utc_offset_minutes": -8 * 60}
        inv = create_invoice(
            session,
            conn,
            NewInvoice(
                number="US-1",
                contact_name="Yank",
                currency="USD",
                total=Decimal(10),
                amount_due=Decimal(10),
                issue_date=date(2026, 5, 1),
                due_date=date(2026, 5, 10),
                ledger_status=LedgerStatus.DRAFT,
                external_id="us-1",
            ),
            today=date(2026, 5, 1),
        )
        apply_event(session, inv, PaymentRequestSent(occurred_on=date(2026, 5, 1)))
    assert overdue_sweep(runtime, now=now) == 0  # still 10 May in San Francisco: not overdue yet
