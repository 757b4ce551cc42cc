"""The books of one connected organisation, as the accountant's suite and reconciliation use them.

An accountant's suite: money scenarios driven through the actions layer in the daemon's order of
jobs (import, then push), then checked by re-reading each ledger through its API.

``Book`` is the ledger-neutral face every scenario uses. An accountant's own edits (a credit note,
a payment taken elsewhere, a void, a reconciled payment) go into the sandbox's books as a person
would make them in Xero or QuickBooks; everything the connector is judged on is read back
through the ledger's API with the real SDK.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from connector.actions import Actor
from connector.actions import platform as platform_actions
from connector.ledgers.base import marker
from connector.sandbox.quickbooks import QuickBooksSandbox
from connector.sandbox.xero import RateLimits, XeroSandbox
from connector.store.models import Connection, Invoice, OutboxEntry
from connector.sync.runner import SyncResult
from tests.e2e.conftest import TODAY, QboWorld, make_world

PLATFORM = Actor.platform("accountant's suite")


class Book:
    """One connected organisation: the connector's side and the ledger's, for one scenario."""

    provider: str
    clearing: str

    # --- the connector, as the daemon and the platform drive it ------------------------------
    rt: Any

    def sync(self) -> SyncResult:
        """The daemon's sync job: import, then push."""
        raise NotImplementedError

    def push_only(self) -> SyncResult:
        raise NotImplementedError

    def adapter(self) -> Any:
        with self.rt.sessions() as session:
            return self.world.ledger(self.rt, session.scalars(select(Connection)).first())

    def platform(self, kind: str, ext: str, **options: Any) -> Any:
        [outcome] = platform_actions.record_event(self.rt, kind, [self.ref(ext)], actor=PLATFORM, **options)
        return outcome

    def payout(self, exts: list[str], fee: str, reference: str) -> Any:
        return platform_actions.record_payout(
            self.rt, [self.ref(x) for x in exts], actor=PLATFORM, fee=fee, reference=reference
        )

    def row(self, ext: str) -> Invoice:
        with self.rt.sessions() as session:
            return session.scalars(select(Invoice).where(Invoice.external_id == ext)).one()

    def ref(self, ext: str) -> str:
        return f"#{self.row(ext).id}"

    def markers(self, ext: str) -> set[str]:
        with self.rt.sessions() as session:
            keys = session.scalars(
                select(OutboxEntry.idempotency_key)
                .join(Invoice, Invoice.id == OutboxEntry.invoice_id)
                .where(Invoice.external_id == ext, OutboxEntry.kind == "payment")
            )
            return {marker(k) for k in keys}

    def backoff_passed(self) -> None:
        """Time moves on past every retry's backoff (the outbox waits in real time)."""
        from connector.store.types import utcnow

        with self.rt.transaction() as session:
            for entry in session.scalars(select(OutboxEntry).where(OutboxEntry.state == "pending")):
                entry.next_attempt_at = utcnow()

    def push_with(self, **push_options: Any) -> SyncResult:
        """A push-only run with the push engine's test options (``crash_after_send``, ``lease``)."""
        raise NotImplementedError

    def entries(self, ext: str, kind: str) -> list[OutboxEntry]:
        """The invoice's outbox entries of one kind, oldest first."""
        with self.rt.sessions() as session:
            return list(
                session.scalars(
                    select(OutboxEntry)
                    .join(Invoice, Invoice.id == OutboxEntry.invoice_id)
                    .where(Invoice.external_id == ext, OutboxEntry.kind == kind)
                    .order_by(OutboxEntry.id)
                )
            )

    def timeline(self, ext: str) -> list[tuple[str, str, str]]:
        """The invoice's activity, oldest first: (kind, outcome, detail), as `connector activity` shows it."""
        from connector.store.models import ActivityEvent

        with self.rt.sessions() as session:
            rows = session.scalars(
                select(ActivityEvent)
                .join(Invoice, Invoice.id == ActivityEvent.invoice_id)
                .where(Invoice.external_id == ext)
                .order_by(ActivityEvent.id)
            )
            return [(e.kind, e.outcome, e.detail or "") for e in rows]

    # --- read back through the ledger's API -------------------------------------------------
    def notes(self, ext: str) -> list[str]:
        """The connector's notes on the ledger's invoice, oldest first, read through the API."""
        raise NotImplementedError

    def clearing_balance(self) -> Decimal:
        return self.adapter().account_balance(self.clearing)

    def ledger_invoice(self, ext: str) -> Any:
        [inv] = self.adapter().get_invoices([ext])
        return inv

    def applied_by_us(self, ext: str) -> Decimal:
        """Our payments on the ledger's invoice (by marker), through the API."""
        tags = self.markers(ext)
        inv = self.ledger_invoice(ext)
        return sum((p.amount for p in inv.payments if any(t in p.reference for t in tags)), Decimal(0))

    def unapplied_by_us(self, ext: str) -> Decimal:
        raise NotImplementedError

    def collected_in_ledger(self, ext: str) -> Decimal:
        return self.applied_by_us(ext) + self.unapplied_by_us(ext)

    # --- an accountant at work in the ledger ------------------------------------------------
    def open_invoices(self, n: int) -> list[str]:
        return self.world.open_invoices(n)

    def amount_due(self, ext: str) -> Decimal:
        raise NotImplementedError

    def pay_elsewhere(self, ext: str, amount: Decimal) -> None:
        raise NotImplementedError

    def credit(self, ext: str, amount: Decimal) -> None:
        raise NotImplementedError

    def void(self, ext: str) -> None:
        raise NotImplementedError

    def recreate(self, ext: str) -> str:
        """Void the invoice and enter it again: same customer, number and amount; the new id."""
        raise NotImplementedError

    def our_payment_ids(self, ext: str) -> list[str]:
        raise NotImplementedError

    def delete_payment(self, payment_id: str) -> None:
        raise NotImplementedError

    def reconcile_payment(self, payment_id: str) -> None:
        raise NotImplementedError

    def foreign_invoice(self) -> str:
        raise NotImplementedError

    def prepay(self, ext: str, amount: Decimal) -> None:
        """The customer paid in advance; the accountant applies that credit to this invoice."""
        raise NotImplementedError

    def overpay(self, ext: str, amount: Decimal) -> None:
        """The customer paid too much earlier; the accountant applies that credit to this invoice."""
        raise NotImplementedError

    def delete_transfer(self, reference: str) -> None:
        """The accountant removes the payout's transfer (clearing → bank) in the ledger."""
        raise NotImplementedError


