"""Fixtures for the actions: a seeded database, the CLI on it, and a timeline that two calls can compare.

The parity tests call each action twice on twin invoices (same facts, another number): once
directly and once through the ``connector`` command. The twins' timelines, states and errors
must then be the same: the CLI adds nothing and loses nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from connector.domain import LedgerStatus
from connector.runtime import Runtime
from connector.store.models import ActivityEvent, Connection, Invoice
from connector.sync.apply import NewInvoice, create_invoice
from tests.ledger_kit import cli_runner

TODAY = date.today()


@pytest.fixture
def cli(runtime, db_url, monkeypatch, tmp_path):
    """Run the command against the test database; returns (exit code, stdout, stderr)."""
    return cli_runner(db_url, monkeypatch, tmp_path)


def add_invoice(rt: Runtime, number: str, *, amount: str = "120.00", contact: str = "Bayside Club") -> int:
    with rt.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        row = create_invoice(
            session,
            conn,
            NewInvoice(
                number=number,
                contact_name=contact,
                currency="GBP",
                total=Decimal(amount),
                amount_due=Decimal(amount),
                issue_date=TODAY,
                due_date=TODAY + timedelta(days=10),
                ledger_status=LedgerStatus.OPEN,
                external_id=f"x-{number}",
            ),
            today=TODAY,
        )
        return row.id


@pytest.fixture
def twins(runtime) -> tuple[str, str]:
    """Two scheduled invoices alike in every way that matters: INV-D (direct) and INV-C (CLI)."""
    add_invoice(runtime, "INV-D")
    add_invoice(runtime, "INV-C")
    return "INV-D", "INV-C"


def story(rt: Runtime, number: str) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """The invoice's timeline and state, with its own number taken out, so twins compare equal."""
    with rt.sessions() as session:
        inv = session.scalars(select(Invoice).where(Invoice.number == number)).one()
        events = session.scalars(
            select(ActivityEvent).where(ActivityEvent.invoice_id == inv.id).order_by(ActivityEvent.id)
        )
        timeline = [
            (
                e.kind,
                e.outcome,
                e.from_status,
                e.to_status,
                e.source,
                e.actor,
                e.detail.replace(number, "#"),
                {k: v for k, v in (e.data or {}).items() if k != "outbox_entry"},  # ids differ,
            )
            for e in events
        ]
        state = {
            k: getattr(inv, k)
            for k in (
                "status",
                "amount_due",
                "paid_amount",
                "attempts",
                "needs_attention",
                "attention_reason",
                "refund_due",
                "collection_date",
                "payment_posted",
                "paid_via",
            )
        }
        if state["attention_reason"]:
            state["attention_reason"] = state["attention_reason"].replace(number, "#")
        return timeline, state


def same_story(rt: Runtime, direct: str, via_cli: str) -> None:
    assert story(rt, direct) == story(rt, via_cli)
