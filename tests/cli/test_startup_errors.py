"""Config, database and key problems through the real ``connector`` command: one line, exit code 2.

Each names what is wrong (which URL, which file), says what to do, prints no traceback and no
password. A token key that does not open a connection's tokens marks that connection as needing
attention and fails the run, instead of a traceback and a run stored as ``succeeded``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from connector.cli import app
from connector.config import load_config
from connector.runtime import open_runtime
from connector.store.models import Connection, QuarantinedRecord, SyncRun
from connector.store.secrets import TokenSet, TokenVault

CONNECTOR = Path(sys.executable).with_name("connector")
PASSWORD = "s3cret-pw"
TOKEN = TokenSet({"access_token": "acc", "refresh_token": "ref", "expires_at": 1_900_000_000.0})


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_one_line(code: int, out: str, err: str, *expected: str) -> None:
    assert code == 2, (code, out, err)
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in out + err
    assert PASSWORD not in out + err
    for text in expected:
        assert text in err, err


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean working folder with no config file and no database URL in the environment."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
    monkeypatch.delenv("CONNECTOR_DATABASE_URL", raising=False)
    return folder


def bad_urls(tmp_path: Path) -> list[tuple[str, str, str]]:
    """(URL, what the message must say, what must not be there); created under tmp_path."""
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "not-a-db.sqlite").write_text("this is not a SQLite database " * 100)
    return [
        ("notaurl", "not a database URL", ""),
        (f"mysql://me:{PASSWORD}@localhost/books", "mysql", "me:***@localhost"),
        (f"postgresql://me:{PASSWORD}@127.0.0.1:1/books", "port 1", "postgresql://me:***@127.0.0.1:1/books"),
        (f"sqlite:///{tmp_path}/a-file/connector.sqlite", f"{tmp_path}/a-file", "folder"),
        (f"sqlite:///{tmp_path}/a-folder", "unable to open database file", f"{tmp_path}/a-folder"),
        (f"sqlite:///{tmp_path}/not-a-db.sqlite", "file is not a database", f"{tmp_path}/not-a-db.sqlite"),
    ]


CASES = ["notaurl", "mysql", "postgres-unreachable", "sqlite-under-a-file", "sqlite-a-folder", "sqlite-not-a-db"]


@pytest.mark.parametrize("case", range(len(CASES)), ids=CASES)
def test_a_bad_database_url_is_one_line_exit_2(elsewhere, tmp_path, monkeypatch, case):
    url, says, names = bad_urls(tmp_path)[case]
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", url)
    code, out, err = run("status")
    assert_one_line(code, out, err, "CONNECTOR_DATABASE_URL", says, names)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_sqlite_in_a_folder_that_cannot_be_written_is_one_line(elsewhere, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", f"sqlite:///{locked}/sub/connector.sqlite")
    code, out, err = run("status")
    assert_one_line(code, out, err, str(locked))


def test_a_bad_database_url_in_the_config_file_names_the_file_and_key(elsewhere, tmp_path):
    config = tmp_path / "connector.toml"
    config.write_text(f'[database]\nurl = "postgresql//me:{PASSWORD}@db/books"\n')
    code, out, err = run("--config", str(config), "status")
    assert_one_line(code, out, err, f"{config}: database.url: not a database URL", "sqlite:///", "postgresql://")


@pytest.mark.parametrize("case", [0, 1, 2, 3], ids=CASES[:4])
def test_the_installed_command_answers_in_one_line_too(elsewhere, tmp_path, case):
    """``init-db`` opens the database itself: the command's main() catches what it raises."""
    url, says, names = bad_urls(tmp_path)[case]
    env = {**os.environ, "CONNECTOR_DATABASE_URL": url}
    env.pop("CONNECTOR_SECRET_KEY", None)
    done = subprocess.run([str(CONNECTOR), "init-db"], capture_output=True, text=True, env=env, timeout=120)
    assert_one_line(done.returncode, done.stdout, done.stderr, "CONNECTOR_DATABASE_URL", says, names)


# --- token keys --------------------------------------------------------------------------------


