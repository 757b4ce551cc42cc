"""A bad config file is answered with one line naming the file, the key and what was expected."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from connector.config import ConfigError, load_config

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
