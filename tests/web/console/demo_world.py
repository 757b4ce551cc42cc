"""Demo-like data for the console's browser tests: a Xero sandbox over real HTTP, two organisations
synced by the real adapter, and the platform's story played through the actions layer.

``connector demo``'s own flow, built here (that module belongs to the demo): INV-0008 is the invoice
whose direct debit failed (insufficient funds) and was retried and confirmed; a few more are
collected and paid out; one invoice is submitted (a ledger payment then makes a conflict); one
payment's push fails while the sandbox answers 503 (left waiting with the error); one invoice
arrives again through the platform's own channel (a duplicate).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import requests
from sqlalchemy import select

from connector.actions import Actor
from connector.actions import platform as platform_actions
from connector.actions.users import add_user
from connector.domain import LedgerStatus
from connector.sandbox.xero import RateLimits, XeroSandbox
from connector.store.models import Connection, Invoice, OutboxEntry
from connector.sync.apply import NewInvoice, create_invoices
from tests.e2e.conftest import TODAY, World, make_world
from tests.web.kit import PASSWORD

PLATFORM = Actor.platform("demo platform")
#: Seed 1 makes INV-0008 of the first organisation an open invoice in its own currency.
SEED = 1


@dataclass
class Demo:
    world: World
    ids: dict[str, int] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)

    @property
    def rt(self) -> Any:
        return self.world.rt

    def row(self, key: str) -> Invoice:
        with self.rt.sessions() as session:
            return session.get(Invoice, self.ids[key])

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """The sandbox's admin routes, over HTTP, as a person testing by hand would use them."""
        response = requests.request(method, f"{self.world.xero.base_url}/__sandbox{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def pay_in_xero(self, key: str) -> None:
        """Someone records a payment in Xero itself (a token from the admin route, then Xero's API)."""
        token = self.admin("POST", "/tokens")["access_token"]
        row = self.row(key)
        response = requests.put(
            f"{self.world.xero.accounting_url}/Payments",
            json={
                "Payments": [
                    {
                        "Invoice": {"InvoiceID": row.external_id},
                        "Account": {"Code": "090"},
                        "Amount": str(row.amount_due),
                        "Date": TODAY.isoformat(),
                        "Reference": "paid by bank transfer",
                    }
                ]
            },
            headers={
                "Authorization": f"Bearer {token}",
                "xero-tenant-id": self.world.tenant("nz"),
                "Accept": "application/json",
            },
            timeout=10,
        )
        assert response.status_code == 200, response.text


def _event(rt: Any, kind: str, ids: list[int], **options: Any) -> None:
    platform_actions.record_event(rt, kind, [f"#{i}" for i in ids], actor=PLATFORM, **options)


def build_demo(xero: XeroSandbox, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Demo:
    world = make_world(xero, db_url, monkeypatch)
    demo = Demo(world)
    rt = world.rt
    for name in ("nz", "us"):
        assert world.sync(name).state == "succeeded"
    nz = world.connection_id("nz")
    with rt.sessions() as session:
        scheduled = list(
            session.scalars(
                select(Invoice)
                .where(Invoice.connection_id == nz, Invoice.status == "scheduled", Invoice.needs_attention.is_(False))
                .order_by(Invoice.id)
            )
        )
    by_number = {i.number: i for i in scheduled}
    retried = by_number.pop("INV-0008")
    others = list(by_number.values())
    collected, submitted, failing, to_change = others[:3], others[3], others[4], others[5]
    demo.ids.update(retried=retried.id, submitted=submitted.id, failing=failing.id, change=to_change.id)
    demo.numbers.update(
        {
            k: i.number
            for k, i in (("retried", retried), ("submitted", submitted), ("failing", failing), ("change", to_change))
        }
    )

    paid = [retried.id, *(i.id for i in collected)]
    _event(rt, "collection_started", [*paid, submitted.id, failing.id])
    _event(rt, "collection_failed", [retried.id], reason="insufficient funds")
    _event(rt, "collection_started", [retried.id])
    for invoice_id in paid:
        _event(rt, "collection_confirmed", [invoice_id], reference=f"DD-{invoice_id}")
    fee = sum((i.amount_due * Decimal("0.01") for i in [retried, *collected]), Decimal("0.20")).quantize(
        Decimal("0.01")
    )
    platform_actions.record_payout(rt, [f"#{i}" for i in paid], actor=PLATFORM, fee=fee, reference="PO-DEMO-1")
    assert world.sync("nz").state == "succeeded"  # the payments, transfer and fee go to Xero

    # One more payment, pushed while Xero answers 503: it waits with the error.
    _event(rt, "collection_confirmed", [failing.id], reference="DD-F")
    demo.admin("POST", "/faults", data="503=60x")
    world.sync("nz", do_import=False)
    with rt.sessions() as session:
        entry = session.scalars(
            select(OutboxEntry).where(OutboxEntry.invoice_id == failing.id, OutboxEntry.kind == "payment")
        ).one()
        assert entry.state == "pending" and entry.last_error, (entry.state, entry.last_error)
        demo.ids["entry"] = entry.id
    demo.admin("POST", "/faults", data="503=60x")  # still failing until a person clears it

    # The same invoice again through the platform's own channel: a duplicate of the ledger's.
    with rt.transaction() as session:
        original = session.get(Invoice, others[6].id)
        [dup] = create_invoices(
            session,
            None,
            [
                NewInvoice(
                    number=original.number,
                    contact_name=original.contact_name,
                    currency=original.currency,
                    total=original.total,
                    amount_due=original.amount_due,
                    issue_date=original.issue_date,
                    due_date=original.due_date,
                    ledger_status=LedgerStatus(original.ledger_status),
                )
            ],
            today=TODAY,
        )
        assert dup.status == "duplicate"
        demo.ids.update(duplicate=dup.id, original=original.id)
    add_user(rt, "sam", "support", PASSWORD)
    return demo


@pytest.fixture
def demo(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    with XeroSandbox(seed=SEED, tenants=2, invoices_per_tenant=25, limits=RateLimits.unlimited()) as xero:
        built = build_demo(xero, db_url, monkeypatch)
        try:
            yield built
        finally:
            built.rt.close()


def connection_ids(rt: Any) -> dict[str, int]:
    with rt.sessions() as session:
        return {c.name: c.id for c in session.scalars(select(Connection))}