class XeroBook(Book):
    provider = "xero"
    clearing = "095"
    connection_name = "nz"

    def __init__(self, world: Any) -> None:
        self.world, self.rt = world, world.rt
        self.books, self.tenant = world.xero.ledger, world.tenant()

    def sync(self) -> SyncResult:
        return self.world.sync("nz")

    def push_only(self) -> SyncResult:
        return self.world.sync("nz", do_import=False)

    def push_with(self, **push_options: Any) -> SyncResult:
        return self.world.sync("nz", do_import=False, push_options=push_options)

    def notes(self, ext: str) -> list[str]:
        return [n for n in reversed(self.adapter().invoice_notes(ext)) if "cx:" in n]

    def _contact(self, ext: str) -> str:
        return self.books.get_invoice(self.tenant, ext).contact_id

    def prepay(self, ext: str, amount: Decimal) -> None:
        from connector.sandbox.xero.state import LineInput

        tx = self.books.create_prepayment(
            self.tenant,
            type="RECEIVE-PREPAYMENT",
            lines=[LineInput("Paid in advance", Decimal(1), amount, account_code="200", tax_type="NONE")],
            bank_account_code="090",
            contact_id=self._contact(ext),
            line_amount_types="NoTax",
        )
        self.books.allocate_prepayment(self.tenant, tx.prepayment_id, ext, amount)

    def overpay(self, ext: str, amount: Decimal) -> None:
        from connector.sandbox.xero.state import LineInput

        tx = self.books.create_overpayment(
            self.tenant,
            type="RECEIVE-OVERPAYMENT",
            lines=[LineInput("Paid twice", line_amount=amount)],
            bank_account_code="090",
            contact_id=self._contact(ext),
        )
        self.books.allocate_overpayment(self.tenant, tx.overpayment_id, ext, amount)

    def delete_transfer(self, reference: str) -> None:
        tenant = self.books.tenant(self.tenant)
        [transfer] = [t for t in tenant.bank_transfers.values() if reference in (t.reference or "")]
        self.books.remove_bank_transfer(self.tenant, transfer.id)

    def adapter(self) -> Any:
        with self.rt.sessions() as session:
            conn = session.scalars(select(Connection).where(Connection.name == "nz")).one()
            return self.world.ledger(self.rt, conn)

    def unapplied_by_us(self, ext: str) -> Decimal:
        tags = self.markers(ext)
        ledger = self.adapter()
        found = ledger.accounting.get_overpayments(ledger.tenant_id).overpayments or []
        return sum((Decimal(str(o.total)) for o in found if any(t in (o.reference or "") for t in tags)), Decimal(0))

    def amount_due(self, ext: str) -> Decimal:
        return self.books.get_invoice(self.tenant, ext).amount_due

    def pay_elsewhere(self, ext: str, amount: Decimal) -> None:
        self.books.add_payment(self.tenant, ext, amount, account_code="090", reference="cash at the counter")

    def credit(self, ext: str, amount: Decimal) -> None:
        contact = self.books.get_invoice(self.tenant, ext).contact_id
        note = self.books.create_credit_note(self.tenant, contact_id=contact, amount=amount)
        self.books.allocate_credit_note(self.tenant, note.id, ext, amount)

    def void(self, ext: str) -> None:
        self.books.void_invoice(self.tenant, ext)

    def recreate(self, ext: str) -> str:
        old = self.books.get_invoice(self.tenant, ext)
        self.books.void_invoice(self.tenant, ext)
        # Xero refuses a number already used, even by a voided invoice: the accountant types it
        # again with a space for the dash, which is the same invoice to anyone reading it.
        new = self.books.create_invoice(
            self.tenant,
            contact_id=old.contact_id,
            amount=old.total,
            number=old.number.replace("-", " "),
            due_date=old.due_date,
            status="AUTHORISED",
        )
        return new.id

    def our_payment_ids(self, ext: str) -> list[str]:
        tags = self.markers(ext)
        return [p.external_id for p in self.ledger_invoice(ext).payments if any(t in p.reference for t in tags)]

    def delete_payment(self, payment_id: str) -> None:
        self.books.delete_payment(self.tenant, payment_id)

    def reconcile_payment(self, payment_id: str) -> None:
        self.books.reconcile_payment(self.tenant, payment_id)

    def foreign_invoice(self) -> str:
        tenant = self.books.tenant(self.tenant)
        base = tenant.org.base_currency
        for inv in tenant.invoices.values():
            if inv.type == "ACCREC" and inv.status == "AUTHORISED" and inv.currency != base and inv.amount_paid == 0:
                return inv.id
        raise AssertionError("the seed has no foreign-currency invoice")


