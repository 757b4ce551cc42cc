"""Reconciliation: prove the ledger and the platform agree, and name every difference.

For one connection it reads the ledger in full with a bounded number of list calls (invoices in
pages of 1,000, then the money entries: payments, the customer's credits, transfers, spend and
receive money, and the clearing account's balance), compares them with what the platform holds
(invoices, and the outbox entries that were written), and stores each difference as a finding.

A finding is keyed by (connection, kind, subject): a later run that finds it again updates it
(last seen), one that does not resolves it. New findings about an invoice go into its timeline.

The clearing account is the platform's own (a dedicated account, as the setup offers to create):
its balance must equal the money collected and not yet paid out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.domain import EventSource, LedgerStatus, Money
from connector.ledgers.base import MARKERS, Ledger, marker
from connector.ledgers.records import LedgerInvoice
from connector.ledgers.seen import SeenEntry
from connector.mapping import Mapping, Placement
from connector.store.models import Connection, Invoice, OutboxEntry, ReconciliationFinding
from connector.store.types import utcnow
from connector.sync.apply import log_activity
from connector.sync.push import UNAPPLIED_ONLY

MARKER = MARKERS
#: Platform statuses in which the ledger should still show the amount to collect.
TO_COLLECT = ("scheduled", "outstanding", "overdue")


@dataclass(frozen=True, slots=True)
class Draft:
    """A difference found in this run, before it is stored."""

    kind: str
    subject: str
    ledger_value: str
    platform_value: str
    explanation: str
    suggested_fix: str
    invoice_id: int | None = None
    outbox_entry_id: int | None = None
    amount: Decimal | None = None
    currency: str | None = None
    fix_action: str | None = None


@dataclass
class LedgerBooks:
    """Everything a reconciliation reads from the ledger, once."""

    invoices: dict[str, LedgerInvoice]
    entries: list[SeenEntry]
    clearing_balance: Decimal | None

    def by_marker(self) -> dict[str, list[SeenEntry]]:
        found: dict[str, list[SeenEntry]] = defaultdict(list)
        for e in self.entries:
            for tag in set(MARKER.findall(e.reference)):
                found[tag].append(e)
        return found


@dataclass(frozen=True, slots=True)
class PaymentWritten:
    """A payment entry the push completed: what the ledger must hold under its marker."""

    entry_id: int
    invoice_id: int
    invoice_external_id: str
    number: str
    marker: str
    collected: Decimal
    currency: str
    on: date
    credit_only: bool


@dataclass(frozen=True, slots=True)
class PayoutWritten:
    entry_id: int
    marker: str
    reference: str
    currency: str
    gross: Decimal
    fee: Decimal
    net: Decimal
    invoice_ids: list[int]


@dataclass
class PlatformBooks:
    """What the platform holds for one connection."""

    invoices: list[Invoice]
    payments: list[PaymentWritten]
    payouts: list[PayoutWritten]
    in_flight: int = 0
    clearing: str = ""
    #: Entries in clearing recorded before the connection existed are its history, not differences.
    since: datetime | None = None

    @property
    def in_transit(self) -> Decimal:
        """Money collected, recorded in the ledger, and not yet paid out: what clearing must hold."""
        return sum((p.collected for p in self.payments), Decimal(0)) - sum((p.gross for p in self.payouts), Decimal(0))


@dataclass
class Outcome:
    found: list[Draft] = field(default_factory=list)
    new: int = 0
    resolved: int = 0

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for d in self.found:
            counts[d.kind] += 1
        return dict(sorted(counts.items()))


# --- reading ----------------------------------------------------------------------------------


def read_ledger(ledger: Ledger, clearing: str) -> LedgerBooks:
    """The ledger in full: every sales invoice (pages of 1,000), the money entries, the clearing balance."""
    invoices: dict[str, LedgerInvoice] = {}
    for page in ledger.changed_invoices(None, timedelta(0)):
        for record in page.records:
            if isinstance(record, LedgerInvoice):
                invoices[record.external_id] = record
    entries = entries_reader(ledger.provider)(ledger)
    return LedgerBooks(invoices, entries, ledger.account_balance(clearing))


def entries_reader(provider: str) -> Any:
    if provider == "xero":
        from connector.ledgers.xero_books import our_entries

        return our_entries
    from connector.ledgers.quickbooks_books import our_entries as qbo_entries

    return qbo_entries


#: The outbox kinds that move money in the ledger (a ``ledger_note`` does not).
MONEY_WRITES = frozenset({"payment", "delete_payment", "payout"})


def read_platform(session: Session, connection: Connection) -> PlatformBooks:
    """The platform's side, in three queries: invoices, the payments and payouts written, what is in flight."""
    invoices = list(
        session.scalars(select(Invoice).where(Invoice.connection_id == connection.id, Invoice.deleted_at.is_(None)))
    )
    by_id = {i.id: i for i in invoices}
    entries = list(
        session.scalars(select(OutboxEntry).where(OutboxEntry.connection_id == connection.id).order_by(OutboxEntry.id))
    )
    deleted = {e.ledger_reference for e in entries if e.kind == "delete_payment" and e.state == "done"}
    payments, payouts, in_flight = [], [], 0
    for e in entries:
        if e.state in ("sending", "pending") and e.attempts and e.kind in MONEY_WRITES:
            in_flight += 1  # a note in flight moves no money: the clearing check still holds
        if e.state != "done":
            continue
        p = e.payload
        if e.kind == "payment" and e.invoice_id in by_id and e.ledger_reference not in deleted:
            inv = by_id[e.invoice_id]
            payments.append(
                PaymentWritten(
                    e.id,
                    inv.id,
                    inv.external_id or "",
                    inv.number,
                    marker(e.idempotency_key),
                    Decimal(p["amount"]),
                    p["currency"],
                    date.fromisoformat(p["date"]),
                    (e.ledger_reference or "").startswith(UNAPPLIED_ONLY),
                )
            )
        elif e.kind == "payout":
            payouts.append(
                PayoutWritten(
                    e.id,
                    marker(e.idempotency_key),
                    p.get("reference", ""),
                    p["currency"],
                    Decimal(p["gross"]),
                    Decimal(p["fee"]),
                    Decimal(p["net"]),
                    list(p.get("invoice_ids", [])),
                )
            )
    clearing = str(((connection.settings or {}).get("accounts") or {}).get("clearing", ""))
    return PlatformBooks(invoices, payments, payouts, in_flight, clearing, connection.created_at)


