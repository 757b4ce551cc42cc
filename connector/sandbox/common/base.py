"""What every ledger sandbox does the same way: serve, autosave, save and load its state.

``SandboxBase`` is the base class of ``XeroSandbox`` and ``QuickBooksSandbox``. A subclass
builds its ledger, auth server and app, then calls ``_init_server``; it names its store
module (``dump_ledger``/``load_ledger``) and says what counts as a change worth saving
(``_revision``).
"""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Self

from connector.sandbox.common import seeding
from connector.sandbox.common.persistence import load_json, save_json
from connector.sandbox.common.recording import Observer
from connector.sandbox.common.server import ServerThread


class SandboxBase:
    """Lifecycle (start/stop/``with``), address, observers and JSON persistence.

    Subclasses set the class attributes and these instance attributes before
    ``_init_server``: ``seed``, ``clock``, ``ledger`` (with a ``lock``), ``auth`` (with
    ``apps``, ``to_dict``, ``load_dict``, ``expire_all_access_tokens``), ``observers``,
    ``data_path``, ``autosave_seconds``, ``webhooks``, ``client_id`` and ``client_secret``.
    """

    _server_name: str = "sandbox"  # the server thread's name; autosave adds "-autosave"
    _log: logging.Logger = logging.getLogger("connector.sandbox")
    _store: Any  # the provider's store module: dump_ledger(ledger), load_ledger(ledger, data)
    _pause_gc: bool = False  # big ledgers: no garbage collection while dumping or loading

    seed: int
    ledger: Any
    auth: Any
    observers: list[Observer]
    data_path: Path | None
    autosave_seconds: float
    webhooks: Any
    client_id: str
    client_secret: str

    def _init_server(self, app: Any, host: str, port: int) -> None:
        self._server = ServerThread(app, host, port, name=self._server_name)
        self._stop_autosave = threading.Event()
        self._autosave_thread: threading.Thread | None = None
        self._saved_revision: tuple[int, int] | None = None

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Self:
        self._server.start()
        if self.data_path and self.autosave_seconds > 0 and self._autosave_thread is None:
            self._autosave_thread = threading.Thread(
                target=self._autosave, name=f"{self._server_name}-autosave", daemon=True
            )
            self._autosave_thread.start()
        return self

    def stop(self) -> None:
        self._server.stop()
        self._stop_autosave.set()
        if self._autosave_thread is not None:
            self._autosave_thread.join(5.0)
            self._autosave_thread = None
        if self.webhooks is not None:
            self.webhooks.stop()
        if self.data_path:
            self.save()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses ------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def state(self) -> Any:
        """Alias of ``ledger``: direct access to the books for tests."""
        return self.ledger

    # --- tokens and observers -------------------------------------------------------------------
    def expire_access_tokens(self) -> int:
        """Make every access token issued so far expire now (clients must refresh)."""
        return self.auth.expire_all_access_tokens()  # type: ignore[no-any-return]

    def add_observer(self, observer: Observer) -> None:
        self.observers.append(observer)

    def _on_change(self, event: Any) -> None:
        """The ledger's change listener: forward each change to the webhook sender."""
        if self.webhooks is not None:
            self.webhooks.on_change(event)

    # --- persistence ----------------------------------------------------------------------------
    def _revision(self) -> tuple[int, int]:
        raise NotImplementedError

    def _after_load(self) -> None:
        """Runs after the ledger is loaded, outside the GC pause (Xero settles the heap)."""

    def _bulk(self) -> AbstractContextManager[None]:
        return seeding.paused_gc() if self._pause_gc else nullcontext()

    def save(self, path: Path | str | None = None) -> Path:
        target = Path(path) if path else self.data_path
        if target is None:
            raise ValueError("no data file to save to")
        with self.ledger.lock, self._bulk():
            revision = self._revision()
            document = {"ledger": self._store.dump_ledger(self.ledger), "auth": self.auth.to_dict(), "seed": self.seed}
        with self._bulk():
            save_json(target, document)
        self._saved_revision = revision
        return target

    def _load(self) -> bool:
        assert self.data_path is not None
        with self._bulk():
            document = load_json(self.data_path)
            if document is None:
                return False
            self._store.load_ledger(self.ledger, document["ledger"])
        self._after_load()
        self.auth.load_dict(document["auth"])
        apps = self.auth.apps
        if apps and self.client_id not in apps:
            first = next(iter(apps.values()))
            self.client_id, self.client_secret = first.client_id, first.client_secret or ""
        self._saved_revision = self._revision()
        self._log.info("loaded sandbox state from %s", self.data_path)
        return True

    def _autosave(self) -> None:
        while not self._stop_autosave.wait(self.autosave_seconds):
            if self._revision() != self._saved_revision:
                try:
                    self.save()
                except OSError:
                    self._log.exception("autosave to %s failed", self.data_path)

