"""Reconciliation on both ledgers: a clean lifecycle agrees; each edit a person makes in the ledger is
found with its kind and amount, and resolved once it is put right."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from connector.actions import Actor
from connector.actions.reconcile import repost_payment
from connector.store.models import ActivityEvent, ReconciliationFinding, SyncRun
from tests.reconcile.conftest import kinds, lifecycle, reconcile


def finding(result, kind):
    [d] = [d for d in result.findings if d.kind == kind]
    return d


def test_a_clean_lifecycle_reconciles_with_no_difference(book):
    lifecycle(book)
    result = reconcile(book)
    assert result.findings == [] and Decimal(result.clearing_balance) == Decimal(result.in_transit) == 0
    with book.rt.sessions() as session:
        run = session.get(SyncRun, result.run_id)
        assert run.job == "reconcile" and run.counts["findings"] == 0 and run.api_calls == result.api_calls


def test_a_deleted_payment_is_missing_and_the_one_click_repost_resolves_it(book):
    [ext, _] = lifecycle(book)
    [payment] = book.our_payment_ids(ext)
    book.delete_payment(payment)
    result = reconcile(book)
    missing = finding(result, "payment_missing")
    assert missing.amount == book.row(ext).paid_amount and missing.fix_action == "repost_payment"
    assert "payout_not_netting" in kinds(result)  # the payout's money no longer came in
    with book.rt.sessions() as session:
        row = session.scalars(
            select(ReconciliationFinding).where(ReconciliationFinding.kind == "payment_missing")
        ).one()
        timeline = session.scalars(select(ActivityEvent.kind).where(ActivityEvent.invoice_id == row.invoice_id)).all()
    assert "reconcile_payment_missing" in timeline  # tied to the invoice's timeline
    repost_payment(book.rt, row.id, actor=Actor.person("rae"))
    book.sync()
    again = reconcile(book)
    assert "payment_missing" not in kinds(again) and again.resolved >= 1
    with book.rt.sessions() as session:
        assert session.get(ReconciliationFinding, row.id).resolved_at is not None


def test_a_second_payment_carrying_our_marker_is_doubled(book, edits):
    [ext, _] = lifecycle(book)
    [other] = [x for x in book.open_invoices(3) if x != ext][:1]
    edits.copy_payment_marker(ext, onto=other)
    assert finding(reconcile(book), "payment_doubled").amount == Decimal("5.00")


def test_an_invoice_total_edited_after_it_was_paid(book, edits):
    [ext, _] = lifecycle(book)
    total = book.row(ext).total
    edits.edit_total(ext, total + 10)
    assert finding(reconcile(book), "invoice_edited").amount == Decimal(10)


def test_a_deleted_fee_and_a_changed_transfer(book, edits):
    lifecycle(book, reference="PO-R2")
    edits.delete_fee("PO-R2")
    result = reconcile(book)
    assert finding(result, "payout_fee_missing").amount == Decimal("3.00")
    assert finding(result, "payout_not_netting").amount == Decimal("3.00")
    edits.change_transfer("PO-R2", Decimal("1.00"))
    assert "payout_transfer_changed" in kinds(reconcile(book))


def test_a_manual_entry_in_clearing_is_shown_with_the_entry_that_explains_it(book, edits):
    lifecycle(book)
    edits.receive_into_clearing(Decimal("50.00"))
    found = finding(reconcile(book), "clearing_balance")
    assert found.amount == Decimal("50.00") and "counter deposit" in found.explanation
    assert "explain the whole difference" in found.explanation


def test_an_invoice_voided_while_submitted(book):
    book.sync()
    [ext] = book.open_invoices(1)
    book.platform("collection_started", ext)
    book.void(ext)
    found = finding(reconcile(book), "invoice_voided")
    assert found.platform_value == "submitted"


def test_findings_are_kept_with_first_and_last_seen_and_resolved_when_gone(book, edits):
    lifecycle(book)
    edits.receive_into_clearing(Decimal("7.00"))
    first = reconcile(book)
    second = reconcile(book)
    assert (first.new, second.new) == (1, 0)
    with book.rt.sessions() as session:
        row = session.scalars(select(ReconciliationFinding)).one()
        assert row.first_seen_at <= row.last_seen_at and row.resolved_at is None


def test_a_connection_being_synced_is_skipped_and_changes_nothing(book):
    from connector.store.models import Connection
    from connector.sync.runs import LockOwner, acquire_lock

    lifecycle(book)
    with book.rt.transaction() as session:
        conn_id = session.scalars(select(Connection.id).where(Connection.name == book.connection_name)).one()
        assert acquire_lock(session, conn_id, LockOwner.new())  # a live sync elsewhere in this process
    from connector.actions.reconcile import run_reconcile

    [result] = run_reconcile(book.rt, connection=book.connection_name, make_ledger=book.world.ledger)
    assert result.state == "skipped" and "being synced" in result.error and result.api_calls == 0


def test_findings_are_listed_and_a_lost_payment_reposted_from_the_command_line(book, db_url, monkeypatch, tmp_path):
    import json

    from typer.testing import CliRunner

    from connector.cli import app

    [ext, _] = lifecycle(book)
    [payment] = book.our_payment_ids(ext)
    book.delete_payment(payment)
    reconcile(book)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", db_url)
    runner = CliRunner()
    listed = runner.invoke(app, ["findings", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [missing] = [f for f in json.loads(listed.stdout) if f["kind"] == "payment_missing"]
    assert missing["fix_action"] == "repost_payment"
    reposted = runner.invoke(app, ["findings", "repost", str(missing["id"]), "--yes", "--as", "rae"])
    assert reposted.exit_code == 0, reposted.output
    again = runner.invoke(app, ["findings", "repost", str(missing["id"]), "--yes"])
    assert again.exit_code == 2 and "already waiting" in again.stderr  # one click, not two payments
    book.sync()
    assert "payment_missing" not in kinds(reconcile(book))
    assert book.collected_in_ledger(ext) == book.row(ext).paid_amount