@pytest.fixture
def xero_book(db_url: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[XeroBook]:
    options = request.node.funcargs.get("_book_options") or getattr(request, "param", None) or {}
    with XeroSandbox(seed=11, tenants=2, invoices_per_tenant=45, limits=RateLimits.unlimited()) as sandbox:
        world = make_world(sandbox, db_url, monkeypatch, **options)
        yield XeroBook(world)
        world.rt.close()


class QboBook(Book):
    provider = "quickbooks"
    connection_name = "qbo"

    def __init__(self, world: QboWorld) -> None:
        self.world, self.rt = world, world.rt
        self.qbo, self.realm = world.qbo, world.realm
        self.clearing = world.accounts["clearing"]

    def sync(self) -> SyncResult:
        return self.world.sync()

    def push_only(self) -> SyncResult:
        return self.world.sync(do_import=False)

    def push_with(self, **push_options: Any) -> SyncResult:
        return self.world.sync(do_import=False, push_options=push_options)

    def private_note(self, ext: str) -> str:
        return str(self.adapter().invoice_note(ext))

    def notes(self, ext: str) -> list[str]:
        return [line for line in self.private_note(ext).split("\n") if "cx:" in line]

    def write_private_note(self, ext: str, text: str) -> None:
        """The accountant types a memo on the invoice in QuickBooks."""
        self.qbo.ledger.update_entity(self.realm, "Invoice", ext, PrivateNote=text)

    def _apply_unapplied_payment(self, ext: str, amount: Decimal, note: str) -> None:
        """QuickBooks keeps money received ahead (or beyond) as a Payment's unapplied amount; the
        accountant applies it later by adding the invoice to that payment (Receive payment screen)."""
        inv = self.qbo.entity(self.realm, "Invoice", ext)
        payment = self.qbo.ledger.create(
            self.realm,
            "Payment",
            {
                "CustomerRef": dict(inv["CustomerRef"]),
                "TotalAmt": amount,
                "DepositToAccountRef": {"value": self.world.accounts["bank"]},
                "PrivateNote": note,
            },
        )
        self.qbo.ledger.update_entity(
            self.realm,
            "Payment",
            payment.id,
            Line=[{"Amount": amount, "LinkedTxn": [{"TxnId": ext, "TxnType": "Invoice"}]}],
        )

    def prepay(self, ext: str, amount: Decimal) -> None:
        self._apply_unapplied_payment(ext, amount, "paid in advance")

    def overpay(self, ext: str, amount: Decimal) -> None:
        self._apply_unapplied_payment(ext, amount, "paid twice, kept as credit")

    def delete_transfer(self, reference: str) -> None:
        records = self.qbo.ledger.books(self.realm).records.get("Transfer", {})
        [transfer] = [r for r in records.values() if not r.deleted and reference in str(r.doc.get("PrivateNote", ""))]
        self.qbo.ledger.delete_entity(self.realm, "Transfer", transfer.id)

    def _ours(self, ext: str) -> list[dict[str, Any]]:
        """Our Payments (by marker in PrivateNote), read with a query through the API."""
        tags = self.markers(ext)
        found = self.adapter()._query("select * from Payment").get("QueryResponse", {}).get("Payment", [])
        return [p for p in found if any(t in str(p.get("PrivateNote", "")) for t in tags)]

    def applied_by_us(self, ext: str) -> Decimal:
        return sum(
            (
                Decimal(str(line["Amount"]))
                for p in self._ours(ext)
                for line in p.get("Line", [])
                if any(t.get("TxnId") == ext and t.get("TxnType") == "Invoice" for t in line.get("LinkedTxn", []))
            ),
            Decimal(0),
        )

    def unapplied_by_us(self, ext: str) -> Decimal:
        return sum((Decimal(str(p.get("UnappliedAmt", 0))) for p in self._ours(ext)), Decimal(0))

    def amount_due(self, ext: str) -> Decimal:
        return Decimal(str(self.qbo.entity(self.realm, "Invoice", ext)["Balance"]))

    def pay_elsewhere(self, ext: str, amount: Decimal) -> None:
        self.qbo.ledger.record_payment(self.realm, ext, amount, reference="cash at the counter")

    def credit(self, ext: str, amount: Decimal) -> None:
        """A credit memo applied to the invoice the QuickBooks way: a zero Payment linking both."""
        inv = self.qbo.entity(self.realm, "Invoice", ext)
        memo = self.qbo.ledger.create_credit_memo(self.realm, inv["CustomerRef"]["value"], amount)
        self.qbo.ledger.create(
            self.realm,
            "Payment",
            {
                "CustomerRef": dict(inv["CustomerRef"]),
                "TotalAmt": Decimal(0),
                "Line": [
                    {"Amount": amount, "LinkedTxn": [{"TxnId": ext, "TxnType": "Invoice"}]},
                    {"Amount": amount, "LinkedTxn": [{"TxnId": memo.id, "TxnType": "CreditMemo"}]},
                ],
            },
        )

    def void(self, ext: str) -> None:
        self.qbo.ledger.void_invoice(self.realm, ext)

    def recreate(self, ext: str) -> str:
        old = self.qbo.entity(self.realm, "Invoice", ext)
        self.qbo.ledger.void_invoice(self.realm, ext)
        new = self.qbo.ledger.create_invoice(
            self.realm,
            old["CustomerRef"]["value"],
            Decimal(str(old["TotalAmt"])),
            doc_number=old.get("DocNumber"),
            due_date=date.fromisoformat(old["DueDate"]) if old.get("DueDate") else None,
        )
        return new.id

    def our_payment_ids(self, ext: str) -> list[str]:
        return [
            p["Id"]
            for p in self._ours(ext)
            if any(t.get("TxnId") == ext for line in p.get("Line", []) for t in line.get("LinkedTxn", []))
        ]

    def delete_payment(self, payment_id: str) -> None:
        self.qbo.ledger.delete_entity(self.realm, "Payment", payment_id)

    def foreign_invoice(self) -> str:
        with self.rt.sessions() as session:
            conn = session.scalars(select(Connection)).one()
            base = (conn.settings or {}).get("base_currency")
            rows = session.scalars(select(Invoice).where(Invoice.currency != base, Invoice.status == "scheduled"))
            found = [r.external_id for r in rows]
        if not found:
            raise AssertionError("the seed has no foreign-currency invoice")
        return found[0]


@pytest.fixture
def quickbooks_book(db_url: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[QboBook]:
    options = request.node.funcargs.get("_book_options") or {}
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with QuickBooksSandbox(seed=5, realms=1, invoices_per_realm=45, limits=RateLimits.unlimited()) as sandbox:
        world = QboWorld(sandbox, db_url, monkeypatch, **options)
        yield QboBook(world)
        world.rt.close()


@pytest.fixture(params=["xero", "quickbooks"])
def book(request: pytest.FixtureRequest) -> Book:
    """The same scenario, once on each ledger; ``("xero", {options})`` sets the connection's options."""
    provider, options = request.param if isinstance(request.param, tuple) else (request.param, {})
    request.node.funcargs["_book_options"] = options
    return request.getfixturevalue(f"{provider}_book")


def audit_clearing(book: Book, before: Decimal, in_transit: Decimal = Decimal(0)) -> None:
    """Clearing holds exactly the money collected and not yet paid out (zero after every payout)."""
    assert book.clearing_balance() - before == in_transit


def attention(book: Book, ext: str) -> tuple[bool, Decimal | None, str]:
    row = book.row(ext)
    return row.needs_attention, row.refund_due, row.attention_reason or ""


__all__ = ["TODAY", "Book", "QboWorld", "XeroBook", "attention", "audit_clearing", "timedelta"]
