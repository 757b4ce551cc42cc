"""A bad config file is answered with one line naming the file, the key and what was expected."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from connector.config import ConfigError, database_url_problem, load_config, resolve_database_url, safe_url

REPO = Path(__file__).resolve().parents[1]
GOOD = """
[[connections]]
name = "acme"
provider = "xero"
accounts = { clearing = "090", bank = "091", fees = "404" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "connector.toml"
    path.write_text(text)
    return path


def test_the_example_config_is_valid_and_documented():
    config = load_config(REPO / "config.example.toml")
    assert config.connections, "the example shows at least one connection"
    text = (REPO / "config.example.toml").read_text()
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            # every setting line carries its explanation on the line or the one above
            assert "#" in line or text.split(line)[0].rstrip().splitlines()[-1].lstrip().startswith("#"), line


def test_defaults_when_there_is_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
    monkeypatch.delenv("CONNECTOR_DATABASE_URL", raising=False)
    config = load_config()
    assert config.database_url.startswith("sqlite:///")
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", "postgresql://db/x")
    assert config.database_url == "postgresql://db/x"


def test_durations_and_retry_intervals(tmp_path):
    path = write(
        tmp_path,
        GOOD + 'schedule = { import_every = "90s", push_every = "2h" }\n'
        'retry = { max_attempts = 4, intervals = ["1d", "2d"] }\n',
    )
    entry = load_config(path).connections[0]
    assert entry.schedule.import_every == timedelta(seconds=90)
    assert entry.policy().retry.intervals == (timedelta(days=1), timedelta(days=2))


@pytest.mark.parametrize(
    ("extra", "key", "expected"),
    [
        ('schedule = { import_every = "15x" }', "connections[0].schedule.import_every", "duration"),
        ('lead_days = "three"', "connections[0].lead_days", "integer"),
        ('colour = "blue"', "connections[0].colour", "unknown key"),
        ('collection_mode = "sometimes"', "connections[0].collection_mode", "auto_collect"),
        ('retry = { intervals = ["12h"] }', "connections[0].retry.intervals", "whole days"),
    ],
)
def test_bad_values_name_the_file_the_key_and_what_was_expected(tmp_path, extra, key, expected):
    path = write(tmp_path, GOOD + extra + "\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: ")
    assert expected in message


def test_missing_accounts_and_clashing_accounts(tmp_path):
    path = write(tmp_path, '[[connections]]\nname = "a"\nprovider = "xero"\n')
    with pytest.raises(ConfigError, match=r"connections\[0\]\.accounts: required key is missing"):
        load_config(path)
    path = write(tmp_path, GOOD.replace('bank = "091"', 'bank = "090"'))
    with pytest.raises(ConfigError, match="clearing account must differ"):
        load_config(path)


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[[connections]\n"))
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.toml")


# --- every relative path in a config file is taken from the file's own folder (#6) -------------


def test_relative_paths_resolve_against_the_config_files_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CONNECTOR_DATABASE_URL", raising=False)
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "connector.toml").write_text(
        '[database]\nurl = "sqlite:///data/connector.sqlite"\n[security]\nkey_file = "keys/token.key"\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for given in (etc / "connector.toml", Path("../etc/connector.toml")):
        config = load_config(given)
        assert config.database_url == f"sqlite:///{etc}/data/connector.sqlite"
        assert Path(config.security.key_file) == etc / "keys" / "token.key"
        assert config.database_origin == f"[database] url in {given}"
    monkeypatch.setenv("CONNECTOR_CONFIG", str(etc / "connector.toml"))
    assert load_config().database_url == f"sqlite:///{etc}/data/connector.sqlite"


def test_without_a_file_paths_are_the_current_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONNECTOR_CONFIG", raising=False)
    monkeypatch.delenv("CONNECTOR_DATABASE_URL", raising=False)
    config = load_config()
    assert config.database_url == f"sqlite:///{tmp_path}/connector.sqlite"
    assert Path(config.security.key_file) == tmp_path / ".connector-key"
    assert config.database_origin == "the default (no config file)"
    monkeypatch.setenv("CONNECTOR_DATABASE_URL", "sqlite:///here.sqlite")  # typed in this shell: this folder
    assert config.database_url == f"sqlite:///{tmp_path}/here.sqlite"
    assert config.database_origin == "CONNECTOR_DATABASE_URL"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////var/lib/connector.sqlite",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:x?mode=ro&uri=true",
        "postgresql://u:p@db:5432/connector",
    ],
)
def test_absolute_in_memory_and_server_urls_are_left_alone(url):
    assert resolve_database_url(url, Path("/etc/connector")) == url


def test_relative_sqlite_urls_keep_their_driver_and_options():
    assert (
        resolve_database_url("sqlite+pysqlite:///d/x.db?timeout=3", Path("/etc/c"))
        == "sqlite+pysqlite:////etc/c/d/x.db?timeout=3"
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://me:pw-1@db:5432/books", "postgresql://me:***@db:5432/books"),
        ("postgresql://me@db/books", "postgresql://me@db/books"),
        ("postgresql//me:pw-1@db/books", "postgresql//me:***@db/books"),  # not a URL, still hidden
    ],
)
def test_a_shown_url_hides_its_password(url, shown):
    assert safe_url(url) == shown
    assert "pw-1" not in safe_url("postgresql://me@db/books?password=pw-1")


@pytest.mark.parametrize(
    ("url", "problem"),
    [("notaurl", "not a database URL"), ("mysql://me:pw@db/x", "mysql databases are not supported")],
)
def test_a_database_url_that_cannot_work_names_the_key(tmp_path, url, problem):
    assert problem in (database_url_problem(url) or "")
    path = write(tmp_path, f'[database]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: database.url: {problem}")
    assert "pw" not in str(err.value)
