"""The import engine: ledger pages → mapping → domain → one transaction per page.

Each page is one transaction: new invoices placed, changed ones run through the ledger diff
and the transition table, unreadable ones quarantined, and the cursor advanced, all or
nothing. A crash mid-page loses nothing and duplicates nothing: the page is read again and
the upserts are keyed by (connection, ledger id).

One bad record never holds the page back. The page's records are applied under a savepoint;
if the store or the domain refuses one of them (a value the database cannot hold, a currency the
domain does not know), that savepoint is rolled back and the records are applied again one by
one, each under its own savepoint: the one that fails is quarantined with the reason, the rest
of the page and the cursor go on. A failure that is not about the data (the database went away)
still fails the page.
"""

from __future__ import annotations

import dataclasses
import json
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import DecimalException
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from connector.domain import Conflict, LedgerStatus, Money, Transition
from connector.domain.ledger_changes import LedgerSnapshot, OurPayment, ledger_events
from connector.ledgers.base import Ledger, marker
from connector.ledgers.records import InvoicePage, LedgerInvoice, Malformed
from connector.ledgers.validate import clean_text, quarantine_id
from connector.mapping import Mapping, Placement, Skip, Unmapped, load_mapping
from connector.store.invoices import each_matching, state_of
from connector.store.models import Connection, Invoice, OutboxEntry, QuarantinedRecord, SyncCursor
from connector.store.types import utcnow
from connector.sync.apply import NewInvoice, apply_event, create_invoices
from connector.sync.ledger_ids import InsertedIds
from connector.sync.push import UNAPPLIED_ONLY
from connector.sync.runs import RunCounts

STREAM = "invoices"
DEFAULT_OVERLAP = timedelta(minutes=5)
DEFAULT_MAX_PAGES = 2000


def read_cursor(session: Session, connection_id: int, stream: str = STREAM) -> str | None:
    row = session.get(SyncCursor, (connection_id, stream))
    return row.value if row else None


def _store_cursor(session: Session, connection_id: int, value: str, stream: str = STREAM) -> None:
    row = session.get(SyncCursor, (connection_id, stream))
    if row is None:
        session.add(SyncCursor(connection_id=connection_id, stream=stream, value=value))
    else:
        row.value = value


def import_invoices(
    transaction: Callable[[], Any],
    connection_id: int,
    ledger: Ledger,
    *,
    today: date,
    run_id: int | None = None,
    counts: RunCounts | None = None,
    overlap: timedelta = DEFAULT_OVERLAP,
    max_pages: int = DEFAULT_MAX_PAGES,
    on_page: Callable[[RunCounts], None] | None = None,
) -> RunCounts:
    """Read every change since the stored cursor; ``transaction()`` opens one unit of work per page."""
    counts = counts or RunCounts()
    with transaction() as session:
        cursor = read_cursor(session, connection_id)
        provider = session.get(Connection, connection_id).provider
        first = session.scalar(select(Invoice.id).where(Invoice.connection_id == connection_id).limit(1)) is None
    # A first import knows what the connection holds: what its own earlier pages inserted.
    inserted = InsertedIds() if first else None
    mapping = load_mapping(provider)
    pages = read_ahead(ledger.changed_invoices(cursor, overlap))
    for page in pages:
        with transaction() as session:
            connection = session.get(Connection, connection_id)
            apply_page(session, connection, page, mapping, today=today, run_id=run_id, counts=counts, inserted=inserted)
            if page.cursor:
                _store_cursor(session, connection_id, page.cursor)
        counts.pages += 1
        if on_page:
            on_page(counts)
        if page.more and counts.pages >= max_pages:
            counts.notes.append(f"stopped after {max_pages} pages (max-pages guard); the rest comes next run")
            pages.close()
            break
    return counts


_END = object()


