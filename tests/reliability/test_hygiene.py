"""Issue 17.5 (#12): the SQLite file is private to its owner; no ``assert`` steers the runner."""

from __future__ import annotations

import ast
import os
import stat
from pathlib import Path

import connector.sync.runner
import connector.sync.runs
from connector.runtime import open_runtime
from tests.conftest import make_config


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "data" / "connector.sqlite"
    old = os.umask(0o022)  # the usual default: files come out world-readable unless made otherwise
    try:
        rt = open_runtime(config=make_config(f"sqlite:///{path}"))
        rt.close()
    finally:
        os.umask(old)
    made = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert path in made
    for file in made:  # the database and its -wal / -shm / lock companions
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name


def test_no_assert_steers_the_runner_or_the_runs():
    """``python -O`` strips asserts: a check that guards behaviour must be a real one."""
    for module in (connector.sync.runner, connector.sync.runs):
        tree = ast.parse(Path(module.__file__).read_text())
        found = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
        assert found == [], f"{module.__name__}: assert at lines {found}"
