"""Run a WSGI app on a real socket in a background thread, and stop it cleanly.

The sandboxes are driven by real SDKs over real HTTP, so they need a real server;
werkzeug's threaded server is enough and handles each request on its own thread, which
makes a concurrency limit observable.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

log = logging.getLogger("connector.sandbox.http")


class QuietRequestHandler(WSGIRequestHandler):
    """Send werkzeug's per-request log lines to ``logging`` at DEBUG instead of stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug('%s "%s" %s %s', self.address_string(), self.requestline, code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        getattr(log, "error" if type == "error" else "debug")(message, *args)


class ServerThread:
    """A threaded werkzeug server for ``app`` on ``host:port`` (port 0 picks a free one)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, name: str = "sandbox") -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.name = name
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> ServerThread:
        if self._server is not None:
            return self
        self._server = make_server(
            self.host, self.requested_port, self.app, threaded=True, request_handler=QuietRequestHandler
        )
        # Request threads must not keep the interpreter alive after stop().
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            # A short poll interval makes stop() take milliseconds instead of half a second.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name}-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting connections and wait for the serving loop to end."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
