"""One request/response pair as the sandbox saw it, for observers (spec validation in tests).

Observers run on the request thread just before the answer goes out, so a test hook sees
every response the sandbox sends, including injected faults (tagged in ``fault``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str  # canonical path (the sandbox normalises letter case)
    query: dict[str, str]
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    content_type: str
    response_headers: dict[str, str]
    body: bytes
    area: str  # which surface answered: "accounting", "identity", "oauth", "admin", ...
    fault: str | None = None
    notes: dict[str, str] = field(default_factory=dict)


Observer = Callable[[Exchange], None]