# --- comparing ---------------------------------------------------------------------------------


def compare(platform: PlatformBooks, ledger: LedgerBooks, mapping: Mapping) -> list[Draft]:
    """Every difference, in plain words, with what to do about it."""
    marked = ledger.by_marker()
    found = list(_invoices(platform, ledger, mapping))
    found += _payments(platform, marked, ledger)
    found += _payouts(platform, marked)
    found += _clearing(platform, ledger)
    return found


def _m(amount: Decimal, currency: str) -> str:
    return str(Money(amount, currency))


def _invoices(platform: PlatformBooks, ledger: LedgerBooks, mapping: Mapping) -> Iterable[Draft]:
    ours = {p.invoice_id for p in platform.payments}
    for inv in platform.invoices:
        if not inv.external_id or inv.status == "duplicate":
            continue
        rec = ledger.invoices.get(inv.external_id)
        subject = inv.external_id
        if rec is None:
            if inv.status != "voided":
                yield Draft(
                    "invoice_missing",
                    subject,
                    "not in the ledger",
                    f"{inv.number} {inv.status}",
                    f"{inv.number} is {inv.status} on the platform but the ledger no longer has it (deleted).",
                    "Check with the business why it was deleted; void it on the platform if it is gone for good.",
                    invoice_id=inv.id,
                )
            continue
        placement = mapping.place(rec)
        status = placement.ledger_status if isinstance(placement, Placement) else None
        if rec.number != inv.number:
            yield Draft(
                "invoice_renumbered",
                subject,
                rec.number,
                inv.number,
                f"The ledger renumbered {inv.number} to {rec.number} since the last sync.",
                "Nothing to fix: the next sync takes the new number.",
                invoice_id=inv.id,
            )
        if rec.total != inv.total or rec.currency != inv.currency:
            yield Draft(
                "invoice_edited",
                subject,
                _m(rec.total, rec.currency),
                _m(inv.total, inv.currency),
                f"{inv.number}'s total or currency was edited in the ledger.",
                "If the platform collected the old total, check the customer was charged right.",
                invoice_id=inv.id,
                amount=rec.total - inv.total,
                currency=inv.currency,
            )
        if status is LedgerStatus.VOIDED and inv.status != "voided":
            yield Draft(
                "invoice_voided",
                subject,
                rec.status,
                inv.status,
                f"The ledger voided {inv.number} while the platform holds it as {inv.status}.",
                "If a collection is in flight or done, the customer may need a refund.",
                invoice_id=inv.id,
            )
            continue
        if inv.status in TO_COLLECT and status is LedgerStatus.OPEN and rec.amount_due != inv.amount_due:
            yield Draft(
                "amount_due_mismatch",
                subject,
                _m(rec.amount_due, rec.currency),
                _m(inv.amount_due, inv.currency),
                f"The ledger shows {_m(rec.amount_due, rec.currency)} due on {inv.number}; the platform would collect "
                f"{_m(inv.amount_due, inv.currency)}.",
                "Run a sync; if it stays, the change was made while the platform could not follow it.",
                invoice_id=inv.id,
                amount=rec.amount_due - inv.amount_due,
                currency=inv.currency,
            )
        if inv.status in (*TO_COLLECT, "submitted") and status is LedgerStatus.PAID and inv.id not in ours:
            yield Draft(
                "external_payment",
                subject,
                f"{rec.status}, {rec.amount_due} due",
                inv.status,
                f"{inv.number} was paid in the ledger by someone else while the platform still holds it as "
                f"{inv.status}.",
                "Do not collect it: run a sync (it moves to Paid), or stop the collection in flight.",
                invoice_id=inv.id,
                amount=rec.amount_paid,
                currency=inv.currency,
            )


