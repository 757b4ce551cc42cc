"""Actions: dismiss a quarantined record with a reason; release re-reads it from the ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connector.actions import Actor, NotFound, RefusedAction
from connector.actions import quarantine as actions
from connector.store.models import Connection, QuarantinedRecord


def quarantined(runtime, external_id: str | None = "x-bad") -> int:
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        record = QuarantinedRecord(
            connection_id=conn.id,
            stream="invoices",
            external_id=external_id,
            reason="unknown status 'WEIRD'",
            raw="{}",
        )
        session.add(record)
        session.flush()
        return record.id


def test_dismiss_direct_and_cli_alike(runtime, cli):
    direct, via_cli = quarantined(runtime), quarantined(runtime)
    result = actions.dismiss_record(runtime, direct, "a test record in the ledger", actor=Actor.person("jo"))
    assert result.state == "dismissed"
    code, out, _ = cli("quarantine", "dismiss", str(via_cli), "--reason", "a test record in the ledger", "--as", "jo")
    assert code == 0 and "dismissed by jo" in out
    with runtime.sessions() as session:
        rows = [session.get(QuarantinedRecord, i) for i in (direct, via_cli)]
        assert [(r.dismissed_reason, r.resolved_by) for r in rows] == [("a test record in the ledger", "jo")] * 2
        assert all(r.resolved_at for r in rows)


def test_a_resolved_record_cannot_be_resolved_again(runtime, cli):
    record = quarantined(runtime)
    actions.dismiss_record(runtime, record, "done", actor=Actor.person("jo"))
    with pytest.raises(RefusedAction, match="already resolved"):
        actions.dismiss_record(runtime, record, "again", actor=Actor.person("jo"))
    code, _, err = cli("quarantine", "release", str(record))
    assert code == 2 and "already resolved" in err
    with pytest.raises(NotFound):
        actions.release_record(runtime, 4242, actor=Actor.person("jo"))


def test_a_record_without_a_ledger_id_cannot_be_re_read(runtime):
    record = quarantined(runtime, external_id=None)
    with pytest.raises(RefusedAction, match="no ledger id"):
        actions.release_record(runtime, record, actor=Actor.person("jo"))


def test_the_queue_lists_open_records_with_ids(runtime, cli):
    record = quarantined(runtime)
    code, out, _ = cli("quarantine", "list")
    assert code == 0 and str(record) in out and "unknown status" in out
