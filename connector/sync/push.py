"""The push engine: outbox entries → ledger writes, exactly once, even across crashes.

An entry is marked ``sending`` (committed) before its request goes out. Whatever happens next,
a re-run can tell: payments are looked for on the ledger's invoice by the marker our write
carries in its reference, so a payment the ledger accepted just before a crash is recognised
and never posted again; requests carry an idempotency key derived from the entries, so a
retried request inside the ledger's window is answered from its cache. Before paying, the
invoice's amount due is re-read: an invoice already paid in the ledger is not paid twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from connector.domain import EventSource, LedgerStatus
from connector.ledgers.base import Ledger, marker
from connector.ledgers.errors import DailyLimitError, LedgerError, NotFound, ReconnectRequired
from connector.ledgers.records import LedgerInvoice, PaymentToPost, PayoutToPost
from connector.mapping import Placement, load_mapping
from connector.store.models import Connection, Invoice, OutboxEntry
from connector.store.types import utcnow
from connector.sync.apply import log_activity
from connector.sync.runs import RunCounts

#: An entry left ``sending`` longer than this was interrupted (a crash): it is taken up again.
SENDING_LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=1)


class StopConnection(Exception):
    """The connection cannot go on this run (reconnect needed, daily limit): the others can."""

    def __init__(self, cause: LedgerError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def due_entries(session: Session, connection_id: int, lease: timedelta = SENDING_LEASE) -> list[OutboxEntry]:
    now = utcnow()
    return list(
        session.scalars(
            select(OutboxEntry)
            .where(
                OutboxEntry.connection_id == connection_id,
                or_(
                    and_(OutboxEntry.state == "pending", OutboxEntry.next_attempt_at <= now),
                    and_(OutboxEntry.state == "sending", OutboxEntry.updated_at <= now - lease),
                ),
            )
            .order_by(OutboxEntry.id)
        )
    )


def push(
    transaction: Callable[[], Any],
    connection_id: int,
    ledger: Ledger,
    *,
    counts: RunCounts | None = None,
    run_id: int | None = None,
    crash_after_send: Callable[[list[int]], None] | None = None,
    lease: timedelta = SENDING_LEASE,
) -> RunCounts:
    """Send every due entry of one connection. ``crash_after_send`` is the tests' kill switch."""
    counts = counts or RunCounts()
    with transaction() as session:
        entries = due_entries(session, connection_id, lease)
        ids = {kind: [e.id for e in entries if e.kind == kind] for kind in ("payment", "delete_payment", "payout")}
        connection = session.get(Connection, connection_id)
        accounts = dict(connection.settings.get("accounts") or {})
        provider = connection.provider
    mapping = load_mapping(provider)
    size = ledger.payment_batch_size
    payments = ids["payment"]
    for start in range(0, len(payments), size):
        _push_payments(
            transaction, ledger, payments[start : start + size], accounts, mapping, counts, run_id, crash_after_send
        )
    for entry_id in ids["delete_payment"]:
        _push_one(transaction, entry_id, counts, _payment_to_delete, lambda req: _delete_payment(ledger, req))
    for entry_id in ids["payout"]:
        _push_one(
            transaction,
            entry_id,
            counts,
            lambda s, e: _payout_request(s, e, accounts),
            lambda req, i=entry_id: _payout(ledger, req, crash_after_send, i),
            _log_payout,
        )
    return counts


def _mark_sending(session: Session, entries: list[OutboxEntry]) -> None:
    for e in entries:
        e.state = "sending"
        e.attempts += 1
        e.updated_at = utcnow()