def _payments(platform: PlatformBooks, marked: dict[str, list[SeenEntry]], ledger: LedgerBooks) -> Iterable[Draft]:
    for p in platform.payments:
        entries = [e for e in marked.get(p.marker, []) if e.kind in ("payment", "overpayment")]
        base = dict(invoice_id=p.invoice_id, outbox_entry_id=p.entry_id, currency=p.currency)
        if not entries:
            yield Draft(
                "payment_missing",
                p.marker,
                "no entry with this marker",
                _m(p.collected, p.currency),
                f"The platform's payment of {_m(p.collected, p.currency)} for {p.number} ({p.marker}) is not in the "
                "ledger: it was deleted there.",
                "Re-post it (one click), or refund the customer if the ledger is right.",
                amount=p.collected,
                fix_action="repost_payment",
                **base,
            )
            continue
        payments = [e for e in entries if e.kind == "payment"]
        credits = [e for e in entries if e.kind == "overpayment"]
        if len(payments) > 1 or len(credits) > 1:
            extra = sum((e.amount for e in entries), Decimal(0)) - p.collected
            yield Draft(
                "payment_doubled",
                p.marker,
                f"{len(entries)} entries: " + ", ".join(e.external_id for e in entries),
                "one payment",
                f"{p.number}'s payment ({p.marker}) is in the ledger more than once.",
                "Delete the copy in the ledger.",
                amount=extra,
                **base,
            )
            continue
        recorded = sum((e.amount for e in entries), Decimal(0))
        wrong_account = [e for e in payments if platform.clearing and e.account and e.account != platform.clearing]
        wrong_date = [e for e in payments if e.on and e.on != p.on]
        if recorded != p.collected or wrong_account or wrong_date:
            said = (
                _m(recorded, p.currency)
                + "".join(f", into {e.account}" for e in wrong_account)
                + "".join(f", dated {e.on}" for e in wrong_date)
            )
            yield Draft(
                "payment_changed",
                p.marker,
                said,
                f"{_m(p.collected, p.currency)} into clearing on {p.on}",
                f"{p.number}'s payment ({p.marker}) was changed in the ledger.",
                "Put it back as the platform collected it (amount, date, clearing account).",
                amount=recorded - p.collected,
                **base,
            )


@dataclass(frozen=True, slots=True)
class PayoutMovement:
    """One payout's movements through clearing, as the ledger shows them: they must net to zero."""

    reference: str
    currency: str
    collected: Decimal
    transferred: Decimal
    fee: Decimal
    transfers: tuple[SeenEntry, ...]
    fees: tuple[SeenEntry, ...]

    @property
    def left(self) -> Decimal:
        return self.collected - self.transferred - self.fee


