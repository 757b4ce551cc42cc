"""Reconciliation tests reuse the accountant's books (tests/accounting/conftest.py), with the edits a
person makes that reconciliation must catch: each done in the sandbox's books as in the ledger's UI."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.actions.reconcile import ReconcileResult, run_reconcile
from connector.sandbox.xero.state import LineInput
from tests.books import QboBook, XeroBook


def reconcile(book) -> ReconcileResult:
    [result] = run_reconcile(book.rt, connection=book.connection_name, make_ledger=book.world.ledger)
    assert result.state == "succeeded", result.error
    return result


def kinds(result: ReconcileResult) -> set[str]:
    return {d.kind for d in result.findings}


def lifecycle(book, n: int = 2, fee: str = "3.00", reference: str = "PO-R1") -> list[str]:
    """Collected, pushed and paid out: the clean state a reconciliation must agree with."""
    book.sync()
    exts = book.open_invoices(n)
    for ext in exts:
        book.platform("collection_started", ext)
        book.platform("collection_confirmed", ext)
    book.sync()
    book.payout(exts, fee=fee, reference=reference)
    book.sync()
    return exts


class XeroEdits:
    """What an accountant does to the Xero books that reconciliation must find."""

    def __init__(self, book: XeroBook) -> None:
        self.book, self.books, self.tenant = book, book.books, book.tenant

    def t(self):
        return self.books.tenant(self.tenant)

    def copy_payment_marker(self, ext: str, onto: str) -> None:
        [tag] = self.book.markers(ext)
        self.books.add_payment(self.tenant, onto, Decimal("5.00"), account_code="095", reference=f"copied {tag}")

    def edit_total(self, ext: str, total: Decimal) -> None:
        self.t().invoices[ext.lower()].total = total  # as after unapplying, editing and re-applying in the UI

    def delete_fee(self, reference: str) -> None:
        for tx in self.t().bank_transactions.values():
            if tx.type == "SPEND" and reference in (tx.reference or ""):
                tx.status = "DELETED"

    def change_transfer(self, reference: str, amount: Decimal) -> None:
        for tr in self.t().bank_transfers.values():
            if reference in (tr.reference or ""):
                tr.amount = amount

    def receive_into_clearing(self, amount: Decimal) -> None:
        self.books.create_bank_transaction(
            self.tenant,
            type="RECEIVE",
            bank_account_code="095",
            contact_name="Someone",
            lines=[LineInput("Deposited by mistake", Decimal(1), amount, account_code="200", tax_type="NONE")],
            reference="counter deposit",
        )


class QboEdits:
    def __init__(self, book: QboBook) -> None:
        self.book, self.qbo, self.realm = book, book.qbo, book.realm

    def copy_payment_marker(self, ext: str, onto: str) -> None:
        [tag] = self.book.markers(ext)
        inv = self.qbo.entity(self.realm, "Invoice", onto)
        self.qbo.ledger.create(
            self.realm,
            "Payment",
            {
                "CustomerRef": dict(inv["CustomerRef"]),
                "TotalAmt": Decimal("5.00"),
                "DepositToAccountRef": {"value": self.book.clearing},
                "PrivateNote": f"copied {tag}",
                "Line": [{"Amount": Decimal("5.00"), "LinkedTxn": [{"TxnId": onto, "TxnType": "Invoice"}]}],
            },
        )

    def edit_total(self, ext: str, total: Decimal) -> None:
        """QuickBooks lets a person edit a paid invoice's lines: the balance then shows what is unpaid."""
        inv = self.qbo.entity(self.realm, "Invoice", ext)
        lines = [dict(line) for line in inv["Line"] if line.get("DetailType") == "SalesItemLineDetail"]
        amount = Decimal(str(lines[0]["Amount"])) + total - Decimal(str(inv["TotalAmt"]))
        detail = dict(lines[0].get("SalesItemLineDetail") or {})
        detail.update(Qty=Decimal(1), UnitPrice=amount)
        lines[0].update(Amount=amount, SalesItemLineDetail=detail)
        self.qbo.ledger.update_entity(self.realm, "Invoice", ext, Line=lines)

    def _by_note(self, kind: str, reference: str):
        return [
            r
            for r in self.qbo.ledger.books(self.realm).records.get(kind, {}).values()
            if not r.deleted and reference in str(r.doc.get("PrivateNote", ""))
        ]

    def delete_fee(self, reference: str) -> None:
        for r in self._by_note("Purchase", reference):
            self.qbo.ledger.delete_entity(self.realm, "Purchase", r.id)

    def change_transfer(self, reference: str, amount: Decimal) -> None:
        for r in self._by_note("Transfer", reference):
            self.qbo.ledger.update_entity(self.realm, "Transfer", r.id, Amount=amount)

    def receive_into_clearing(self, amount: Decimal) -> None:
        self.qbo.ledger.create(
            self.realm,
            "Deposit",
            {
                "DepositToAccountRef": {"value": self.book.clearing},
                "PrivateNote": "counter deposit",
                "Line": [
                    {
                        "Amount": amount,
                        "DetailType": "DepositLineDetail",
                        "DepositLineDetail": {"AccountRef": {"value": self.book.world.accounts["bank"]}},
                    }
                ],
            },
        )


@pytest.fixture
def edits(book):
    return XeroEdits(book) if book.provider == "xero" else QboEdits(book)
