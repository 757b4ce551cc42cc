"""Issue 17.3 (#10): processes starting together on an empty database migrate it once, in turn.

Before: PostgreSQL raised UniqueViolation on ``alembic_version``, SQLite "database is locked".
"""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text

from connector.store.db import make_engine
from connector.store.migrate import current_revision, head_revision
from tests.reliability.conftest import child_env, connector_command, wait_for

#: Imports everything, says it is ready, waits for the shared "go", then runs the connector command.
TOGETHER = """
import sys, time
from pathlib import Path
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
sys.argv = ["connector", *sys.argv[3:]]
from connector.cli import main
ready.touch()
while not go.exists():
    time.sleep(0.001)
main()
"""


def test_four_processes_starting_together_on_an_empty_database(empty_db_url, tmp_path):
    env = child_env(CONNECTOR_DATABASE_URL=empty_db_url)
    go = tmp_path / "go"
    commands = [["init-db"], ["status", "--json"], ["init-db"], ["status", "--json"]]
    procs = []
    for i, command in enumerate(commands):
        ready = tmp_path / f"ready-{i}"
        procs.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", TOGETHER, str(ready), str(go), *command],
                    cwd=tmp_path,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )

    def all_ready() -> bool:
        for _, p in procs:
            if p.poll() is not None:  # died before the start: show why
                out, err = p.communicate()
                raise AssertionError(f"a process ended before the start (exit {p.returncode}):\n{out}\n{err}")
        return all(ready.exists() for ready, _ in procs)

    wait_for("every process to be ready", all_ready)
    go.touch()
    outcomes = [(p.communicate(timeout=600), p.returncode) for _, p in procs]
    for (_out, err), code in outcomes:
        assert code == 0, err
    engine = make_engine(empty_db_url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()


def test_a_process_that_must_wait_for_a_migration_says_so(empty_db_url, tmp_path):
    from connector.store.migrate import migration_lock

    engine = make_engine(empty_db_url)
    try:
        with migration_lock(engine):  # another process is migrating
            proc = subprocess.Popen(
                connector_command("init-db"),
                cwd=tmp_path,
                env=child_env(CONNECTOR_DATABASE_URL=empty_db_url),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            said = proc.stderr.readline()
            assert "waiting" in said and "migrat" in said, said
            assert proc.poll() is None  # it waits, it does not crash
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        assert f"database at revision {head_revision()}" in out
    finally:
        engine.dispose()