def payout_movements(platform: PlatformBooks, marked: dict[str, list[SeenEntry]]) -> list[PayoutMovement]:
    """For each payout written: what came into clearing for its invoices, what the transfer and fee took out."""
    found = []
    for po in platform.payouts:
        entries = marked.get(po.marker, [])
        transfers = tuple(e for e in entries if e.kind == "transfer")
        fees = tuple(e for e in entries if e.kind == "spend")
        settled = [p for p in platform.payments if p.invoice_id in po.invoice_ids]
        collected = sum(
            (e.amount for p in settled for e in marked.get(p.marker, []) if e.kind in ("payment", "overpayment")),
            Decimal(0),
        )
        transferred = sum((e.amount for e in transfers[:1]), Decimal(0)) * (1 if po.net >= 0 else -1)
        fee = sum((e.amount for e in fees[:1]), Decimal(0))
        found.append(
            PayoutMovement(po.reference or po.marker, po.currency, collected, transferred, fee, transfers, fees)
        )
    return found


def _payouts(platform: PlatformBooks, marked: dict[str, list[SeenEntry]]) -> Iterable[Draft]:
    for po, moved in zip(platform.payouts, payout_movements(platform, marked), strict=True):
        base = dict(outbox_entry_id=po.entry_id, currency=po.currency)
        label = moved.reference
        net = abs(po.net) if po.net else None
        yield from _once("payout_transfer", po.marker, list(moved.transfers), net, label, po.currency, base)
        yield from _once("payout_fee", po.marker, list(moved.fees), po.fee or None, label, po.currency, base)
        if moved.left != 0:
            yield Draft(
                "payout_not_netting",
                po.marker,
                f"{_m(moved.collected, po.currency)} in − {_m(moved.transferred, po.currency)} "
                f"transfer − {_m(moved.fee, po.currency)} fee",
                "0",
                f"Payout {label} leaves {_m(moved.left, po.currency)} in clearing: what came in for its invoices, "
                "less the transfer and the fee, is not zero.",
                "Look at the payout's payments, transfer and fee in the ledger; the other findings say which moved.",
                amount=moved.left,
                **base,
            )


def _once(
    kind: str,
    subject: str,
    entries: list[SeenEntry],
    expected: Decimal | None,
    label: str,
    currency: str,
    base: dict[str, Any],
) -> Iterable[Draft]:
    what = "transfer" if kind.endswith("transfer") else "fee"
    if expected is None:
        return
    if not entries:
        yield Draft(
            f"{kind}_missing",
            subject,
            "none",
            _m(expected, currency),
            f"The {what} of payout {label} ({_m(expected, currency)}) is not in the ledger.",
            f"Re-create the {what} in the ledger, or retry the payout's push.",
            amount=expected,
            **base,
        )
    elif len(entries) > 1:
        yield Draft(
            f"{kind}_doubled",
            subject,
            ", ".join(e.external_id for e in entries),
            "one",
            f"The {what} of payout {label} is in the ledger {len(entries)} times.",
            "Delete the copy in the ledger.",
            amount=sum((e.amount for e in entries[1:]), Decimal(0)),
            **base,
        )
    elif entries[0].amount != expected:
        yield Draft(
            f"{kind}_changed",
            subject,
            _m(entries[0].amount, currency),
            _m(expected, currency),
            f"The {what} of payout {label} was changed in the ledger.",
            f"Put the {what} back to its amount.",
            amount=entries[0].amount - expected,
            **base,
        )


def clearing_history(platform: PlatformBooks, ledger: LedgerBooks) -> tuple[Decimal, list[SeenEntry]]:
    """What clearing held before the connection began (entries dated earlier, not ours), and the
    entries since then that the connector did not write."""
    before, strangers = Decimal(0), []
    for e in ledger.entries:
        effect = e.effect_on(platform.clearing) if e.touches(platform.clearing) else Decimal(0)
        if not effect or MARKER.search(e.reference):
            continue
        if _before(e, platform.since):
            before += effect
        else:
            strangers.append(e)
    return before, strangers


