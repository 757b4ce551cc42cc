"""Collection settings: the form's values and defaults, checked by the config file's own rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from connector.actions.connections.common import FieldErrors, _connection, _only_setup_or_web, log
from connector.actions.context import Actor
from connector.config import ConnectionConfig
from connector.runtime import Runtime
from connector.store.connections import settings_of
from connector.store.models import Connection

#: What the settings form sends, with the defaults the wizard preselects.
#: The customer notices a connection may send (connector/config.py ``customer_notices``).
CUSTOMER_NOTICES = ("status_changed", "request_sent", "collection_failed", "payment_confirmed")
SETTINGS_DEFAULTS = {
    "collection_mode": "auto_collect",
    "lead_days": "3",
    "max_attempts": "3",
    "intervals": "3, 5, 7",
    "post_payment_at": "paid",
    #: Comma-separated kinds switched on, and "on"/"off" for notes on the ledger's invoices.
    "notices": ",".join(CUSTOMER_NOTICES),
    "ledger_notes": "on",
}
_FORM_FIELDS = {
    ("collection_mode",): "collection_mode",
    ("post_payment_at",): "post_payment_at",
    ("lead_days",): "lead_days",
    ("retry", "max_attempts"): "max_attempts",
    ("retry", "intervals"): "intervals",
}


def current_settings(rt: Runtime, connection_id: int) -> dict[str, str]:
    """The settings form's values for a connection: what it has, else the defaults."""
    with rt.sessions() as session:
        row = _connection(session, connection_id)
        settings = row.settings or {}
        if "lead_days" not in settings:
            return dict(SETTINGS_DEFAULTS)
        retry = settings.get("retry") or {}
        return {
            "collection_mode": row.collection_mode,
            "lead_days": str(settings.get("lead_days", 3)),
            "max_attempts": str(retry.get("max_attempts", 3)),
            "intervals": ", ".join(str(d) for d in retry.get("interval_days") or [3, 5, 7]),
            "post_payment_at": str(settings.get("post_payment_at", "paid")),
            "notices": ",".join(settings.get("customer_notices", CUSTOMER_NOTICES)),
            "ledger_notes": "on" if settings.get("ledger_notes", True) else "off",
        }


def save_settings(rt: Runtime, connection_id: int, form: Mapping[str, str], *, actor: Actor) -> dict[str, str]:
    """Validate the collection settings with the config file's own rules and keep them.

    The values go through :class:`~connector.config.ConnectionConfig`, so a setting made here
    obeys exactly what a ``[[connections]]`` block would. A connection from the config file
    takes its settings from the file: refused here.
    """
    values = {k: str(form.get(k, SETTINGS_DEFAULTS[k])).strip() for k in SETTINGS_DEFAULTS}
    if form.get("notices_shown"):  # the form's checkboxes: an unticked box is simply absent
        values["notices"] = ",".join(k for k in CUSTOMER_NOTICES if form.get(f"notice_{k}"))
        values["ledger_notes"] = "on" if form.get("ledger_notes") else "off"
    else:  # a form without them (a script, an older page) leaves them as they are
        kept = current_settings(rt, connection_id)
        values["notices"], values["ledger_notes"] = kept["notices"], kept["ledger_notes"]
    errors: dict[str, str] = {}
    days: list[str] = []
    for part in re.split(r"[,\s]+", values["intervals"]):
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            errors["intervals"] = "Write whole numbers of days, separated by commas, such as 3, 5, 7."
            break
        days.append(f"{int(part)}d")
    if not days and "intervals" not in errors:
        errors["intervals"] = "Give at least one number of days between tries, such as 3."
    for key in ("lead_days", "max_attempts"):
        if not re.fullmatch(r"\d{1,3}", values[key]):
            errors[key] = "Write a whole number."
    with rt.sessions() as session:
        row = _connection(session, connection_id)
        _only_setup_or_web(row)
        # Settings may come before accounts (edited later): placeholders pass the accounts' own rule.
        accounts = (row.settings or {}).get("accounts") or {"clearing": "?", "bank": "??", "fees": "?"}
        name, provider = row.name, row.provider
    # Pydantic checks every field, even next to one already found wrong (each gets its message).
    number = {k: int(values[k]) if k not in errors else SETTINGS_DEFAULTS[k] for k in ("lead_days", "max_attempts")}
    entry: ConnectionConfig | None = None
    try:
        entry = ConnectionConfig.model_validate(
            {
                "name": name,
                "provider": provider,
                "accounts": accounts,
                "collection_mode": values["collection_mode"],
                "post_payment_at": values["post_payment_at"],
                "lead_days": int(number["lead_days"]),
                "retry": {"max_attempts": int(number["max_attempts"]), "intervals": days or ["1d"]},
                "customer_notices": [k for k in values["notices"].split(",") if k],
                "ledger_notes": values["ledger_notes"] == "on",
            }
        )
    except PydanticValidationError as exc:
        for problem in exc.errors():
            key = _FORM_FIELDS.get(tuple(str(p) for p in problem["loc"][:2])) or _FORM_FIELDS.get(
                tuple(str(p) for p in problem["loc"][:1])
            )
            errors.setdefault(key or "collection_mode", _plain(key, problem))
    if errors or entry is None:
        raise FieldErrors(errors or {"collection_mode": "These settings cannot be used."})
    learned = settings_of(entry)
    learned.pop("accounts")
    with rt.transaction() as session:
        row = session.get(Connection, connection_id)
        row.collection_mode = entry.collection_mode.value
        row.settings = {**(row.settings or {}), **learned}
    log.info("%s saved the collection settings of %s", actor.name, name)
    return values


def _plain(key: str | None, problem: dict[str, Any]) -> str:
    """Pydantic's complaint, said for the person at the form."""
    plain = {
        "collection_mode": "Choose direct debit or payment request.",
        "post_payment_at": "Choose when a payment is written to your books.",
        "lead_days": "Lead days are a whole number from 0 to 60.",
        "max_attempts": "Tries are a whole number from 1 to 10.",
        "intervals": "Write whole numbers of days, separated by commas, such as 3, 5, 7.",
    }
    return plain.get(key or "", str(problem.get("msg", "not valid")).removeprefix("Value error, "))