def _push_payments(
    transaction: Callable[[], Any],
    ledger: Ledger,
    entry_ids: list[int],
    accounts: dict[str, str],
    mapping: Any,
    counts: RunCounts,
    run_id: int | None,
    crash_after_send: Callable[[list[int]], None] | None,
) -> None:
    with transaction() as session:
        entries = [session.get(OutboxEntry, i) for i in entry_ids]
        _mark_sending(session, entries)
        wanted = {e.id: (e.payload["external_id"], Decimal(e.payload["amount"]), e.idempotency_key) for e in entries}
    try:
        found = {
            r.external_id: r
            for r in ledger.get_invoices(sorted({w[0] for w in wanted.values()}))
            if isinstance(r, LedgerInvoice)
        }
        verdicts: dict[int, tuple[str, str, str | None]] = {}
        to_post: list[PaymentToPost] = []
        with transaction() as session:
            for entry_id, (external_id, amount, key) in wanted.items():
                entry = session.get(OutboxEntry, entry_id)
                verdict = _check_payment(found.get(external_id), amount, key, mapping)
                if verdict is None:
                    to_post.append(
                        PaymentToPost(
                            key=key,
                            invoice_external_id=external_id,
                            amount=amount,
                            on=date.fromisoformat(entry.payload["date"]),
                            account=accounts["clearing"],
                            currency=entry.payload["currency"],
                            customer_id=found[external_id].customer_id,
                            reference=entry.payload.get("reference", ""),
                        )
                    )
                else:
                    verdicts[entry_id] = verdict
        results = {r.key: r for r in ledger.post_payments(to_post)}
        if crash_after_send:
            crash_after_send(entry_ids)
    except (ReconnectRequired, DailyLimitError) as exc:
        _back_to_pending(transaction, entry_ids, str(exc), counts, immediate=True)
        raise StopConnection(exc) from exc
    except LedgerError as exc:
        if exc.retryable:
            _back_to_pending(transaction, entry_ids, str(exc), counts)
            return
        # A whole-request refusal: each entry keeps the ledger's reason.
        results = {}
        verdicts = {i: ("rejected", str(exc), None) for i in entry_ids}
    with transaction() as session:
        for entry_id in entry_ids:
            entry = session.get(OutboxEntry, entry_id)
            key = entry.idempotency_key
            if entry_id in verdicts:
                state, detail, reference = verdicts[entry_id]
                _settle(session, entry, state, detail, counts, run_id, reference=reference)
            elif key in results and results[key].external_id:
                _settle(
                    session,
                    entry,
                    "done",
                    f"payment {entry.payload['amount']} {entry.payload['currency']} "
                    f"posted to the ledger (payment {results[key].external_id})",
                    counts,
                    run_id,
                    reference=results[key].external_id,
                )
            else:
                error = results[key].error if key in results else "the ledger did not answer for this payment"
                _settle(session, entry, "rejected", f"the ledger refused the payment: {error}", counts, run_id)


def _check_payment(
    invoice: LedgerInvoice | None, amount: Decimal, key: str, mapping: Any
) -> tuple[str, str, str | None] | None:
    """None when the payment should be posted; otherwise (state, why, ledger id) without posting."""
    if invoice is None:
        return ("rejected", "the invoice is not in the ledger any more; payment not posted", None)
    tag = marker(key)
    ours = [p for p in invoice.payments if tag in p.reference]
    if ours:
        return (
            "done",
            f"payment already in the ledger (payment {ours[0].external_id}); not posted again",
            ours[0].external_id,
        )
    placement = mapping.place(invoice)
    status = placement.ledger_status if isinstance(placement, Placement) else None
    if status is not LedgerStatus.OPEN or invoice.amount_due == 0:
        return (
            "rejected",
            f"the ledger shows the invoice {invoice.status.lower()} with {invoice.amount_due} due: "
            "payment not posted, so it is not paid twice; support must reconcile",
            None,
        )
    if invoice.amount_due < amount:
        return (
            "rejected",
            f"the ledger shows only {invoice.amount_due} due, the platform collected {amount}: "
            "payment not posted; support must reconcile",
            None,
        )
    return None


def _settle(
    session: Session,
    entry: OutboxEntry,
    state: str,
    detail: str,
    counts: RunCounts,
    run_id: int | None,
    reference: str | None = None,
) -> None:
    entry.state = state
    entry.last_error = None if state == "done" else detail
    entry.done_at = utcnow() if state == "done" else None
    if reference:
        entry.ledger_reference = reference
    if state == "done":
        counts.pushed += 1
    else:
        counts.rejected += 1
    invoice = session.get(Invoice, entry.invoice_id) if entry.invoice_id else None
    if invoice is not None:
        log_activity(
            session,
            invoice,
            "ledger_write" if state == "done" else "conflict",
            f"ledger_{entry.kind}",
            invoice.status,
            invoice.status,
            EventSource.SYSTEM,
            detail,
            sync_run_id=run_id,
        )


