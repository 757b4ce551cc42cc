"""Serving the web application with waitress, a production WSGI server.

Loopback by default. Listening anywhere else is refused unless ``[web] public_url`` is https:
session cookies and OAuth redirects must travel over TLS, which a proxy in front terminates.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from connector.config import WebConfig

log = logging.getLogger("connector.web")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_problem(web: WebConfig, host: str | None = None) -> str | None:
    """Why ``connector web`` must not listen on ``host`` with this config, or None."""
    host = host or web.host
    if is_loopback(host) or web.behind_https:
        return None
    return (
        f"[web] host = {host!r} listens beyond this machine, which needs [web] public_url to be an https:// "
        "address: session cookies and the OAuth consent must travel over TLS, usually terminated by a proxy "
        "in front of the connector. Set public_url, or listen on 127.0.0.1."
    )


def serve(app: Any, host: str, port: int, *, threads: int = 8, behind_proxy: bool = False) -> None:
    """Serve ``app`` until interrupted. ``behind_proxy`` trusts one proxy's X-Forwarded-* headers."""
    from waitress import serve as waitress_serve

    options: dict[str, Any] = {"host": host, "port": port, "threads": threads, "ident": "connector"}
    if behind_proxy:
        options.update(trusted_proxy="127.0.0.1", trusted_proxy_headers={"x-forwarded-proto", "x-forwarded-for"})
    waitress_serve(app, **options)
