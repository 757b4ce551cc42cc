"""Issue 17.4 (#11): a database outage is one log line when it begins and one when it ends.

Before: every job turn during an outage raised out of the job (APScheduler logged a full
traceback each time, every minute for the push job) and nothing backed off. The outage here is
real: the SQLite file's folder is moved away, or the PostgreSQL database stops accepting
connections and its sessions are ended.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from connector.runtime import open_runtime
from connector.store.db import normalise_url
from jobs.daemon import DatabaseWatch, build_scheduler
from tests.conftest import PG_URL, is_postgres, make_config


class Clock:
    """The watch's clock: it moves when the test says, nobody sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def outage_rt(tmp_path):
    """A runtime and a way to take its database away for real, then give it back."""
    if is_postgres():
        base = make_url(normalise_url(PG_URL))
        name = f"{base.database}_o{uuid.uuid4().hex[:8]}"
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        rt = open_runtime(config=make_config(base.set(database=name).render_as_string(hide_password=False)))

        @contextmanager
        def away():
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
                )
            try:
                yield
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))

        yield rt, away
        rt.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    folder = tmp_path / "db"
    rt = open_runtime(config=make_config(f"sqlite:///{folder / 'connector.sqlite'}"))

    @contextmanager
    def away():
        moved = Path(shutil.move(folder, tmp_path / "db-away"))
        rt.engine.dispose()  # open connections would still see the moved file
        try:
            yield
        finally:
            shutil.move(moved, folder)

    yield rt, away
    rt.close()


def test_an_outage_is_one_line_down_one_line_back_with_backoff(outage_rt, caplog):
    rt, away = outage_rt
    clock = Clock()
    scheduler = build_scheduler(rt, watch=DatabaseWatch(clock=clock))
    push = scheduler.get_job("push")  # the most frequent job: every minute
    watch = scheduler._connector_jobs.watch

    def turn():
        return push.func(*push.args, **push.kwargs)

    caplog.set_level(logging.DEBUG, logger="connector")
    assert turn() is not None  # the database is there: the job runs

    with away():
        for _ in range(30):  # half an hour of push turns
            assert turn() is None  # nothing raised out of the job
            clock.now += 60
    down = [r for r in caplog.records if "database unreachable" in r.getMessage()]
    assert len(down) == 1
    assert "\n" not in down[0].getMessage()
    assert all(r.exc_info is None for r in caplog.records)  # no traceback, ever
    # Backoff 5 s doubling to 5 min, on one-minute turns: tried at minutes 0, 1, 2, 3, 4, 6, 9, 14, 19, 24, 29.
    assert watch.failures == 11

    caplog.clear()
    clock.now += 300  # past the last backoff: the next turn tries
    assert turn() is not None  # back: the job ran
    back = [r for r in caplog.records if "database reachable again" in r.getMessage()]
    assert len(back) == 1 and "11 failed attempt(s)" in back[0].getMessage()
    caplog.clear()
    turn()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # nothing more to say

    with away():  # a second outage: its own single line
        turn()
        clock.now += 60
        turn()
    assert len([r for r in caplog.records if "database unreachable" in r.getMessage()]) == 1
    assert all(r.exc_info is None for r in caplog.records)
