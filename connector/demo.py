"""``connector demo``: the platform side of the connector, end to end, on a throwaway SQLite file.

It seeds one ledger connection with invoices, places them (open ones in Scheduled), plays the
platform's events (collections started, one failing and retrying, confirmations, a payout with
a fee) and prints the status table and one invoice's timeline.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from connector.config import Config
from connector.domain import CollectionConfirmed, CollectionFailed, CollectionStarted, LedgerStatus
from connector.runtime import open_runtime
from connector.store.models import Invoice
from connector.sync.apply import NewInvoice, apply_event, create_invoice, record_payout

CUSTOMERS = [
    "Ridgeway University",
    "Bayside Club",
    "City Limousines",
    "Marine Systems",
    "Boom FM",
    "Hamilton Smith Ltd",
    "Petrie McLoud Watson",
    "Port & Philip Freight",
]


def demo(
    folder: Annotated[Path, typer.Option("--folder", help="where the demo database goes")] = Path("demo"),
) -> None:
    """Seed a demo database, play a month of platform events, and show the result."""
    from connector.cli import console, print_status, print_timeline
    from connector.reports import status_report, timeline

    shutil.rmtree(folder, ignore_errors=True)
    config = Config.model_validate(
        {
            "database": {"url": f"sqlite:///{folder / 'connector.sqlite'}"},
            "connections": [
                {
                    "name": "demo-xero",
                    "provider": "xero",
                    "tenant_id": "demo-tenant",
                    "accounts": {"clearing": "090", "bank": "091", "fees": "404"},
                }
            ],
        }
    )
    rt = open_runtime(config=config)
    today = date.today()
    with rt.transaction() as session:
        from sqlalchemy import select

        from connector.store.models import Connection

        conn = session.scalars(select(Connection)).one()
        for i, customer in enumerate(CUSTOMERS):
            ledger_status = LedgerStatus.DRAFT if i == 6 else LedgerStatus.PAID if i == 7 else LedgerStatus.OPEN
            amount = Decimal(250 + 75 * i).quantize(Decimal("0.01"))
            create_invoice(
                session,
                conn,
                NewInvoice(
                    number=f"INV-{1001 + i}",
                    contact_name=customer,
                    currency="GBP",
                    total=amount,
                    amount_due=Decimal(0) if ledger_status is LedgerStatus.PAID else amount,
                    issue_date=today - timedelta(days=20),
                    due_date=today + timedelta(days=i - 2),
                    ledger_status=ledger_status,
                    external_id=f"demo-{i}",
                ),
                today=today,
            )
        # The same invoice raised again in the platform itself: a duplicate until marked original.
        create_invoice(
            session,
            None,
            NewInvoice(
                number="inv 1001",
                contact_name="Ridgeway University Ltd",
                currency="GBP",
                total=Decimal("250.00"),
                amount_due=Decimal("250.00"),
                issue_date=today,
                due_date=today,
                ledger_status=LedgerStatus.OPEN,
            ),
            today=today,
        )
    console.print(f"[bold]Imported {len(CUSTOMERS)} invoices into {folder / 'connector.sqlite'}[/]")

    with rt.transaction() as session:
        scheduled = list(session.scalars(select(Invoice).where(Invoice.status == "scheduled").order_by(Invoice.id)))
        for inv in scheduled:
            apply_event(session, inv, CollectionStarted(occurred_on=today))
        failing = scheduled[1]
        apply_event(session, failing, CollectionFailed(occurred_on=today, detail="insufficient funds"))
        apply_event(session, failing, CollectionStarted(occurred_on=today + timedelta(days=3)))
        for inv in scheduled:
            apply_event(session, inv, CollectionConfirmed(occurred_on=today + timedelta(days=4)))
        record_payout(session, scheduled[:4], on=today + timedelta(days=6), fee=Decimal("12.40"), reference="PO-0001")
    console.print("[bold]Played collections (one failed and was retried), confirmations and a payout[/]\n")

    with rt.transaction() as session:
        print_status(status_report(session))
        failing_row = session.get(Invoice, failing.id)
        assert failing_row is not None
        print_timeline(timeline(session, failing_row))
    rt.close()
