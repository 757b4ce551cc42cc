"""Issue 17.4 (#11): SIGTERM stops ``connector daemon`` after the current page or batch.

Before: the handler waited for every job in flight to finish, however many pages were left.
Now the sync in flight stops at its next page boundary, its run says so, the lock is released,
and the next start imports the rest.
"""

from __future__ import annotations

import json
import signal

from tests.reliability.conftest import wait_for


def test_sigterm_stops_the_daemon_after_the_current_page(deployed):
    deployed.xero.faults.add("latency=300")
    daemon = deployed.start("daemon")
    wait_for("the first page to be written", lambda: deployed.invoice_count() > 0, daemon)
    daemon.send_signal(signal.SIGTERM)
    _out, err = daemon.communicate(timeout=600)  # a hang guard only
    assert daemon.returncode == 0, err
    assert "stopping" in err
    [run] = deployed.runs()
    assert run.state == "interrupted", run.error
    assert "stopping" in run.error
    assert run.counts["pages"] < 3  # not the whole import: the rest was left for the next start
    assert deployed.invoice_count() < len(deployed.sales_invoice_ids())
    assert deployed.connection().lock_owner is None

    deployed.xero.faults.clear()
    rest = deployed.run("sync", "--json")
    assert rest.returncode == 0, rest.stderr
    assert json.loads(rest.stdout)[0]["state"] == "succeeded"
    ours = deployed.our_external_ids()
    assert len(ours) == len(set(ours)) and set(ours) >= deployed.sales_invoice_ids()


def test_sigterm_stops_a_sync_command_after_the_current_page(deployed):
    deployed.xero.faults.add("latency=300")
    sync = deployed.start("sync", "--json")
    wait_for("the first page to be written", lambda: deployed.invoice_count() > 0, sync)
    sync.send_signal(signal.SIGTERM)
    out, err = sync.communicate(timeout=600)  # a hang guard only
    assert out, err
    [result] = json.loads(out)
    assert result["state"] == "interrupted" and "stopping" in result["error"]
    assert sync.returncode == 1  # interrupted: not a success
    assert deployed.connection().lock_owner is None
    assert [r.state for r in deployed.runs()] == ["interrupted"]


def test_a_daemon_stuck_past_its_grace_exits_and_is_taken_over_at_the_next_start(deployed):
    """The bound holds even when a ledger call does not come back: the daemon leaves after the grace."""
    deployed.xero.faults.add("latency=8000")  # the first ledger call outlasts the grace
    daemon = deployed.start("daemon", "--stop-grace", "1")
    wait_for("the sync to start", lambda: deployed.runs(), daemon)
    # the slow ledger call must be in flight when SIGTERM comes (before it, the run would stop cleanly)
    wait_for("a ledger call in flight", lambda: deployed.xero.limiter.in_flight(deployed.tenant_id), daemon)
    daemon.send_signal(signal.SIGTERM)
    _out, err = daemon.communicate(timeout=600)  # a hang guard only
    assert daemon.returncode == 1, err
    assert "still running after 1 s" in err
    assert [r.state for r in deployed.runs()] == ["running"]  # left behind, as by a crash

    deployed.xero.faults.clear()
    rest = deployed.run("sync", "--json")
    assert rest.returncode == 0, rest.stderr
    assert json.loads(rest.stdout)[0]["state"] == "succeeded"
    left, done = deployed.runs()
    assert left.state == "interrupted" and f":{daemon.pid} is gone" in left.error
    assert done.state == "succeeded"
