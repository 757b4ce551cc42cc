"""What every console page shares: the blueprint, who acts, how a refusal is shown, background jobs.

Views stay thin: they parse the request, call one query function (``connector.reports``) or one
action (``connector.actions``), and render. A refused action is shown on the page it came from,
with the action's own words and nothing changed; it never becomes an error page.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from flask import Blueprint, current_app, render_template, request

from connector.actions import ActionError

bp = Blueprint("console", __name__)
log = logging.getLogger("connector.web.console")

#: The HTTP status a refused action's page is served with, by the error's code.
ERROR_STATUS = {"not_found": 404, "invalid": 400, "refused": 409}


def error_status(exc: ActionError) -> int:
    return ERROR_STATUS.get(exc.code, 409)


def page_arg(name: str) -> int | None:
    """A keyset bound from the query string (``after``/``before``): a positive id, else none."""
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def form_int(name: str) -> int | None:
    raw = (request.form.get(name) or "").strip()
    return int(raw) if raw.isdigit() else None


def render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, **context), status


def start_job(name: str, work: Callable[[], Any]) -> threading.Thread:
    """Run ``work`` (one action, e.g. a sync) in a background thread, so the page answers at once.

    The action takes the connection's lock itself, so two clicks never sync one connection twice:
    the second run is recorded as skipped. The threads are kept on the app so tests can wait.
    """

    def run() -> None:
        try:
            work()
        except Exception:  # a background job has no page to show its error on: the run history does
            log.exception("console job %s failed", name)

    thread = threading.Thread(target=run, name=f"console-{name}", daemon=True)
    current_app.extensions.setdefault("console.jobs", []).append(thread)
    thread.start()
    return thread


#: Characters that make a spreadsheet read a cell as a formula (CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(_FORMULA) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_lines(columns: Iterable[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header and each row as CSV text, one line at a time (a download of any size streams)."""
    columns = list(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(row.get(c)) for c in columns])
        yield buffer.getvalue()
