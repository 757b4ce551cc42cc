"""Notices: store what is worth telling (from recorded facts), then mail it, digested for support.

Two steps, both run by the daemon's notices job and both safe to repeat:

* :func:`collect` reads new facts per connection (:mod:`connector.notify.facts`) and stores one
  ``notifications`` row per recipient, keyed by the fact, with the connection's reading marks
  advanced in the same transaction: a crash loses nothing and stores nothing twice.
* :func:`send_due` mails what is due. A customer notice is one message; support items of one
  kind for one connection go out together as one digest, at most once per ``digest_every``.
  A failed send is retried with backoff and never holds up a sync (it runs in its own job).

Every customer notice, sent or not, is also written to the invoice's timeline.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connector.notify import compose, facts
from connector.notify.smtp import SendFailed, send
from connector.runtime import Runtime
from connector.store.models import ActivityEvent, Connection, Invoice, Notification, SyncCursor
from connector.store.types import utcnow

log = logging.getLogger("connector.notices")

#: Waits between attempts at a failed send; after the last, the notice is given up (state "failed").
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))
ACTIVITY_MARK = "notices:activity"
QUARANTINE_MARK = "notices:quarantine"
#: The customer notices a connection sends unless its settings say otherwise.
ALL_CUSTOMER_KINDS = ("status_changed", "request_sent", "collection_failed", "payment_confirmed")


@dataclass
class NoticeCounts:
    stored: int = 0
    sent: int = 0
    failed: int = 0
    waiting: int = 0
    messages: list[str] = field(default_factory=list)


def collect(rt: Runtime, now: datetime | None = None) -> int:
    """Store notices for the facts recorded since the last collection; returns how many were stored."""
    now = now or utcnow()
    stored = 0
    with rt.sessions() as session:
        connection_ids = list(session.scalars(select(Connection.id).order_by(Connection.id)))
    for connection_id in connection_ids:
        try:
            with rt.transaction() as session:
                stored += _collect_one(rt, session, session.get(Connection, connection_id), now)
        except IntegrityError:  # another notifier stored the same facts meanwhile: its rows stand
            log.info("notices for connection %s were stored by another process", connection_id)
    return stored


def _collect_one(rt: Runtime, session: Session, connection: Connection, now: datetime) -> int:
    found: list[facts.Fact] = []
    activity_mark = _mark(session, connection.id, ACTIVITY_MARK)
    new, activity_to = facts.from_activity(session, connection, activity_mark)
    found += new
    quarantine_mark = _mark(session, connection.id, QUARANTINE_MARK)
    new, quarantine_to = facts.from_quarantine(session, connection, quarantine_mark)
    found += new
    found += facts.standing(session, connection, now)
    settings = connection.settings or {}
    customer_kinds = set(settings.get("customer_notices", ALL_CUSTOMER_KINDS))
    support = list(rt.config.notifications.support)
    rows: list[Notification] = []
    for fact in found:
        if fact.audience == "customer":
            invoice = session.get(Invoice, fact.invoice_id)
            state = "pending"
            if fact.kind not in customer_kinds:
                state = "off"
            elif not (invoice and invoice.contact_email):
                state = "unaddressed"
            rows.append(_row(fact, (invoice.contact_email if invoice else None) or "", state, fact.source_key, now))
        else:
            rows.extend(_row(fact, address, "pending", f"{fact.source_key}>{address}", now) for address in support)
    keys = [r.source_key for r in rows]
    known = (
        set(session.scalars(select(Notification.source_key).where(Notification.source_key.in_(keys))))
        if keys
        else set()
    )
    fresh = [r for r in rows if r.source_key not in known]
    session.add_all(fresh)
    session.flush()
    for row in fresh:
        if row.audience == "customer" and row.state in ("off", "unaddressed"):
            _timeline(
                session,
                row,
                "not sent: switched off for this connection"
                if row.state == "off"
                else "stored, not sent: the ledger has no email address for this customer",
            )
    _set_mark(session, connection.id, ACTIVITY_MARK, activity_to)
    _set_mark(session, connection.id, QUARANTINE_MARK, quarantine_to)
    return len(fresh)


def _row(fact: facts.Fact, recipient: str, state: str, key: str, now: datetime) -> Notification:
    return Notification(
        audience=fact.audience,
        kind=fact.kind,
        connection_id=fact.connection_id,
        invoice_id=fact.invoice_id,
        recipient=recipient,
        subject="",
        body=fact.text,
        data=fact.data,
        state=state,
        attempts=0,
        next_attempt_at=now,
        source_key=key[:200],
        created_at=now,
    )


def send_due(rt: Runtime, now: datetime | None = None) -> NoticeCounts:
    """Mail every notice that is due; a support digest waits until its kind's hour has passed."""
    now = now or utcnow()
    counts = NoticeCounts()
    smtp = rt.config.smtp
    if not smtp.host:
        return counts  # stored and shown, never mailed: no mail server configured
    with rt.sessions() as session:
        due = list(
            session.scalars(
                select(Notification)
                .where(Notification.state == "pending", Notification.next_attempt_at <= now)
                .order_by(Notification.id)
                .limit(1000)
            )
        )
        names = dict(session.execute(select(Connection.id, Connection.name)).all())
        orgs = dict(session.execute(select(Connection.id, Connection.tenant_name)).all())
    groups: dict[tuple[str, str, int], list[Notification]] = defaultdict(list)
    for row in due:
        if row.audience == "customer":
            mail = compose.customer(
                row.kind, row.data or {}, orgs.get(row.connection_id) or names.get(row.connection_id, "")
            )
            _deliver(rt, [row], row.recipient, mail, now, counts)
        else:
            groups[(row.recipient, row.kind, row.connection_id or 0)].append(row)
    every = rt.config.notifications.digest_every
    for (recipient, kind, connection_id), rows in groups.items():
        with rt.sessions() as session:
            last = session.scalar(
                select(func.max(Notification.sent_at)).where(
                    Notification.audience == "support",
                    Notification.recipient == recipient,
                    Notification.kind == kind,
                    Notification.connection_id == connection_id,
                )
            )
        if last is not None and last > now - every:
            _postpone(rt, rows, last + every)
            counts.waiting += len(rows)
            continue
        mail = compose.digest(
            kind,
            names.get(connection_id, "?"),
            [r.body for r in rows],
            f"{rt.config.web.public_url}/queues" if rt.config.web.public_url else "",
        )
        _deliver(rt, rows, recipient, mail, now, counts)
    return counts


