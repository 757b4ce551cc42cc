"""``connector user add``: the password from a prompt or stdin, hashed with argon2."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import create_engine, text


def _run(tmp_path, *args: str, stdin: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONNECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite'}"}
    return subprocess.run(
        [sys.executable, "-m", "connector.cli", "user", "add", *args], input=stdin, env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=60,
    )


def test_add_from_stdin_then_change_the_password(tmp_path) -> None:
    added = _run(tmp_path, "ana", "--role", "admin", "--password-stdin", stdin="a long enough secret\n")
    assert added.returncode == 0, added.stderr
    assert "Added ana (admin)" in added.stdout and "a long enough secret" not in added.stdout + added.stderr
    engine = create_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    with engine.connect() as conn:
        first = conn.execute(text("SELECT role, password_hash FROM users")).one()
    assert first.role == "admin" and first.password_hash.startswith("$argon2id$")
    again = _run(tmp_path, "ana", "--password-stdin", stdin="another long secret\n")
    assert again.returncode == 0 and "password is changed" in again.stdout
    with engine.connect() as conn:
        assert conn.execute(text("SELECT password_hash FROM users")).scalar_one() != first.password_hash


def test_bad_role_and_short_password_are_one_line_and_exit_2(tmp_path) -> None:
    bad_role = _run(tmp_path, "ana", "--role", "boss", "--password-stdin", stdin="a long enough secret\n")
    short = _run(tmp_path, "bob", "--password-stdin", stdin="short\n")
    assert bad_role.returncode == 2 and "role must be one of" in bad_role.stdout + bad_role.stderr
    assert short.returncode == 2 and "at least 10 characters" in short.stdout + short.stderr