def keyed_setup(folder: Path, db_url: str) -> Path:
    """A config in ``folder`` whose key file sits next to it, and one Xero connection."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "connector.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[security]\nkey_env = ""\nkey_file = "keys/token.key"\n'
        '[[connections]]\nname = "acme"\nprovider = "xero"\ntenant_id = "t-1"\n'
        'accounts = { clearing = "090", bank = "091", fees = "404" }\n'
        '[ledgers.xero]\napi_url = "http://127.0.0.1:1/api.xro/2.0"\nidentity_url = "http://127.0.0.1:1"\n'
        'token_url = "http://127.0.0.1:1/token"\n'
    )
    return config


def write_key(path: Path, key: bytes, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key)
    path.chmod(mode)


def test_a_swapped_key_file_marks_the_connection_and_fails_the_run(elsewhere, tmp_path, db_url, monkeypatch):
    monkeypatch.delenv("CONNECTOR_SECRET_KEY")
    config_path = keyed_setup(tmp_path / "etc", db_url)
    rt = open_runtime(config=load_config(config_path))
    with rt.transaction() as session:
        TokenVault(Fernet.generate_key()).save(session, session.scalars(select(Connection)).one(), TOKEN)
    write_key(tmp_path / "etc" / "keys" / "token.key", Fernet.generate_key())  # another valid key

    result = CliRunner().invoke(app, ["--config", str(config_path), "sync"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1  # a failed run, reported in the summary
    assert "Traceback" not in result.stdout + result.stderr
    with rt.sessions() as session:
        connection = session.scalars(select(Connection)).one()
        sync_run = session.scalars(select(SyncRun)).one()
    rt.close()
    key_file = str(tmp_path / "etc" / "keys" / "token.key")
    assert connection.state == "needs_reconnect"
    assert key_file in connection.state_reason and "cannot be opened" in connection.state_reason
    assert sync_run.state == "failed" and key_file in sync_run.error
    assert key_file in result.stderr

    code, out, _ = run("--config", str(config_path), "status", "--json")
    assert code == 0
    (shown,) = json.loads(out)["connections"]
    assert shown["state"] == "needs_reconnect" and key_file in shown["reason"]


def test_a_key_file_others_can_read_is_one_line_exit_2(elsewhere, tmp_path, db_url, monkeypatch):
    monkeypatch.delenv("CONNECTOR_SECRET_KEY")
    config_path = keyed_setup(tmp_path / "etc", db_url)
    write_key(tmp_path / "etc" / "keys" / "token.key", Fernet.generate_key(), mode=0o644)
    code, out, err = run("--config", str(config_path), "sync")
    assert_one_line(code, out, err, str(tmp_path / "etc" / "keys" / "token.key"), "chmod 600")
    rt = open_runtime(config=load_config(config_path))
    with rt.sessions() as session:
        assert [r.state for r in session.scalars(select(SyncRun))] in ([], ["failed"])  # never "succeeded"
    rt.close()


def test_a_swapped_key_is_one_line_when_a_command_needs_the_ledger(elsewhere, tmp_path, db_url, monkeypatch):
    """``quarantine release`` reads the ledger outside a sync: the same key problem, in one line."""
    monkeypatch.delenv("CONNECTOR_SECRET_KEY")
    config_path = keyed_setup(tmp_path / "etc", db_url)
    rt = open_runtime(config=load_config(config_path))
    with rt.transaction() as session:
        connection = session.scalars(select(Connection)).one()
        TokenVault(Fernet.generate_key()).save(session, connection, TOKEN)
        record = QuarantinedRecord(
            connection_id=connection.id, stream="invoices", external_id="x-1", reason="r", raw="{}"
        )
        session.add(record)
        session.flush()
        record_id = record.id
    rt.close()
    write_key(tmp_path / "etc" / "keys" / "token.key", Fernet.generate_key())
    code, out, err = run("--config", str(config_path), "quarantine", "release", str(record_id))
    assert_one_line(code, out, err, str(tmp_path / "etc" / "keys" / "token.key"), "cannot be opened")


def test_a_bad_key_in_the_environment_names_the_variable(elsewhere, tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("CONNECTOR_SECRET_KEY", "not-a-fernet-key")
    config_path = keyed_setup(tmp_path / "etc", db_url)
    config_path.write_text(config_path.read_text().replace('key_env = ""', 'key_env = "CONNECTOR_SECRET_KEY"'))
    code, out, err = run("--config", str(config_path), "sync")
    assert_one_line(code, out, err, "CONNECTOR_SECRET_KEY", "not a valid token key")
    assert "not-a-fernet-key" not in err


# --- paths resolve against the config file's folder (#6) ---------------------------------------


def test_relative_paths_in_the_config_resolve_against_its_folder(elsewhere, tmp_path, monkeypatch):
    monkeypatch.delenv("CONNECTOR_SECRET_KEY")
    etc = tmp_path / "etc" / "connector"
    config_path = keyed_setup(etc, "sqlite:///data/connector.sqlite")
    expected = f"sqlite:///{etc}/data/connector.sqlite"

    code, out, err = run("--config", str(config_path), "status", "--json")
    assert code == 0, err
    assert json.loads(out)["database"] == expected
    assert (etc / "data" / "connector.sqlite").exists()
    assert not (elsewhere / "data").exists()  # no empty database made in the current folder

    # the same from the parent folder with a relative --config, and the key file next to the config
    monkeypatch.chdir(tmp_path)
    code, out, err = run("--config", "etc/connector/connector.toml", "sync")
    assert code == 1, err  # no token stored yet: the connection needs connecting
    assert (etc / "keys" / "token.key").exists()
    assert not (tmp_path / "data").exists() and not (tmp_path / "keys").exists()

    code, out, err = run("--config", "etc/connector/connector.toml", "status")
    assert code == 0, err
    assert f"database: {expected}" in out.splitlines()


def test_status_names_the_database_without_its_password(elsewhere, db_url, monkeypatch):
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", db_url)
    from sqlalchemy.engine import make_url

    shown = make_url(db_url).render_as_string(hide_password=True)
    password = make_url(db_url).password
    code, out, _ = run("status")
    assert code == 0 and f"database: {shown}" in out.splitlines()
    code, out, _ = run("status", "--json")
    assert json.loads(out)["database"] == shown
    if password:
        assert str(password) not in out


def test_a_database_from_a_newer_connector_is_one_line(elsewhere, tmp_path, monkeypatch):
    from sqlalchemy import text

    from connector.store.db import make_engine

    url = f"sqlite:///{tmp_path / 'newer.sqlite'}"
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", url)
    assert run("init-db")[0] == 0
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    code, out, err = run("status")
    assert_one_line(code, out, err, str(tmp_path / "newer.sqlite"), "9999_future", "newer version")
