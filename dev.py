#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11+.

    python3 dev.py demo        # the main job: the connector end to end on the sandbox ledger
    python3 dev.py test        # ruff, then the suite on SQLite, then again on PostgreSQL if one answers
    python3 dev.py soak [N]    # the reliability soak (tests/soak), N seeded trials per scenario (default 30)
    python3 dev.py screenshots # the browser tests, saving the README's pictures to docs/screenshots/
    python3 dev.py <args>      # any other `connector` command, e.g. `python3 dev.py status`

The first run creates ``.venv`` and installs the project with its dev extras; later runs
reinstall only when ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import uuid
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PG_HOST, PG_PORT = "127.0.0.1", 5432


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def ensure_env() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run, and say so, on an old Python
        sys.exit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == want:
        return
    if not (BIN / "python").exists():
        say("creating .venv")
        venv.create(VENV, with_pip=True)
    say("installing the project and its dev tools into .venv (first run only)")
    pip = [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    stamp.write_text(want)


def run(*args: str, env: dict[str, str] | None = None) -> int:
    return subprocess.run(list(args), cwd=ROOT, env={**os.environ, **(env or {})}).returncode


def postgres_answers() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


def test(pytest_args: list[str], lint: bool = True) -> int:
    code = run(str(BIN / "ruff"), "check", ".") if lint else 0
    if code:
        say("ruff found problems")
        return code
    say("tests on SQLite")
    code = run(str(BIN / "pytest"), *pytest_args)
    if code:
        return code
    if not postgres_answers():
        say(f"no PostgreSQL on {PG_HOST}:{PG_PORT}: the PostgreSQL pass is skipped")
        return 0
    admin = os.environ.get("CONNECTOR_TEST_PG_ADMIN_URL", f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres")
    name = f"connector_test_{uuid.uuid4().hex[:10]}"
    helper = [str(BIN / "python"), "-c", _PG_ADMIN, admin, name]
    if run(*helper, "create"):
        say("PostgreSQL answered but a throwaway database could not be created: failing")
        return 1
    try:
        say(f"tests on PostgreSQL (throwaway database {name})")
        url = admin.rsplit("/", 1)[0] + f"/{name}"
        return run(str(BIN / "pytest"), *pytest_args, env={"CONNECTOR_TEST_DATABASE_URL": url})
    finally:
        run(*helper, "drop")


_PG_ADMIN = """
import sys, psycopg
admin, name, action = sys.argv[1:4]
with psycopg.connect(admin, autocommit=True) as conn:
    if action == "create":
        conn.execute(f'CREATE DATABASE "{name}"')
    else:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
"""


def main(argv: list[str]) -> int:
    ensure_env()
    if argv[:1] == ["test"]:
        return test(argv[1:])
    if argv[:1] == ["soak"]:
        trials = argv[1] if len(argv) > 1 and argv[1].isdigit() else "30"
        say(f"soak: {trials} trials per scenario, seed {os.environ.get('CONNECTOR_SOAK_SEED', '17')}")
        os.environ["CONNECTOR_SOAK_TRIALS"] = trials
        return test(["tests/soak", "-p", "no:cacheprovider", *argv[2:]], lint=False)
    if argv[:1] == ["screenshots"]:
        os.environ["CONNECTOR_SCREENSHOTS"] = str(ROOT / "docs" / "screenshots")
        say(f"browser tests; screenshots go to {os.environ['CONNECTOR_SCREENSHOTS']}")
        return run(str(BIN / "pytest"), "tests/web", "-k", "browser", "-p", "no:cacheprovider", *argv[1:])
    if argv[:1] == ["lint"]:
        return run(str(BIN / "ruff"), "check", ".")
    return run(str(BIN / "connector"), *(argv or ["--help"]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
