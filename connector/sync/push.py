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
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from connector.domain import EventSource, LedgerStatus, Money
from connector.ledgers.base import Ledger, NoteToPost, marker
from connector.ledgers.errors import DailyLimitError, LedgerError, NotFound, ReconnectRequired
from connector.ledgers.records import LedgerInvoice, Malformed, PaymentResult, PaymentToPost, PayoutToPost
from connector.mapping import Placement, load_mapping
from connector.store.models import Connection, Invoice, OutboxEntry
from connector.store.types import utcnow
from connector.sync.apply import LEDGER_NOTE, flag_attention, log_activity, notes_on
from connector.sync.runs import RunCounts

#: An entry left ``sending`` longer than this was interrupted (a crash): it is taken up again.
SENDING_LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=1)
#: Prefix of an outbox entry's ledger reference when the money went to the customer's credit only.
UNAPPLIED_ONLY = "unapplied:"
#: A verdict that sends a payment back to wait (its invoice could not be read), not a refusal.
WAITING = "waiting"
#: The money writes a note on the same invoice waits for, so the ledger shows it after them.
MONEY_KINDS = ("payment", "delete_payment", "payout")


def backoff(attempts: int) -> timedelta:
    """How long a write waits after its ``attempts``-th try: 30 s doubling, at most an hour."""
    return min(MAX_BACKOFF, timedelta(seconds=30) * 2 ** max(attempts - 1, 0))


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
        ids = {kind: [e.id for e in entries if e.kind == kind] for kind in (*MONEY_KINDS, LEDGER_NOTE)}
        connection = session.get(Connection, connection_id)
        accounts = dict(connection.settings.get("accounts") or {})
        provider = connection.provider
        if ids[LEDGER_NOTE] and not notes_on(connection):
            _notes_switched_off(session, ids.pop(LEDGER_NOTE))
    mapping = load_mapping(provider)
    size = ledger.payment_batch_size
    payments = ids["payment"]
    for start in range(0, len(payments), size):
        _push_payments(
            transaction,
            ledger,
            payments[start : start + size],
            accounts,
            mapping,
            counts,
            run_id,
            crash_after_send,
            lease,
        )
    for entry_id in ids["delete_payment"]:
        _push_one(
            transaction, entry_id, counts, _payment_to_delete, lambda req: _delete_payment(ledger, req), lease=lease
        )
    for entry_id in ids["payout"]:
        _push_one(
            transaction,
            entry_id,
            counts,
            lambda s, e: _payout_request(s, e, accounts),
            lambda req, i=entry_id: _payout(ledger, req, crash_after_send, i),
            _log_payout,
            lease=lease,
        )
    # Last, once the money is in: a note never holds up, fails or repeats a payment.
    for entry_id in ids.get(LEDGER_NOTE, []):
        _push_one(
            transaction,
            entry_id,
            counts,
            _note_request,
            lambda note, i=entry_id: _note(ledger, note, crash_after_send, i),
            lease=lease,
        )
    return counts


