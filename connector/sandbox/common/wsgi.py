"""Small WSGI helpers every sandbox needs: case-insensitive paths and dropped connections."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class CaseInsensitivePaths:
    """Rewrite known path segments to their canonical spelling before routing.

    Ledger APIs match paths case-insensitively (the Xero SDK asks for ``/Connections``,
    people type ``/connections``), while Flask routes are case-sensitive. Unknown
    segments (ids, numbers) pass through untouched.
    """

    def __init__(self, app: WSGIApp, segments: Mapping[str, str]) -> None:
        self.app = app
        self.segments = {k.lower(): v for k, v in segments.items()}

    def canonical(self, path: str) -> str:
        return "/".join(self.segments.get(part.lower(), part) for part in path.split("/"))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        environ["PATH_INFO"] = self.canonical(environ.get("PATH_INFO", ""))
        return self.app(environ, start_response)


def drop_connection(environ: Mapping[str, Any]) -> bool:
    """Close the client's TCP connection under the running request (no response at all).

    Werkzeug exposes the socket as ``werkzeug.socket``; after shutdown the server's own
    write fails with a broken pipe, which werkzeug treats as a dropped connection.
    """
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return False
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return True
