"""The database schema as SQLAlchemy 2.0 typed declarative models.

One table per thing support asks about: connections, invoices, the append-only activity
log, outbox entries (what the ledger must still hear), cursors, sync runs and quarantined
records. The migrations in ``migrations/`` create exactly this; a test compares the two.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from connector.store.types import Amount, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime,
        Decimal: Amount,
        date: Date,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Connection(Base):
    """One ledger organisation: a Xero tenant or a QuickBooks realm, with its accounts and policy."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    tenant_id: Mapped[str | None] = mapped_column(String(100))
    tenant_name: Mapped[str | None] = mapped_column(String(200))
    #: active | needs_reconnect | paused | disabled
    state: Mapped[str] = mapped_column(String(20), default="active")
    state_reason: Mapped[str | None] = mapped_column(Text)
    paused_until: Mapped[datetime | None]
    collection_mode: Mapped[str] = mapped_column(String(20), default="auto_collect")
    #: accounts, retry policy, post_payment_at, lead_days: a snapshot of the config entry.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: OAuth token set, encrypted (Fernet); never stored or logged in the clear.
    token_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_expires_at: Mapped[datetime | None]
    #: The sync lock: held by one job run (its token), never by a whole process. The holder's host
    #: and pid tell a dead process on this host; its heartbeat (renewed while it runs) a stale one.
    #: ``lock_expires_at`` is the last heartbeat plus the staleness limit (connector/sync/runs.py).
    lock_owner: Mapped[str | None] = mapped_column(String(100))
    lock_expires_at: Mapped[datetime | None]
    lock_host: Mapped[str | None] = mapped_column(String(255))
    lock_pid: Mapped[int | None] = mapped_column(Integer)
    lock_heartbeat_at: Mapped[datetime | None]
    #: The consent this connection's tokens come from, when it shares one (a Xero grant covers every
    #: organisation the person ticked); None keeps the token in ``token_ciphertext`` above.
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grants.id"))
    #: "config" (a ``[[connections]]`` block; the file wins on a clash) or "web" (the setup wizard).
    origin: Mapped[str] = mapped_column(String(20), default="config", server_default="config")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    invoices: Mapped[list[Invoice]] = relationship(back_populates="connection")
    grant: Mapped[Grant | None] = relationship()


class Grant(Base):
    """One consent at a ledger: one token set, shared by every connection it covers.

    Xero issues one token pair per consent, valid for each organisation the person ticked; two
    connections holding copies would rotate each other's refresh token away. So the token lives
    here once, and a refresh is serialised per grant across processes by the lease below.
    """

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    #: The OAuth token set, encrypted (Fernet); never stored or logged in the clear.
    token_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_expires_at: Mapped[datetime | None]
    #: The scopes granted, space-separated (what the person agreed to, for support).
    scopes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set on disconnect: the tokens were revoked at the provider and wiped here.
    revoked_at: Mapped[datetime | None]
    #: Who is refreshing the token now, until when: one refresh per grant across processes.
    refresh_owner: Mapped[str | None] = mapped_column(String(100))
    refresh_until: Mapped[datetime | None]


class User(Base):
    """A person who logs in to the web application; the role says what they may do."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: admin (also connects ledgers and manages people) | support (acts on invoices) | viewer (reads)
    role: Mapped[str] = mapped_column(String(20))
    #: argon2id, from argon2-cffi: the hash carries its own salt and parameters.
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class LoginFailure(Base):
    """One failed login, by name and address: how logins are rate-limited across processes."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_name", "name", "at"),
        Index("ix_login_failures_address", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthRequest(Base):
    """A consent in flight: the hash of its ``state``, the browser it belongs to, its PKCE verifier.

    Single use (``used_at``), expiring after 10 minutes, and bound to one browser session: a
    forged, replayed or stolen ``state`` finds nothing to complete. After the code exchange it
    remembers the grant (and QuickBooks' realm) until the person has chosen organisations.
    """

    __tablename__ = "oauth_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: A random id kept in the browser's session cookie (hashed here).
    browser: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(20))
    #: "connect" (new connections) | "reconnect" (fresh tokens for ``connection_id``)
    purpose: Mapped[str] = mapped_column(String(20))
    connection_id: Mapped[int | None] = mapped_column(Integer)
    #: PKCE (RFC 7636) verifier, for providers that take S256 (Xero); sent only to the token endpoint.
    code_verifier: Mapped[str | None] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    grant_id: Mapped[int | None] = mapped_column(Integer)
    realm_id: Mapped[str | None] = mapped_column(String(100))