def _claim(session: Session, entry_ids: list[int], lease: timedelta = SENDING_LEASE) -> list[OutboxEntry]:
    """Mark entries ``sending`` only if they are still due, in one conditional UPDATE … RETURNING:
    two pushers that read the same due list never both send an entry (the loser claims nothing)."""
    if not entry_ids:
        return []
    now = utcnow()
    claimed = session.scalars(
        update(OutboxEntry)
        .where(
            OutboxEntry.id.in_(entry_ids),
            or_(
                OutboxEntry.state == "pending",
                and_(OutboxEntry.state == "sending", OutboxEntry.updated_at <= now - lease),
            ),
        )
        .values(state="sending", attempts=OutboxEntry.attempts + 1, updated_at=now)
        .returning(OutboxEntry.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        return []
    entries = session.scalars(
        select(OutboxEntry)
        .where(OutboxEntry.id.in_(claimed))
        .order_by(OutboxEntry.id)
        .execution_options(populate_existing=True)
    )
    return list(entries)


def _push_payments(
    transaction: Callable[[], Any],
    ledger: Ledger,
    entry_ids: list[int],
    accounts: dict[str, str],
    mapping: Any,
    counts: RunCounts,
    run_id: int | None,
    crash_after_send: Callable[[list[int]], None] | None,
    lease: timedelta = SENDING_LEASE,
) -> None:
    with transaction() as session:
        entries = _claim(session, entry_ids, lease)
        entry_ids = [e.id for e in entries]
        wanted = {e.id: (e.payload["external_id"], Decimal(e.payload["amount"]), e.idempotency_key) for e in entries}
    if not entries:
        return
    try:
        reread = ledger.get_invoices(sorted({w[0] for w in wanted.values()}))
        found = {r.external_id: r for r in reread if isinstance(r, LedgerInvoice)}
        # An invoice the ledger still has but we cannot read is not gone: its payment waits, flagged.
        unreadable = {r.external_id: r.reason for r in reread if isinstance(r, Malformed) and r.external_id}
        verdicts: dict[int, tuple[str, str, str | None]] = {}
        to_post: list[PaymentToPost] = []
        plans: dict[int, PaymentPlan] = {}
        with transaction() as session:
            for entry_id, (external_id, amount, key) in wanted.items():
                entry = session.get(OutboxEntry, entry_id)
                if external_id in unreadable and external_id not in found:
                    verdicts[entry_id] = (
                        WAITING,
                        f"the ledger's invoice is unreadable: {unreadable[external_id]}",
                        None,
                    )
                    continue
                plan = plan_payment(found.get(external_id), amount, key, mapping)
                if isinstance(plan, PaymentPlan):
                    plans[entry_id] = plan
                    to_post.append(
                        PaymentToPost(
                            key=key,
                            invoice_external_id=external_id,
                            amount=plan.applied,
                            unapplied=plan.unapplied,
                            on=date.fromisoformat(entry.payload["date"]),
                            account=accounts["clearing"],
                            currency=entry.payload["currency"],
                            customer_id=found[external_id].customer_id,
                            reference=entry.payload.get("reference", ""),
                        )
                    )
                else:
                    verdicts[entry_id] = plan
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
            if entry_id in verdicts and verdicts[entry_id][0] == WAITING:
                detail = verdicts[entry_id][1]
                _hold(session, entry, f"payment waits: {detail}", counts)
                if entry.invoice_id:
                    flag_attention(session.get(Invoice, entry.invoice_id), f"payment not posted yet: {detail}")
            elif entry_id in verdicts:
                state, detail, reference = verdicts[entry_id]
                _settle(session, entry, state, detail, counts, run_id, reference=reference)
            elif key in results and results[key].external_id:
                plan = plans[entry_id]
                result = results[key]
                # Nothing applied to the invoice (it was voided or paid meanwhile): the write is the
                # customer's credit alone, which the import must not expect on the invoice.
                reference = result.external_id if plan.applied else f"{UNAPPLIED_ONLY}{result.external_id}"
                _settle(session, entry, "done", plan.describe(result), counts, run_id, reference=reference)
                _flag_money(session, entry, plan)
            else:
                error = results[key].error if key in results else "the ledger did not answer for this payment"
                _settle(session, entry, "rejected", f"the ledger refused the payment: {error}", counts, run_id)


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    """How the money collected for one invoice goes into the ledger: every cent, exactly once."""

    collected: Decimal
    #: Applied to the invoice: the lesser of collected and what the ledger shows due.
    applied: Decimal
    #: The excess, recorded as the customer's credit in clearing: owed back (refund due).
    unapplied: Decimal
    #: What the ledger still shows due after our payment (the bank took less than is due now).
    still_due: Decimal
    ledger_said: str
    currency: str

    def money(self, amount: Decimal) -> Money:
        return Money(amount, self.currency)

    def describe(self, result: PaymentResult) -> str:
        money = self.money
        parts = []
        if self.applied:
            parts.append(f"payment {money(self.applied)} posted to the ledger (payment {result.external_id})")
        if self.unapplied:
            what = f"overpayment {result.unapplied_id}" if result.unapplied_id else "unapplied on the payment"
            parts.append(
                f"{money(self.unapplied)} collected beyond the {money(self.applied)} the ledger showed due "
                f"({self.ledger_said}) recorded as the customer's credit in clearing ({what})"
            )
        return "; ".join(parts)


def plan_payment(
    invoice: LedgerInvoice | None, amount: Decimal, key: str, mapping: Any
) -> PaymentPlan | tuple[str, str, str | None]:
    """What to post for ``amount`` collected, from the ledger's invoice as it is now.

    Returns a plan, or (state, why, ledger id) when nothing is to be posted: our payment is
    already there (a crash after the ledger's answer), or the invoice is gone from the ledger.
    """
    if invoice is None:
        return (
            "rejected",
            f"the invoice is not in the ledger any more: the {amount} collected could not be recorded "
            "against it; record it as the customer's credit by hand, or refund it",
            None,
        )
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
    due = invoice.amount_due if status is LedgerStatus.OPEN else Decimal(0)
    applied = min(amount, max(due, Decimal(0)))
    said = f"{status.value if status else invoice.status}, {invoice.amount_due} due"
    return PaymentPlan(amount, applied, amount - applied, due - applied, said, invoice.currency)


def _flag_money(session: Session, entry: OutboxEntry, plan: PaymentPlan) -> None:
    """An excess is a lasting refund due; a shortfall leaves money due in the ledger: both need a person."""
    invoice = session.get(Invoice, entry.invoice_id) if entry.invoice_id else None
    if invoice is None:
        return
    if plan.unapplied:
        invoice.refund_due = (invoice.refund_due or Decimal(0)) + plan.unapplied
        flag_attention(
            invoice,
            f"refund due: {plan.money(plan.unapplied)} collected beyond what the ledger showed due "
            f"({plan.ledger_said}); held as the customer's credit",
        )
    if plan.still_due > 0:
        flag_attention(
            invoice,
            f"the ledger still shows {plan.money(plan.still_due)} due after the {plan.money(plan.applied)} collected",
        )


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
    kind = entry.kind if entry.kind.startswith("ledger_") else f"ledger_{entry.kind}"
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
            kind,
            invoice.status,
            invoice.status,
            EventSource.SYSTEM,
            detail,
            sync_run_id=run_id,
            data={"outbox_entry": entry.id},
        )


def _back_to_pending(
    transaction: Callable[[], Any], entry_ids: list[int], error: str, counts: RunCounts, immediate: bool = False
) -> None:
    with transaction() as session:
        for entry_id in entry_ids:
            entry = session.get(OutboxEntry, entry_id)
            entry.state = "pending"
            entry.last_error = error
            entry.next_attempt_at = utcnow() + (timedelta(0) if immediate else backoff(entry.attempts))
            counts.retrying += 1


def _push_one(
    transaction: Callable[[], Any],
    entry_id: int,
    counts: RunCounts,
    prepare: Callable[[Session, OutboxEntry], Any],
    send: Callable[[Any], tuple[str, str | None]],
    after: Callable[[Session, OutboxEntry, str], None] | None = None,
    *,
    lease: timedelta = SENDING_LEASE,
) -> None:
    """One entry: read what to send (a transaction), send it (no transaction open), record the outcome."""
    with transaction() as session:
        claimed = _claim(session, [entry_id], lease)
        if not claimed:
            return  # another pusher has it
        request = prepare(session, claimed[0])
    if isinstance(request, Held):
        with transaction() as session:
            _hold(session, session.get(OutboxEntry, entry_id), request.why, counts)
        return
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
            entry = session.get(OutboxEntry, entry_id)
            _settle(session, entry, "rejected", f"the ledger refused: {exc}", counts, None)
            if entry.kind == "delete_payment" and entry.invoice_id:
                # The payment stays in the ledger (e.g. reconciled): never shown as paid, a person decides.
                flag_attention(
                    session.get(Invoice, entry.invoice_id),
                    f"the collection failed but the ledger refused to delete our payment: {exc.message}",
                )
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


@dataclass(frozen=True, slots=True)
class Held:
    """A write that must wait for another (a payout for its invoices' payments)."""

    why: str


def _hold(session: Session, entry: OutboxEntry, why: str, counts: RunCounts) -> None:
    entry.state = "pending"
    entry.last_error = why
    entry.next_attempt_at = utcnow() + backoff(entry.attempts)
    counts.held += 1


def _payout_request(session: Session, entry: OutboxEntry, accounts: dict[str, str]) -> PayoutToPost | Held:
    """The payout as the ledger will get it, or held while a payment it settles is not in the ledger.

    Posting the transfer first would move money out of clearing that never came in: clearing
    would go negative. An ignored payment (a person's decision) no longer holds the payout.
    """
    p = entry.payload
    waiting = session.execute(
        select(Invoice.number, OutboxEntry.state)
        .join(Invoice, Invoice.id == OutboxEntry.invoice_id)
        .where(
            OutboxEntry.invoice_id.in_(p.get("invoice_ids", [])),
            OutboxEntry.kind == "payment",
            OutboxEntry.state.not_in(("done", "ignored")),
        )
    ).all()
    if waiting:
        listed = ", ".join(f"{number} ({state})" for number, state in waiting)
        return Held(f"held until the payments it settles are in the ledger: {listed}")
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
                data={"outbox_entry": entry.id},
            )


