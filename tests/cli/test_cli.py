"""The ``connector`` command as a person uses it: one-line errors, exit code 2, nothing changed."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from connector.domain import LedgerStatus
from connector.store.migrate import head_revision
from connector.store.models import Base, Connection, Invoice, OutboxEntry
from connector.sync.apply import NewInvoice, create_invoice
from tests.ledger_kit import cli_runner

TODAY = date.today()


@pytest.fixture
def cli(runtime, db_url, monkeypatch, tmp_path):
    """Run the command against the test database; returns (exit code, stdout, stderr)."""
    return cli_runner(db_url, monkeypatch, tmp_path)


@pytest.fixture
def seeded(runtime):
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        for i, (status, contact) in enumerate(
            [
                (LedgerStatus.OPEN, "Bayside Club"),
                (LedgerStatus.OPEN, "City Limousines"),
                (LedgerStatus.DRAFT, "Boom FM"),
            ]
        ):
            create_invoice(
                session,
                conn,
                NewInvoice(
                    number=f"INV-{i + 1}",
                    contact_name=contact,
                    currency="NZD",
                    total=Decimal("100.00"),
                    amount_due=Decimal("100.00"),
                    issue_date=TODAY,
                    due_date=TODAY + timedelta(days=7),
                    ledger_status=status,
                    external_id=f"x-{i + 1}",
                ),
                today=TODAY,
            )
    return runtime


def dump(runtime) -> dict[str, list[tuple]]:
    """Every row of every table: the 'changed nothing' check."""
    with runtime.engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t.name}"))), key=repr)
            for t in Base.metadata.sorted_tables
        }


def test_status_as_table_and_json(cli, seeded):
    code, out, _ = cli("status")
    assert code == 0 and "acme" in out and "scheduled" in out
    code, out, _ = cli("status", "--json")
    data = json.loads(out)
    assert data["counts"]["acme"]["scheduled"] == 2
    assert data["counts"]["acme"]["draft"] == 1


def test_platform_events_move_invoices_and_queue_ledger_writes(cli, seeded):
    assert cli("platform", "collection-started", "INV-1", "INV-2")[0] == 0
    code, _, err = cli("platform", "collection-failed", "INV-2", "--reason", "insufficient funds")
    assert code == 0, err
    assert cli("platform", "collection-confirmed", "INV-1", "--reference", "DD-1")[0] == 0
    code, out, err = cli("platform", "payout", "INV-1", "--fee", "1.50", "--amount", "98.50", "--reference", "PO-1")
    assert code == 0, err
    assert "98.50" in out
    with seeded.transaction() as session:
        inv1 = session.scalars(select(Invoice).where(Invoice.number == "INV-1")).one()
        inv2 = session.scalars(select(Invoice).where(Invoice.number == "INV-2")).one()
        assert (inv1.status, inv1.paid_via) == ("settled", "platform")
        assert (inv2.status, inv2.attempts) == ("scheduled", 1)
        kinds = sorted(e.kind for e in session.scalars(select(OutboxEntry)) if e.kind != "ledger_note")
        assert kinds == ["payment", "payout"]
    code, out, _ = cli("activity", "INV-2", "--json")
    events = json.loads(out)["events"]
    assert [e["kind"] for e in events] == ["imported", "collection_started", "collection_failed"]
    assert "insufficient funds" in events[-1]["detail"]
    code, out, _ = cli("activity", "INV-2")
    assert code == 0 and "submitted → scheduled" in out


def test_a_payout_that_does_not_add_up_changes_nothing(cli, seeded):
    cli("platform", "collection-started", "INV-1")
    cli("platform", "collection-confirmed", "INV-1")
    before = dump(seeded)
    code, _, err = cli("platform", "payout", "INV-1", "--fee", "1.50", "--amount", "99.00")
    assert code == 2 and "net 99.00" in err and len(err.strip().splitlines()) == 1
    assert dump(seeded) == before


def test_set_status_follows_the_table_and_logs_the_reason(cli, seeded):
    code, out, err = cli("invoice", "set-status", "INV-1", "voided", "--reason", "customer closed", "--yes")
    assert code == 0, err
    code, out, _ = cli("activity", "INV-1", "--json")
    last = json.loads(out)["events"][-1]
    assert (last["to"], last["source"]) == ("voided", "person")
    assert "customer closed" in last["detail"]


def test_set_status_asks_for_confirmation(cli, seeded):
    before = dump(seeded)
    code, _, _ = cli("invoice", "set-status", "INV-1", "voided", "--reason", "x", input="n\n")
    assert code == 2 and dump(seeded) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("invoice", "set-status", "INV-1", "settled", "--reason", "r", "--yes"), "cannot go from scheduled"),
        (("invoice", "set-status", "INV-9", "voided", "--reason", "r", "--yes"), "no invoice 'INV-9'"),
        (("activity", "NOPE"), "no invoice 'NOPE'"),
        (("platform", "collection-started", "INV-404"), "no invoice 'INV-404'"),
        (("platform", "payment-received", "INV-1", "--date", "yesterday"), "--date: expected YYYY-MM-DD"),
    ],
)
def test_user_errors_are_one_line_exit_2_and_change_nothing(cli, seeded, args, message):
    before = dump(seeded)
    code, _, err = cli(*args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert dump(seeded) == before


def test_a_bad_config_is_one_line_exit_2(cli, tmp_path, monkeypatch, seeded):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[connections]]\nname = "a"\nprovider = "xero"\naccounts = { clearing = "1", bank = "2", '
        'fees = "3" }\nschedule = { import_every = "15x" }\n'
    )
    before = dump(seeded)
    code, _, err = cli("--config", str(bad), "status")
    assert code == 2
    assert f"{bad}: connections[0].schedule.import_every: expected a duration" in err
    assert len(err.strip().splitlines()) == 1
    assert dump(seeded) == before


def test_a_refused_platform_event_is_logged_and_exits_2(cli, seeded):
    code, _, err = cli("platform", "collection-confirmed", "INV-1")
    assert code == 2 and "refused" in err
    _, out, _ = cli("activity", "INV-1", "--json")
    assert json.loads(out)["events"][-1]["outcome"] == "refused"


def test_init_db_on_a_fresh_file(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    code, out, _ = cli("init-db")
    assert code == 0 and f"revision {head_revision()}" in out
    code, out, _ = cli("init-db")
    assert "up to date" in out