class Invoice(Base):
    """An invoice as the platform holds it; ``status`` is the platform's, ``ledger_status`` the ledger's."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id", name="uq_invoices_connection_external"),
        Index("ix_invoices_connection_status", "connection_id", "status"),
        Index("ix_invoices_fingerprint", "fingerprint"),
        Index("ix_invoices_number", "number"),
        Index("ix_invoices_attention", "needs_attention"),
        #: The console's search by ledger id, across connections.
        Index("ix_invoices_external_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for invoices raised in the platform itself (another channel).
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"))
    external_id: Mapped[str | None] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(100))
    contact_name: Mapped[str] = mapped_column(String(300), default="")
    #: Where customer notices go (the ledger contact's email), when the ledger has one.
    contact_email: Mapped[str | None] = mapped_column(String(320))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal]
    amount_due: Mapped[Decimal]
    #: What the platform collected (platform payments only); the payout settles this.
    paid_amount: Mapped[Decimal | None]
    issue_date: Mapped[date | None]
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(20))
    paid_via: Mapped[str | None] = mapped_column(String(20))
    collection_date: Mapped[date | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    needs_attention: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Why a person must look (a conflict, a refused delete, money to refund); cleared when resolved.
    attention_reason: Mapped[str | None] = mapped_column(Text)
    #: Money collected beyond what the ledger showed due: recorded as the customer's credit, owed back.
    refund_due: Mapped[Decimal | None]
    payment_posted: Mapped[bool] = mapped_column(Boolean, default=False)
    ledger_status: Mapped[str] = mapped_column(String(20))
    #: The ledger's own amount due when we last read it (the platform's may differ: see ledger_changes).
    ledger_amount_due: Mapped[Decimal | None]
    ledger_due_date: Mapped[date | None]
    ledger_updated_at: Mapped[datetime | None]
    fingerprint: Mapped[str] = mapped_column(String(64))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: Optimistic lock: two writers of one invoice cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    connection: Mapped[Connection | None] = relationship(back_populates="invoices")
    activity: Mapped[list[ActivityEvent]] = relationship(
        back_populates="invoice", order_by="ActivityEvent.id", viewonly=True
    )


class ActivityEvent(Base):
    """One line of an invoice's timeline. Append-only: the ORM and database triggers refuse edits."""

    __tablename__ = "activity_events"
    __table_args__ = (
        Index("ix_activity_invoice", "invoice_id", "id"),
        Index("ix_activity_outcome", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(50))
    #: created | transition | conflict | refused | no_change
    outcome: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None]
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    #: Who acted (a person's login, the platform account, "system"): support reads it in the timeline.
    actor: Mapped[str | None] = mapped_column(String(100))

    invoice: Mapped[Invoice] = relationship(back_populates="activity")


class OutboxEntry(Base):
    """A write the ledger must receive exactly once, created in the transaction that caused it."""

    __tablename__ = "outbox_entries"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"), Index("ix_outbox_invoice", "invoice_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    #: The invoice, for payments; a payout spans several and lists them in its payload.
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    kind: Mapped[str] = mapped_column(String(30))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[dict[str, Any]]
    #: pending | sending | done | rejected | ignored | replaced (a held payout stays pending with its reason)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    ledger_reference: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    done_at: Mapped[datetime | None]