def _before(entry: SeenEntry, since: datetime | None) -> bool:
    """Recorded before the connection began: by the ledger's own timestamp, else by its date with a
    day's margin (the ledger dates entries in the organisation's time zone)."""
    if since is None:
        return False
    if entry.recorded_at is not None:  # ledgers stamp to the second: that second counts as "since"
        return entry.recorded_at < since.replace(microsecond=0)
    return entry.on is not None and entry.on < since.date() - timedelta(days=1)


def _clearing(platform: PlatformBooks, ledger: LedgerBooks) -> Iterable[Draft]:
    """Clearing's balance = what it held before the connection (its own history, read from the same
    entries) + the platform's payments not yet paid out. Anything else is shown with the entries,
    dated since the connection began and not written by the connector, that explain it."""
    if ledger.clearing_balance is None or not platform.clearing or platform.in_flight:
        return  # a write in flight would show as a difference that is not one
    currency = platform.invoices[0].currency if platform.invoices else "XXX"
    account = platform.clearing
    before, strangers = clearing_history(platform, ledger)
    expected = before + platform.in_transit
    difference = ledger.clearing_balance - expected
    if difference == 0:
        return
    explained = sum((e.effect_on(account) for e in strangers), Decimal(0))
    listed = "; ".join(
        f"{e.kind} {e.effect_on(account)} on {e.on} ({e.reference or 'no reference'})" for e in strangers[:5]
    )
    why = f"Entries not written by the connector: {listed}." if strangers else "No entry explains it."
    if strangers and explained == difference:
        why += " They explain the whole difference."
    opening = f" (it held {_m(before, currency)} before the connection)" if before else ""
    yield Draft(
        "clearing_balance",
        "clearing",
        _m(ledger.clearing_balance, currency),
        f"{_m(expected, currency)}: {_m(platform.in_transit, currency)} in transit{opening}",
        f"The clearing account holds {_m(ledger.clearing_balance, currency)}; it should hold "
        f"{_m(expected, currency)}: the platform's payments not yet paid out{opening}. {why}",
        "Move entries that do not belong to the platform out of the clearing account.",
        amount=difference,
        currency=currency,
    )


# --- storing -------------------------------------------------------------------------------------


def store_findings(session: Session, connection_id: int, drafts: list[Draft], run_id: int | None) -> Outcome:
    """Upsert this run's findings; resolve the open ones it no longer finds; new invoice findings go to
    the invoice's timeline."""
    now = utcnow()
    outcome = Outcome(found=drafts)
    existing = {
        (f.kind, f.subject): f
        for f in session.scalars(
            select(ReconciliationFinding).where(ReconciliationFinding.connection_id == connection_id)
        )
    }
    seen = set()
    for d in drafts:
        key = (d.kind, d.subject)
        seen.add(key)
        row = existing.get(key)
        fields = {
            "invoice_id": d.invoice_id,
            "outbox_entry_id": d.outbox_entry_id,
            "currency": d.currency,
            "amount": d.amount,
            "ledger_value": d.ledger_value,
            "platform_value": d.platform_value,
            "explanation": d.explanation,
            "suggested_fix": d.suggested_fix,
            "fix_action": d.fix_action,
            "last_seen_at": now,
            "last_run_id": run_id,
        }
        if row is None or row.resolved_at is not None:
            if row is None:
                row = ReconciliationFinding(connection_id=connection_id, kind=d.kind, subject=d.subject)
                session.add(row)
            row.first_seen_at, row.resolved_at = now, None
            outcome.new += 1
            _to_timeline(session, d, run_id)
        for name, value in fields.items():
            setattr(row, name, value)
    for key, row in existing.items():
        if key not in seen and row.resolved_at is None:
            row.resolved_at = now
            outcome.resolved += 1
    return outcome


def _to_timeline(session: Session, draft: Draft, run_id: int | None) -> None:
    if draft.invoice_id is None:
        return
    invoice = session.get(Invoice, draft.invoice_id)
    if invoice is not None:
        log_activity(
            session,
            invoice,
            "finding",
            f"reconcile_{draft.kind}",
            invoice.status,
            invoice.status,
            EventSource.SYSTEM,
            draft.explanation,
            sync_run_id=run_id,
            actor="reconciliation",
        )