# --- notes on the ledger's invoice -------------------------------------------------------------


def _notes_switched_off(session: Session, entry_ids: list[int]) -> None:
    """Notes written while ``ledger_notes`` was on, for a connection that has it off now: never
    sent (no call), kept as ignored with why, as a person's ``outbox ignore`` would."""
    for entry_id in entry_ids:
        entry = session.get(OutboxEntry, entry_id)
        entry.state = "ignored"
        entry.last_error = "ledger notes are switched off for this connection (ledger_notes = false)"


def _note_request(session: Session, entry: OutboxEntry) -> NoteToPost | Held:
    """The note, or held while a money write of its invoice is still on its way to the ledger:
    the accountant reads the note after the payment or payout it explains. A refused money write
    holds nothing (the note says what the platform did, which stays true). A payout's entry is
    written after its invoices' notes, in the same transaction, so every money write is looked at."""
    waiting = session.scalars(
        select(OutboxEntry).where(
            OutboxEntry.connection_id == entry.connection_id,
            OutboxEntry.kind.in_(MONEY_KINDS),
            OutboxEntry.state.in_(("pending", "sending")),
        )
    )
    for other in waiting:
        if other.invoice_id == entry.invoice_id or entry.invoice_id in (other.payload.get("invoice_ids") or []):
            return Held(f"note held until the {other.kind.replace('_', ' ')} it follows is in the ledger")
    return NoteToPost(
        key=entry.idempotency_key,
        invoice_external_id=entry.payload["external_id"],
        text=entry.payload["text"],
        # The claim counted this try: 1 means no earlier send can have reached the ledger.
        first_attempt=entry.attempts == 1,
    )


def _note(
    ledger: Ledger, note: NoteToPost, crash_after_send: Callable[[list[int]], None] | None, entry_id: int
) -> tuple[str, str | None]:
    try:
        written = ledger.add_invoice_note(note)
    except NotFound:
        return "note not added: the invoice is not in the ledger any more", None
    if crash_after_send:
        crash_after_send([entry_id])
    if not written:
        return "note already on the ledger's invoice (found by its marker); not added again", None
    return f"note added to the ledger's invoice: {note.text}", None
