"""Two schedulers, one leader: the second says so and waits, takes over when the leader dies, and
between them no job is ever queued twice (nothing consumes the queue here, so it shows every message).
"""

from __future__ import annotations

import contextlib

import pytest

from connector.engine import state
from connector.engine.celery_app import QUEUES, make_app, queue_name
from connector.web.metrics import queue_depths
from tests.engine.conftest import deploy
from tests.engine.kit import wait_for


def _said(d, proc, text: str) -> bool:
    return any(text in line.get("message", "") for line in d.cluster.log_lines(proc))


def test_one_leader_queues_each_job_once_and_a_second_takes_over(services, tmp_path, monkeypatch):
    from connector.sandbox.xero import XeroSandbox

    with XeroSandbox(seed=5, tenants=3, invoices_per_tenant=1) as xero:
        d = deploy(
            services, tmp_path, monkeypatch, xero=xero, xero_tenants=xero.tenant_ids, schedule={"push_every": "1h"}
        )
        try:
            first = d.cluster.scheduler("s1", "--tick", "0.5", "--lease", "3")
            wait_for("the first scheduler to lead", lambda: _said(d, first, "leading"), [first])
            second = d.cluster.scheduler("s2", "--tick", "0.5", "--lease", "3")
            wait_for("the second to say who leads", lambda: _said(d, second, "another scheduler leads"), [second])
            # the leader ticked many times meanwhile (every 0.5 s while the second started): still one
            # import per connection waiting, never one per tick
            wait_for("the queues to fill", lambda: queue_depths(d.rt).get("sync", (0, 0))[0] >= 3, [first, second])
            assert queue_depths(d.rt)["sync"][0] == 3
            assert all(state.is_queued(d.rt.config.engine.redis_url, "import", name) for name in d.connections)

            d.cluster.kill9(first)
            wait_for("the second to take over", lambda: _said(d, second, "leading"), [second], polls=600)
            # the new leader carries on from the timetable: nothing queued again while it waits
            depths = queue_depths(d.rt)
            assert depths["sync"][0] == 3, depths
            assert depths["notify"][0] == 2  # notify and the overdue sweep, once each

            third = d.cluster.scheduler("s3", "--tick", "0.5", "--lease", "3", "--once")
            wait_for("a third to say it waits", lambda: _said(d, third, "another scheduler leads"), [third])
            d.cluster.stop(second)  # SIGTERM gives the lease back at once
            assert third.wait(timeout=60) == 0
            assert _said(d, third, "leading")
        finally:
            d.cluster.stop_all()
            _purge(d)
            d.rt.close()


def _purge(d) -> None:
    app = make_app(d.rt.config)
    with app.connection_for_write() as conn:
        for q in QUEUES:
            with contextlib.suppress(Exception):
                conn.default_channel.queue_purge(queue_name(q))


def test_a_bad_broker_is_one_line_and_exit_code_2(services, tmp_path, monkeypatch):
    import subprocess

    from tests.engine.kit import engine_command, write_config

    for broker, expected in (
        ("amqp://guest:hunter2@127.0.0.1:1//", "cannot reach the broker"),
        ("amqp://guest:hunter2@127.0.0.1:notaport//", "cannot reach the broker"),
    ):
        config = write_config(
            tmp_path / "bad.toml", database=services.database, broker=broker, xero=None, qbo=None, connections=[]
        )
        for command in ("worker", "scheduler"):
            done = subprocess.run(engine_command(config, command), capture_output=True, text=True, timeout=120)
            assert done.returncode == 2, done.stderr
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and expected in lines[0] and "hunter2" not in done.stderr, done.stderr


@pytest.mark.parametrize("queues", ["sync,bogus"])
def test_an_unknown_queue_is_refused(queues, services, tmp_path):
    import subprocess

    from tests.engine.kit import engine_command, write_config

    config = write_config(
        tmp_path / "c.toml",
        database=services.database,
        broker="amqp://guest:guest@127.0.0.1//",
        xero=None,
        qbo=None,
        connections=[],
    )
    done = subprocess.run(engine_command(config, "worker", "--queues", queues), capture_output=True, text=True)
    assert done.returncode == 2 and "bogus" in done.stderr
