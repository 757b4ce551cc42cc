"""How the long-running processes log: plain lines for people, or JSON lines for log collectors.

``[logging] format = "json"`` makes every record one JSON object on one line: time, level, logger,
message, and, when known, the ``connection``, the sync ``run`` id, the Celery ``task`` id and the
``host``/``pid`` (a cluster's logs interleave many processes). The ids come from
:func:`context`, which a task or job sets around its work (a context variable, so threads and
the worker's tasks each keep their own).

**Never a token.** The adapters never log tokens, but a library might (an SDK's debug line, an
exception's text with a request echoed back). Every message, in either format, passes through
:func:`redact`: anything that looks like an access or refresh token, a ``Bearer`` header, a
client secret or a password in a URL is replaced by ``***`` before it is written.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from connector.config import Config

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("connector_log_context", default=None)

#: Fields a record may carry from :func:`context`, in the order JSON lines show them.
CONTEXT_FIELDS = ("connection", "run", "task", "job")

_SECRETS = [
    # "access_token": "...", refresh_token=..., client_secret: ..., id_token, password=...
    re.compile(
        r"(?i)([\"']?(?:access_token|refresh_token|id_token|client_secret|password|secret|token)[\"']?\s*[:=]\s*[\"']?)"
        r"([^\"'\s,&}]+)"
    ),
    re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._~+/=-]+)"),
    re.compile(r"(?i)(basic\s+)([A-Za-z0-9+/=]{8,})"),
    re.compile(r"(://[^/\s:@]*:)([^@/\s]+)(@)"),  # a password in a URL
]


def redact(text: str) -> str:
    """``text`` with anything that looks like a secret replaced by ``***``."""
    for pattern in _SECRETS:
        text = pattern.sub(r"\1***\3", text) if pattern.groups == 3 else pattern.sub(r"\1***", text)
    return text


@contextmanager
def context(**fields: Any) -> Iterator[None]:
    """Attach ``connection=``, ``run=``, ``task=``, ``job=`` to every record logged inside (this thread or task)."""
    current = dict(_context.get() or {})
    current.update({k: v for k, v in fields.items() if v is not None})
    token = _context.set(current)
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: Any) -> None:
    """Add fields to the current context (e.g. the run id, once the run has one)."""
    current = dict(_context.get() or {})
    current.update({k: v for k, v in fields.items() if v is not None})
    _context.set(current)


class ContextFilter(logging.Filter):
    """Copies the context's ids onto each record, and redacts its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        if not hasattr(record, "task"):
            task_id = _celery_task_id()
            if task_id:
                record.task = task_id
        return True


def _celery_task_id() -> str | None:
    celery_state = sys.modules.get("celery._state")
    if celery_state is None:
        return None
    task = celery_state.get_current_task()
    request = getattr(task, "request", None) if task else None
    return getattr(request, "id", None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, context ids, host, pid, and the error if any."""

    def __init__(self) -> None:
        super().__init__()
        self.host = socket.gethostname()

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        line["host"] = self.host
        line["pid"] = record.process or os.getpid()
        if record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The plain line, with the context's ids in brackets and secrets redacted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if getattr(record, k, None) is not None)
        text = redact(super().format(record))
        if ids:
            head, _, message = text.partition(": ")
            text = f"{head}: [{ids}] {message}"
        return text


def configure(config: Config, stream: Any = None) -> logging.Handler:
    """Set up the root logger from ``[logging]``: one handler on stderr, text or JSON, at the level asked.

    Replaces the handlers a previous call (or ``logging.basicConfig``) installed, so calling it
    again (a test, a worker that re-reads its config) never doubles the lines.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if config.logging.format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(config.logging.level)
    # Libraries that chatter at INFO about every request or heartbeat.
    for noisy in ("urllib3", "kombu", "amqp", "apscheduler.executors.default", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return handler
