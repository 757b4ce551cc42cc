"""Issue 17.1: a sync killed mid-run leaves nothing stuck.

Before: the killed run stayed ``running`` for ever, its lock held the connection for 15
minutes, and the next ``connector sync`` exited 0 having done nothing ("skipped: being synced
by vm:14003").
"""

from __future__ import annotations

import json
import signal

from tests.reliability.conftest import wait_for


def test_a_sync_killed_with_sigkill_is_taken_over_by_the_next_sync_at_once(deployed):
    deployed.xero.faults.add("latency=400")  # every API call is slow: the sync is mid-run when killed
    first = deployed.start("sync", "--json")
    wait_for("the first page to be written", lambda: deployed.invoice_count() > 0, first)
    first.send_signal(signal.SIGKILL)
    first.wait()  # reaped: its pid is gone, as after any crash
    assert first.returncode == -signal.SIGKILL
    left = deployed.runs()
    assert [r.state for r in left] == ["running"]  # what the crash leaves behind
    assert deployed.connection().lock_owner is not None
    assert deployed.invoice_count() < len(deployed.sales_invoice_ids())

    deployed.xero.faults.clear()
    second = deployed.run("sync", "--json")
    assert second.returncode == 0, second.stderr
    [result] = json.loads(second.stdout)
    assert result["state"] == "succeeded", result
    crashed, done = deployed.runs()
    assert crashed.state == "interrupted"
    assert crashed.finished_at is not None
    assert f":{first.pid}" in crashed.error and "gone" in crashed.error  # one line: whose process, what happened
    assert "\n" not in crashed.error
    assert done.state == "succeeded"
    assert deployed.connection().lock_owner is None
    ours = deployed.our_external_ids()
    assert sorted(ours) == sorted(set(ours))  # every invoice once
    assert set(ours) >= deployed.sales_invoice_ids()


def test_a_sync_that_did_nothing_exits_non_zero(deployed):
    """Every requested connection skipped (here: held by a live sync elsewhere): the exit code says so."""
    from datetime import timedelta

    from connector.store.models import Connection
    from connector.store.types import utcnow

    with deployed.rt.transaction() as session:
        connection = session.get(Connection, deployed.connection_id)
        connection.lock_owner = "another-host:4242"  # a live sync on another machine, as the old code wrote it
        connection.lock_expires_at = utcnow() + timedelta(minutes=10)
    skipped = deployed.run("sync", "--json")
    [result] = json.loads(skipped.stdout)
    assert result["state"] == "skipped"
    assert "another-host:4242" in result["error"]
    assert skipped.returncode != 0
    assert deployed.runs() == []  # nothing was started
