"""``GET /Reports/BankSummary``: the report Xero offers for a bank account's balance.

Rows are shaped as Xero sends them (spec example): a Header row, one Section whose rows
name each account (with its ``accountID`` attribute) and give Opening Balance, Cash
Received, Cash Spent and Closing Balance as plain two-place number strings, and a
SummaryRow of totals. Without ``fromDate``/``toDate`` the report covers the current month
up to today, in the organisation's calendar.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response, request

from connector.sandbox.xero.query import QueryError
from connector.sandbox.xero.reports import BankLine, bank_summary
from connector.sandbox.xero.routes_common import accounting, bad_query, current_tenant, envelope
from connector.sandbox.xero.web import json_response, sandbox

_HEADER = ("Bank Accounts", "Opening Balance", "Cash Received", "Cash Spent", "Closing Balance")


def _value(amount: Decimal) -> str:
    return format(amount.quantize(Decimal("0.01")), "f")


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _query_date(name: str, default: date) -> date:
    text = request.args.get(name)
    if not text:
        return default
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise QueryError(f"{name} is not a valid date (YYYY-MM-DD)") from None


def _row(line: BankLine) -> dict[str, Any]:
    account_id = line.account.id
    return {
        "RowType": "Row",
        "Cells": [
            {"Value": line.account.name, "Attributes": [{"Value": account_id, "Id": "accountID"}]},
            {"Value": _value(line.opening)},
            {"Value": _value(line.received), "Attributes": [{"Value": account_id, "Id": "account"}]},
            {"Value": _value(line.spent), "Attributes": [{"Value": account_id, "Id": "account"}]},
            {"Value": _value(line.closing)},
        ],
    }


@accounting.route("/Reports/BankSummary", methods=["GET"])
def get_bank_summary() -> Response:
    sb, t = sandbox(), current_tenant()
    today = sb.ledger.today(t.id)
    try:
        from_date = _query_date("fromDate", today.replace(day=1))
        to_date = _query_date("toDate", today)
    except QueryError as exc:
        return bad_query(exc)
    with sb.ledger.lock:
        lines = bank_summary(t, from_date, to_date)
    total = [sum((getattr(x, f) for x in lines), Decimal(0)) for f in ("opening", "received", "spent", "closing")]
    report = {
        "ReportName": "Bank Summary",
        "ReportType": "BankSummary",
        "ReportTitles": [
            "Bank Summary",
            t.org.name,
            f"From {_long_date(from_date)} to {_long_date(to_date)}",
        ],
        "ReportDate": _long_date(today),
        "UpdatedDateUTC": f"/Date({sb.ledger.now_ms()})/",
        "Fields": [],
        "Rows": [
            {"RowType": "Header", "Cells": [{"Value": v} for v in _HEADER]},
            {"RowType": "Section", "Title": "", "Rows": [_row(line) for line in lines]},
            {"RowType": "SummaryRow", "Cells": [{"Value": "Total"}] + [{"Value": _value(v)} for v in total]},
        ],
    }
    return json_response(envelope("Reports", [report]))