def _back_to_pending(
    transaction: Callable[[], Any], entry_ids: list[int], error: str, counts: RunCounts, immediate: bool = False
) -> None:
    with transaction() as session:
        for entry_id in entry_ids:
            entry = session.get(OutboxEntry, entry_id)
            entry.state = "pending"
            entry.last_error = error
            wait = timedelta(0) if immediate else min(MAX_BACKOFF, timedelta(seconds=30) * 2 ** (entry.attempts - 1))
            entry.next_attempt_at = utcnow() + wait
            counts.retrying += 1


def _push_one(
    transaction: Callable[[], Any],
    entry_id: int,
    counts: RunCounts,
    prepare: Callable[[Session, OutboxEntry], Any],
    send: Callable[[Any], tuple[str, str | None]],
    after: Callable[[Session, OutboxEntry, str], None] | None = None,
) -> None:
    """One entry: read what to send (a transaction), send it (no transaction open), record the outcome."""
    with transaction() as session:
        entry = session.get(OutboxEntry, entry_id)
        _mark_sending(session, [entry])
        request = prepare(session, entry)
    try:
        detail, reference = send(request)
    except (ReconnectRequired, DailyLimitError) as exc:
        _back_to_pending(transaction, [entry_id], str(exc), counts, immediate=True)
        raise StopConnection(exc) from exc
    except LedgerError as exc:
        if exc.retryable:
            _back_to_pending(transaction, [entry_id], str(exc), counts)
            return
        with transaction() as session:
            _settle(session, session.get(OutboxEntry, entry_id), "rejected", f"the ledger refused: {exc}", counts, None)
        return
    with transaction() as session:
        entry = session.get(OutboxEntry, entry_id)
        _settle(session, entry, "done", detail, counts, None, reference=reference)
        if after:
            after(session, entry, detail)


def _payment_to_delete(session: Session, entry: OutboxEntry) -> tuple[str | None, str]:
    """The ledger id of the payment posted at submission for this invoice, if it was posted."""
    posted = session.scalars(
        select(OutboxEntry)
        .where(
            OutboxEntry.invoice_id == entry.invoice_id,
            OutboxEntry.kind == "payment",
            OutboxEntry.state == "done",
            OutboxEntry.id < entry.id,
        )
        .order_by(OutboxEntry.id.desc())
        .limit(1)
    ).first()
    return (posted.ledger_reference if posted else None), entry.idempotency_key


def _delete_payment(ledger: Ledger, request: tuple[str | None, str]) -> tuple[str, str | None]:
    """Remove the payment posted at submission for a collection that failed."""
    payment_id, key = request
    if not payment_id:
        return "no posted payment to delete", None
    try:
        ledger.delete_payment(payment_id, key)
    except NotFound:
        return f"payment {payment_id} was already gone from the ledger", payment_id
    return f"payment {payment_id} deleted in the ledger (the collection failed)", payment_id


def _payout_request(session: Session, entry: OutboxEntry, accounts: dict[str, str]) -> PayoutToPost:
    p = entry.payload
    return PayoutToPost(
        key=entry.idempotency_key,
        on=date.fromisoformat(p["date"]),
        currency=p["currency"],
        net=Decimal(p["net"]),
        fee=Decimal(p["fee"]),
        clearing_account=accounts["clearing"],
        bank_account=accounts["bank"],
        fees_account=accounts["fees"],
        reference=p.get("reference", ""),
    )


def _payout(
    ledger: Ledger, payout: PayoutToPost, crash_after_send: Callable[[list[int]], None] | None, entry_id: int
) -> tuple[str, str | None]:
    result = ledger.post_payout(payout)
    if crash_after_send:
        crash_after_send([entry_id])
    detail = (
        f"payout {payout.reference}: transfer {payout.net} {payout.currency} clearing → bank "
        f"({result.transfer_id}), fee {payout.fee} ({result.fee_id})"
    )
    return detail, ",".join(x for x in (result.transfer_id, result.fee_id) if x)


def _log_payout(session: Session, entry: OutboxEntry, detail: str) -> None:
    for invoice_id in entry.payload.get("invoice_ids", []):
        invoice = session.get(Invoice, invoice_id)
        if invoice is not None:
            log_activity(
                session,
                invoice,
                "ledger_write",
                "ledger_payout",
                invoice.status,
                invoice.status,
                EventSource.SYSTEM,
                detail,
            )
