"""Shared fixtures: a real database for every test that needs one.

SQLite by default: the schema is migrated once into a template file and copied per test.
When ``CONNECTOR_TEST_DATABASE_URL`` names a PostgreSQL database (the second pass of
``python3 dev.py test``), the schema is migrated once and every table is truncated before
each test. Nothing is mocked.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from connector.config import Config
from connector.runtime import Runtime, open_runtime
from connector.store.db import make_engine, normalise_url
from connector.store.migrate import upgrade
from connector.store.models import Base

#: The ledger-neutral books of tests/books.py (fixtures ``book``, ``xero_book``, ``quickbooks_book``).
pytest_plugins = ["tests.books"]

PG_URL = os.environ.get("CONNECTOR_TEST_DATABASE_URL", "")


def is_postgres() -> bool:
    return PG_URL.startswith("postgres")


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_migrated() -> str:
    engine = make_engine(PG_URL)
    upgrade(engine)
    engine.dispose()
    return PG_URL


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database for this test."""
    if is_postgres():
        url = request.getfixturevalue("_pg_migrated")
        engine = make_engine(url)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return url
    template = request.getfixturevalue("_sqlite_template")
    path = tmp_path / "connector.sqlite"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def empty_db_url(tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all (for migration tests); a throwaway one on PostgreSQL."""
    if not is_postgres():
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    base = make_url(normalise_url(PG_URL))
    name = f"{base.database}_m{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


ACCOUNTS = {"clearing": "090", "bank": "091", "fees": "404"}


def make_config(db_url: str, **connection: object) -> Config:
    entry = {"name": "acme", "provider": "xero", "tenant_id": "t-1", "accounts": ACCOUNTS, **connection}
    return Config.model_validate({"database": {"url": db_url}, "connections": [entry]})


@pytest.fixture(autouse=True)
def _token_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own token key from the environment: no key file is written anywhere."""
    from cryptography.fernet import Fernet

    monkeypatch.setenv("CONNECTOR_SECRET_KEY", Fernet.generate_key().decode())


@pytest.fixture
def runtime(db_url: str) -> Iterator[Runtime]:
    rt = open_runtime(config=make_config(db_url))
    yield rt
    rt.close()