class SyncCursor(Base):
    """How far import has read one stream of one connection; advanced only after a page commits."""

    __tablename__ = "sync_cursors"

    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), primary_key=True)
    stream: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncRun(Base):
    """One run of one job for one connection, with what it did: the support view of "last sync"."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_connection", "connection_id", "started_at"),
        Index("ix_sync_runs_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"))
    job: Mapped[str] = mapped_column(String(30))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    #: running | succeeded | failed | interrupted (stopped, or its process died: ``error`` says which)
    state: Mapped[str] = mapped_column(String(20), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    #: Who ran it: the lock token it held (None for a run without a lock), its host and pid.
    lock_owner: Mapped[str | None] = mapped_column(String(100))
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)


class QuarantinedRecord(Base):
    """A ledger record that could not be mapped: kept raw with its reason, shown to support."""

    __tablename__ = "quarantined_records"
    __table_args__ = (Index("ix_quarantine_open", "connection_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    sync_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))
    stream: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when a readable version arrived, a person released it (re-applied) or dismissed it.
    resolved_at: Mapped[datetime | None]
    dismissed_reason: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(100))


class ReconciliationFinding(Base):
    """One difference between the ledger and the platform, kept while later runs still find it.

    ``subject`` identifies what it is about within its kind (an invoice's ledger id, a payment's
    key, a payout's reference), so a later run updates the same row: first seen, last seen, and
    resolved when a run no longer finds it.
    """

    __tablename__ = "reconciliation_findings"
    __table_args__ = (
        UniqueConstraint("connection_id", "kind", "subject", name="uq_findings_connection_kind_subject"),
        Index("ix_findings_open", "connection_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"))
    kind: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(200))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    outbox_entry_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_entries.id"))
    currency: Mapped[str | None] = mapped_column(String(3))
    #: The difference in money, where there is one (missing payment, clearing off by …).
    amount: Mapped[Decimal | None]
    ledger_value: Mapped[str] = mapped_column(Text)
    platform_value: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    suggested_fix: Mapped[str] = mapped_column(Text)
    #: The one-click fix when it is ours (e.g. "repost_payment"), else None.
    fix_action: Mapped[str | None] = mapped_column(String(50))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    last_run_id: Mapped[int | None] = mapped_column(ForeignKey("sync_runs.id"))


class ApiRequest(Base):
    """One platform API request, kept by its idempotency key: a retry answers the first result.

    ``in_progress`` while it runs (a concurrent retry is told so); after ``lease_until`` a request
    whose process died may be taken up again: every platform event is itself idempotent, so
    running it once more changes nothing already done.
    """

    __tablename__ = "api_requests"
    __table_args__ = (UniqueConstraint("account", "key", name="uq_api_requests_account_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(255))
    #: SHA-256 of the body: the same key with another body is the caller's mistake, refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    #: in_progress | done
    state: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None]
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SyncRequest(Base):
    """A ledger webhook asked for a sync of this connection: one row per connection, so a burst of
    hints makes one sync when it falls due (``first_hint_at`` + the debounce interval)."""

    __tablename__ = "sync_requests"
    __table_args__ = (Index("ix_sync_requests_due", "due_at"),)

    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), primary_key=True)
    first_hint_at: Mapped[datetime]
    due_at: Mapped[datetime]
    hints: Mapped[int] = mapped_column(Integer, default=1)
    #: What asked: "xero webhook", "quickbooks webhook", "console".
    source: Mapped[str] = mapped_column(String(50))


class Notification(Base):
    """A notice to a customer or to support: stored first, sent by SMTP after, shown in the timeline.

    Support notices of one kind for one connection go out as one digest at most once an hour:
    each row is an item, and the rows sent together share ``message_id``.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "state", "next_attempt_at"),
        Index("ix_notifications_invoice", "invoice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: customer | support
    audience: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(50))
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    #: The item's own text: the whole message for a customer, one line of a digest for support.
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None]
    #: pending | sent | failed (gave up) | off (switched off for the connection) | unaddressed (no email known)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))
    #: What this notice is about, once ("conflict:event:123"): noticing the same fact twice stores nothing.
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or remove an activity event."""


@event.listens_for(Session, "before_flush")
def _activity_is_append_only(session: Session, _ctx: object, _instances: object) -> None:
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, ActivityEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyError("the activity log is append-only")
