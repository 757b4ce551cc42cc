"""Tokens are encrypted at rest, the key file is private, and a token never shows in a repr."""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from connector.config import SecurityConfig
from connector.store.models import Connection
from connector.store.secrets import SecretKeyError, TokenSet, TokenVault, WrongTokenKey

TOKEN = TokenSet(
    {
        "access_token": "acc-SECRET-1",
        "refresh_token": "ref-SECRET-2",
        "scope": "offline_access accounting.transactions",
        "expires_at": 1_900_000_000.0,
        "expires_in": 1800,
        "token_type": "Bearer",
    }
)


def test_tokens_are_stored_encrypted_and_come_back_intact(runtime):
    vault = TokenVault(Fernet.generate_key())
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        vault.save(session, conn, TOKEN)
    with runtime.engine.connect() as db:
        raw = db.execute(text("SELECT token_ciphertext FROM connections")).scalar_one()
    assert b"SECRET" not in bytes(raw)
    with runtime.transaction() as session:
        back = vault.load(session.scalars(select(Connection)).one())
    assert back is not None
    assert back.data["refresh_token"] == "ref-SECRET-2"
    assert back.data["scope"] == ["offline_access", "accounting.transactions"]  # list, never a str
    assert "SECRET" not in repr(back)


def test_key_file_is_created_private_and_refused_when_open(tmp_path, monkeypatch):
    monkeypatch.delenv("CONNECTOR_SECRET_KEY", raising=False)
    security = SecurityConfig(key_file=str(tmp_path / "key"))
    vault = TokenVault.from_config(security)
    assert oct((tmp_path / "key").stat().st_mode & 0o777) == "0o600"
    sealed = vault.seal(TOKEN)
    assert TokenVault.from_config(security).open(sealed).data["access_token"] == "acc-SECRET-1"
    os.chmod(tmp_path / "key", 0o644)
    with pytest.raises(SecretKeyError, match="only by its owner"):
        TokenVault.from_config(security)


def test_a_changed_key_is_a_clear_error():
    sealed = TokenVault(Fernet.generate_key()).seal(TOKEN)
    with pytest.raises(SecretKeyError, match="cannot be opened"):
        TokenVault(Fernet.generate_key()).open(sealed)


def test_a_replaced_key_file_is_named_in_the_error(tmp_path, monkeypatch):
    monkeypatch.delenv("CONNECTOR_SECRET_KEY", raising=False)
    security = SecurityConfig(key_file=str(tmp_path / "key"))
    sealed = TokenVault.from_config(security).seal(TOKEN)
    (tmp_path / "key").write_bytes(Fernet.generate_key())  # another valid key, same file
    with pytest.raises(WrongTokenKey) as err:
        TokenVault.from_config(security).open(sealed)
    assert str(tmp_path / "key") in str(err.value) and "connect this ledger again" in str(err.value)


def test_a_key_that_is_not_one_names_its_source_and_never_shows_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_TOKEN_KEY", "hunter2-not-a-key")
    with pytest.raises(SecretKeyError) as err:
        TokenVault.from_config(SecurityConfig(key_env="MY_TOKEN_KEY"))
    assert str(err.value).startswith("$MY_TOKEN_KEY: not a valid token key")
    assert "hunter2" not in str(err.value)
    monkeypatch.delenv("MY_TOKEN_KEY")
    (tmp_path / "key").write_text("hunter2-not-a-key")
    (tmp_path / "key").chmod(0o600)
    with pytest.raises(SecretKeyError, match=f"^{tmp_path / 'key'}: not a valid token key"):
        TokenVault.from_config(SecurityConfig(key_env="MY_TOKEN_KEY", key_file=str(tmp_path / "key")))


def test_a_key_file_that_cannot_be_made_or_read_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("CONNECTOR_SECRET_KEY", raising=False)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(SecretKeyError, match=f"^{tmp_path / 'a-file' / 'key'}: cannot create the token key file"):
        TokenVault.from_config(SecurityConfig(key_file=str(tmp_path / "a-file" / "key")))
    (tmp_path / "a-folder").mkdir(mode=0o700)
    with pytest.raises(SecretKeyError, match="not a file"):
        TokenVault.from_config(SecurityConfig(key_file=str(tmp_path / "a-folder")))


def test_a_relative_key_file_is_taken_from_the_base_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CONNECTOR_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "etc").mkdir()
    vault = TokenVault.from_config(SecurityConfig(key_file="keys/key"), base=tmp_path / "etc")
    assert vault.source == str(tmp_path / "etc" / "keys" / "key")
    assert (tmp_path / "etc" / "keys" / "key").exists() and not (tmp_path / "keys").exists()
