"""Tokens are encrypted at rest, the key file is private, and a token never shows in a repr."""

from __future__ import annotations

import os

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from connector.config import SecurityConfig
from connector.store.models import Connection
from connector.store.secrets import SecretKeyError, TokenSet, TokenVault

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