def _deliver(
    rt: Runtime, rows: list[Notification], recipient: str, mail: compose.Mail, now: datetime, counts: NoticeCounts
) -> None:
    ids = [r.id for r in rows]
    try:
        message_id = send(rt.config.smtp, recipient, mail)
    except SendFailed as exc:
        log.warning("notice to %s not sent (%s): %s", recipient, rows[0].kind, exc)
        with rt.transaction() as session:
            for row in session.scalars(select(Notification).where(Notification.id.in_(ids))):
                row.attempts += 1
                row.last_error = str(exc)
                if row.attempts > len(BACKOFF):
                    row.state = "failed"
                    counts.failed += 1
                else:
                    row.next_attempt_at = now + BACKOFF[row.attempts - 1]
        return
    with rt.transaction() as session:
        for row in session.scalars(select(Notification).where(Notification.id.in_(ids))):
            row.state, row.sent_at, row.message_id, row.subject = "sent", now, message_id, mail.subject
            row.attempts += 1
            if row.audience == "customer":
                _timeline(session, row, f"sent to {recipient}: {mail.subject}")
    counts.sent += len(rows)
    counts.messages.append(mail.subject)


def _postpone(rt: Runtime, rows: list[Notification], until: datetime) -> None:
    with rt.transaction() as session:
        for row in session.scalars(select(Notification).where(Notification.id.in_([r.id for r in rows]))):
            row.next_attempt_at = until


def _timeline(session: Session, row: Notification, what: str) -> None:
    """A customer notice in the invoice's timeline, so support sees what the customer was told."""
    if row.invoice_id is None:
        return
    session.add(
        ActivityEvent(
            invoice_id=row.invoice_id,
            kind="customer_notice",
            outcome="note",
            source="system",
            actor="notices",
            detail=f"Customer notice ({row.kind.replace('_', ' ')}) {what}",
            data={"notification": row.id},
        )
    )


def _mark(session: Session, connection_id: int, stream: str) -> int:
    row = session.get(SyncCursor, (connection_id, stream))
    return int(row.value) if row else 0


def _set_mark(session: Session, connection_id: int, stream: str, value: int) -> None:
    row = session.get(SyncCursor, (connection_id, stream))
    if row is None:
        session.add(SyncCursor(connection_id=connection_id, stream=stream, value=str(value)))
    elif int(row.value) != value:
        row.value = str(value)