def read_ahead(pages: Iterator[InvoicePage]) -> Generator[InvoicePage, None, None]:
    """Fetch the next page while the caller writes this one (one request in flight, in order).

    Keyset paging knows the next request as soon as a page arrives, so the ledger's time to
    answer overlaps our database work. Errors arrive in order, after the pages before them. The
    adapters hand over their invoice pages unread (:meth:`InvoicePage.deferred`): this thread waits
    on the network and decodes, the caller's thread reads the records, so the two are not both
    running Python for the whole of every page (see :class:`InvoicePage`).
    """
    slot: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        slot.put(page, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slot.put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            slot.put(exc)

    worker = threading.Thread(target=fetch, name="import-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = slot.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=5)


def apply_page(
    session: Session,
    connection: Connection,
    page: InvoicePage,
    mapping: Mapping,
    *,
    today: date,
    run_id: int | None,
    counts: RunCounts,
    inserted: InsertedIds | None = None,
) -> None:
    """Everything one page says, written in the caller's transaction.

    The readable records go in together under one savepoint (the fast path: bulk inserts). If the
    store or the domain refuses any of them, they go in again one by one, each under its own
    savepoint, and the ones refused are quarantined with the reason.

    ``inserted``: on a first import, the ledger ids this run has inserted so far (the page's new ones
    are added). Only the ids it may hold are looked up; the one-by-one path looks every id up, so an
    invoice someone else inserted meanwhile (the bulk insert then fails on the unique index) is
    found and followed, not refused.
    """
    latest: dict[str, LedgerInvoice] = {}
    for record in page.records:
        counts.fetched += 1
        if isinstance(record, Malformed):
            _quarantine(session, connection, record.external_id, record.reason, record.raw, run_id, counts)
        else:
            latest[record.external_id] = record  # a repeat within a page: the later one wins
    records = list(latest.values())
    if not records:
        return
    before = dataclasses.replace(counts, notes=list(counts.notes))
    try:
        with session.begin_nested():
            _apply_records(
                session, connection, records, mapping, today=today, run_id=run_id, counts=counts, inserted=inserted
            )
        return
    except Exception as exc:
        if not is_record_error(exc):
            raise
        _restore(counts, before)
    for record in records:
        before = dataclasses.replace(counts, notes=list(counts.notes))
        try:
            with session.begin_nested():
                _apply_records(session, connection, [record], mapping, today=today, run_id=run_id, counts=counts)
            if inserted is not None:
                inserted.update([record.external_id])  # placed or followed: "maybe" is never wrong
        except Exception as exc:
            if not is_record_error(exc):
                raise
            _restore(counts, before)
            reason = f"could not be stored: {_error_text(exc)}"
            _quarantine(session, connection, record.external_id, reason, _raw(record), run_id, counts)


def is_record_error(exc: BaseException) -> bool:
    """Is ``exc`` about the data of a record (quarantine it), not the database or our code (fail)?

    The database refusing a value (DataError: numeric overflow, text too long, a NUL character) or a
    constraint (IntegrityError); SQLAlchemy refusing a value before it is sent (a StatementError that
    is not the driver's); the domain refusing it (ValueError: a currency it does not know; text that
    is not UTF-8) or decimal arithmetic failing on it. An OperationalError (connection lost, lock
    timeout) is none of these: the page fails and is read again next run.
    """
    if isinstance(exc, DataError | IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        return False
    return isinstance(exc, StatementError | ValueError | DecimalException)


def _restore(counts: RunCounts, before: RunCounts) -> None:
    for f in dataclasses.fields(RunCounts):
        setattr(counts, f.name, getattr(before, f.name))


def _error_text(exc: BaseException) -> str:
    """The database's or the domain's own words, on one line, without the SQL and its parameters."""
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split()) or type(cause).__name__
    return clean_text(text)[:300]


def _apply_records(
    session: Session,
    connection: Connection,
    records: list[LedgerInvoice],
    mapping: Mapping,
    *,
    today: date,
    run_id: int | None,
    counts: RunCounts,
    inserted: InsertedIds | None = None,
) -> None:
    """Readable records of one page (each ledger id once), in the caller's transaction or savepoint."""
    latest = {r.external_id: r for r in records}
    maybe = list(latest) if inserted is None else [key for key in latest if key in inserted]
    known = {
        inv.external_id: inv
        for inv in each_matching(session, Invoice.external_id, maybe, Invoice.connection_id == connection.id)
    }
    ours = _our_payments(session, list(known.values()))
    new: list[NewInvoice] = []
    readable: list[str] = []
    for record in latest.values():
        placement = mapping.place(record)
        if isinstance(placement, Skip):
            counts.skipped += 1
            continue
        if isinstance(placement, Unmapped):
            _quarantine(session, connection, record.external_id, placement.reason, _raw(record), run_id, counts)
            continue
        readable.append(record.external_id)
        existing = known.get(record.external_id)
        if existing is None:
            new.append(_new_invoice(record, placement))
        else:
            _follow(
                session,
                existing,
                record,
                placement,
                today=today,
                run_id=run_id,
                counts=counts,
                ours=_ours_on(record, existing, ours.get(existing.id)),
            )
    create_invoices(session, connection, new, today=today, sync_run_id=run_id, load=False)
    if inserted is not None:
        inserted.update(n.external_id for n in new)
    counts.placed += len(new)
    if readable and _has_open_quarantine(session, connection.id):
        session.execute(
            update(QuarantinedRecord)
            .where(
                QuarantinedRecord.connection_id == connection.id,
                QuarantinedRecord.external_id.in_(readable),
                QuarantinedRecord.resolved_at.is_(None),
            )
            .values(resolved_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def _has_open_quarantine(session: Session, connection_id: int) -> bool:
    """Whether the connection has a quarantined record still open: one probe of its index, so a page
    of a thousand readable records (almost always none of them once quarantined) does not send an
    UPDATE naming a thousand ledger ids, which cost PostgreSQL 13 ms a page."""
    probe = select(QuarantinedRecord.id).where(
        QuarantinedRecord.connection_id == connection_id, QuarantinedRecord.resolved_at.is_(None)
    )
    return session.scalar(probe.limit(1)) is not None


def _new_invoice(record: LedgerInvoice, placement: Placement) -> NewInvoice:
    return NewInvoice(
        number=record.number,
        contact_name=record.contact_name,
        contact_email=record.contact_email,
        currency=record.currency,
        total=record.total,
        amount_due=record.amount_due,
        issue_date=record.issue_date,
        due_date=record.due_date,
        ledger_status=placement.ledger_status,
        external_id=record.external_id,
        ledger_updated_at=record.updated_at,
        label=placement.label,
    )


def _follow(
    session: Session,
    invoice: Invoice,
    record: LedgerInvoice,
    placement: Placement,
    *,
    today: date,
    run_id: int | None,
    counts: RunCounts,
    ours: OurPayment = OurPayment.NONE,
) -> None:
    """An invoice we hold changed in the ledger: diff against what the ledger said last time."""
    before = LedgerSnapshot(
        status=LedgerStatus(invoice.ledger_status),
        amount_due=Money(_ledger_amount(invoice), invoice.currency),
        due_date=invoice.ledger_due_date if invoice.ledger_amount_due is not None else invoice.due_date,
    )
    after = LedgerSnapshot(placement.ledger_status, Money(record.amount_due, record.currency), record.due_date)
    events = ledger_events(before, after, state_of(invoice), today, placement.label, ours)
    outcomes = [apply_event(session, invoice, event, sync_run_id=run_id) for event in events]
    if any(isinstance(o, Transition) for o in outcomes):
        counts.changed += 1
    elif not outcomes:
        counts.unchanged += 1
    counts.conflicts += sum(isinstance(o, Conflict) for o in outcomes)
    invoice.ledger_status = placement.ledger_status.value
    invoice.ledger_amount_due = record.amount_due
    invoice.ledger_due_date = record.due_date
    invoice.ledger_updated_at = record.updated_at
    invoice.contact_name = record.contact_name
    invoice.contact_email = record.contact_email
    invoice.number = record.number


@dataclass
class _Ours:
    """What the outbox says about our payments on one invoice."""

    #: (marker, ledger id) of payments we posted and did not delete ourselves.
    posted: list[tuple[str, str | None]] = field(default_factory=list)
    #: Markers and ledger ids of every payment we ever wrote for it (deleted ones included).
    every: set[str] = field(default_factory=set)
    #: A delete of ours is waiting, refused or in flight: a payment still there is ours.
    delete_pending: bool = False


def _our_payments(session: Session, invoices: list[Invoice]) -> dict[int, _Ours]:
    """One query per page: for each invoice that has had a platform payment, what we wrote."""
    ids = [i.id for i in invoices if i.payment_posted or i.paid_via == "platform" or i.attempts]
    if not ids:
        return {}
    rows = session.execute(
        select(
            OutboxEntry.invoice_id,
            OutboxEntry.kind,
            OutboxEntry.state,
            OutboxEntry.idempotency_key,
            OutboxEntry.ledger_reference,
        ).where(OutboxEntry.invoice_id.in_(ids), OutboxEntry.kind.in_(("payment", "delete_payment")))
    ).all()
    found: dict[int, _Ours] = {}
    deleted: set[str] = set()
    for invoice_id, kind, state, key, reference in rows:
        ours = found.setdefault(invoice_id, _Ours())
        if kind == "delete_payment":
            if state == "done" and reference:
                deleted.add(reference)
            elif state != "done":
                ours.delete_pending = True
            continue
        ours.every.add(marker(key))
        if reference:
            ours.every.add(reference)
        if state == "done" and not (reference or "").startswith(UNAPPLIED_ONLY):
            ours.posted.append((marker(key), reference))
    for ours in found.values():
        ours.posted = [(m, r) for m, r in ours.posted if r not in deleted]
    return found


def _ours_on(record: LedgerInvoice, invoice: Invoice, ours: _Ours | None) -> OurPayment:
    """Is a payment of ours on the ledger's invoice, missing from it, or none expected?"""
    if ours is None:
        return OurPayment.NONE
    on_ledger = {p.external_id for p in record.payments} | {
        m for p in record.payments for m in ours.every if m.startswith("cx:") and m in p.reference
    }
    if on_ledger & ours.every:
        return OurPayment.PRESENT
    if ours.posted and not ours.delete_pending:
        if invoice.attention_reason and "payment missing" in invoice.attention_reason:
            return OurPayment.NONE  # already flagged: one line in the timeline, not one per re-read
        return OurPayment.MISSING
    return OurPayment.NONE


def _ledger_amount(invoice: Invoice) -> Any:
    return invoice.ledger_amount_due if invoice.ledger_amount_due is not None else invoice.amount_due


def _raw(record: LedgerInvoice) -> dict[str, Any]:
    """What support needs to see of a readable record no mapping rule fits (or the store refused)."""
    return {
        "external_id": record.external_id,
        "number": record.number,
        "status": record.status,
        "type": record.type,
        "amount_due": str(record.amount_due),
        "amount_paid": str(record.amount_paid),
        "total": str(record.total),
        "currency": record.currency,
        "contact_name": record.contact_name,
        "due_date": record.due_date.isoformat() if record.due_date else None,
    }


def _quarantine(
    session: Session,
    connection: Connection,
    external_id: str | None,
    reason: str,
    raw: Any,
    run_id: int | None,
    counts: RunCounts,
) -> None:
    """Keep the record as it came, with the reason; support sees it until a readable version arrives.

    What is kept must itself fit the store whatever the record held: the raw JSON is ASCII (NUL and
    lone surrogates escaped), and a ledger id too long for its column is left out (the raw keeps it).
    """
    counts.quarantined += 1
    try:
        text = json.dumps(raw, default=str, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(raw)
    session.add(
        QuarantinedRecord(
            connection_id=connection.id,
            sync_run_id=run_id,
            stream=STREAM,
            external_id=quarantine_id(external_id),
            reason=clean_text(reason),
            raw=clean_text(text),
        )
    )
