"""What every entry point opens first: the config, the database (migrated) and its sessions."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connector.config import Config, load_config
from connector.store.connections import sync_connections
from connector.store.db import WRITE, make_engine, make_sessionmaker
from connector.store.migrate import ensure_current


@dataclass
class Runtime:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    #: Set when the process is asked to stop (SIGTERM): syncs end after their current page or push
    #: batch, and no new one starts (connector/sync/runner.py).
    stopping: threading.Event = field(default_factory=threading.Event)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back everything on any error."""
        with self.sessions() as session, session.begin():
            session.connection(execution_options=WRITE)
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_runtime(config_path: Path | str | None = None, *, config: Config | None = None) -> Runtime:
    """Load the config, bring the schema to head and register the configured connections."""
    config = config or load_config(config_path)
    engine = make_engine(config.database_url)
    ensure_current(engine)  # under the migration lock: processes starting together migrate once
    runtime = Runtime(config, engine, make_sessionmaker(engine))
    if config.connections:
        with runtime.transaction() as session:
            sync_connections(session, config)
    return runtime
