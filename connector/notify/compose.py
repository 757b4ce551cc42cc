"""Notices as mail: a subject, a plain-text body and an HTML body, from templates in this package."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

SUBJECTS = {
    "request_sent": "Invoice {number}: payment requested",
    "collection_failed": "Invoice {number}: your payment did not go through",
    "payment_confirmed": "Invoice {number}: payment received, thank you",
    "status_changed": "Invoice {number}: an update",
    "conflict": "{connection}: {count} invoice(s) changed in the ledger while being collected",
    "quarantined": "{connection}: {count} ledger record(s) could not be imported",
    "needs_reconnect": "{connection} needs reconnecting",
    "reconciliation": "{connection}: {count} difference(s) between the ledger and the platform",
    "push_failing": "{connection}: {count} ledger write(s) failing for over an hour",
    "api_limit": "{connection}: the ledger's daily API limit is nearly used",
}


@dataclass(frozen=True, slots=True)
class Mail:
    subject: str
    text: str
    html: str


@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("connector.notify", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def customer(kind: str, data: dict[str, Any], organisation: str) -> Mail:
    """One customer notice about one invoice."""
    context = {**data, "kind": kind, "organisation": organisation}
    return Mail(
        SUBJECTS[kind].format(**data),
        _env().get_template("customer.txt").render(**context),
        _env().get_template("customer.html").render(**context),
    )


def digest(kind: str, connection: str, lines: list[str], console_url: str = "") -> Mail:
    """One support digest: every item of one kind for one connection since the last digest."""
    context = {"kind": kind, "connection": connection, "lines": lines, "console_url": console_url}
    return Mail(
        SUBJECTS[kind].format(connection=connection, count=len(lines)),
        _env().get_template("digest.txt").render(**context),
        _env().get_template("digest.html").render(**context),
    )
