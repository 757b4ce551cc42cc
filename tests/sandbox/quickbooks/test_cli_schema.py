"""The command line (``python -m connector.sandbox.quickbooks``), the XSD-derived field names
the sandbox uses to refuse unknown properties, and the XSD checker itself (it must be able
to fail, or the central hook proves nothing)."""

from __future__ import annotations

import inspect
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
import typer

from connector.sandbox.quickbooks.cli import serve
from connector.sandbox.quickbooks.xsd_names import ATTRIBUTES, FIELDS
from tests.sandbox.quickbooks.xsd_check import NS, XsdChecker
from tests.sandbox.running import PATIENCE_SECONDS, python_child

REPO = Path(__file__).resolve().parents[3]


def test_serve_is_a_typer_command_with_the_documented_options() -> None:
    parameters = inspect.signature(serve).parameters
    for name in ("port", "seed", "data", "latency", "faults", "host"):
        assert isinstance(parameters[name].default, typer.models.OptionInfo), name
    assert parameters["port"].annotation in (int, "int")


def test_python_m_prints_where_it_listens_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "state.json"
    command = ["-m", "connector.sandbox.quickbooks", "--seed", "1000", "--invoices", "25", "--data", str(data)]
    with python_child(command, REPO, "Press Ctrl-C") as child:
        lines = [line.rstrip("\n") for line in child.banner]
        text = "\n".join(lines)
        assert "QuickBooks Online sandbox listening on http://127.0.0.1:" in text, text
        assert "UTC-08:00" in text and "UTC+10:00" in text
        words = shlex.split(lines[lines.index("Try:") + 1].strip())
        assert words[0] == "curl"
        bearer = words[words.index("-H") + 1]
        answer = requests.get(words[-1], headers={"Authorization": bearer.split(": ", 1)[1]}, timeout=PATIENCE_SECONDS)
        assert answer.status_code == 200 and len(answer.json()["QueryResponse"]["Invoice"]) == 5
    out = child.rest
    assert child.process.returncode == 0, out
    assert "Stopped. State saved to" in out and data.exists()


def test_bad_fault_spec_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "connector.sandbox.quickbooks", "--faults", "gremlins"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=PATIENCE_SECONDS,
    )
    assert result.returncode == 2 and "unknown fault" in result.stderr


def test_the_field_names_the_sandbox_accepts_are_the_xsds(xsd_checker: XsdChecker) -> None:
    types: Any = xsd_checker.schema.maps.types
    for name, fields in FIELDS.items():
        declared = {e.local_name for e in types[NS + name].content.iter_elements()}
        assert fields == declared, name
    assert set(types[NS + "Invoice"].attributes) == ATTRIBUTES


def test_the_xsd_checker_catches_what_it_should(xsd_checker: XsdChecker) -> None:
    checker = XsdChecker(xsd_checker.schema)
    invoice = {
        "Id": "1",
        "SyncToken": "0",
        "domain": "QBO",
        "sparse": False,
        "TotalAmt": 10.5,
        "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
        "Line": [
            {
                "Amount": 10.5,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 1},
            }
        ],
        "LinkedTxn": [{"TxnId": "5", "TxnType": "Payment"}],
        "EmailStatus": "NotSet",
        "MetaData": {"CreateTime": "2024-06-03T02:00:00-07:00", "LastUpdatedTime": "2024-06-03T02:00:00-07:00"},
    }
    checker.check_response(
        {
            "QueryResponse": {"Invoice": [invoice], "startPosition": 1, "maxResults": 1},
            "time": "2024-06-03T02:00:00.000-07:00",
        },
        "ok",
    )
    assert checker.problems == [] and checker.entities["Invoice"] == 1

    broken = [
        {**invoice, "Colour": "blue"},
        {**invoice, "EmailStatus": "Sent"},
        {**invoice, "TotalAmt": "10.50"},
        {**invoice, "LinkedTxn": {"TxnId": "5"}},
        {**invoice, "Line": [{"Amount": 1, "DetailType": "SubtotalLineDetail"}]},
        {**invoice, "status": "Gone"},
        {**invoice, "MetaData": {"LastUpdatedTime": "2024-06-03 02:00"}},
        {**invoice, "CurrencyRef": {"value": "USD", "code": "x"}},
    ]
    for n, bad in enumerate(broken):
        checker.problems.clear()
        checker.check_response({"Invoice": bad, "time": "2024-06-03T02:00:00.000-07:00"}, f"bad {n}")
        assert len(checker.problems) == 1, (n, checker.problems)

    checker.problems.clear()
    checker.check_xml(b"<IntuitResponse xmlns='http://schema.intuit.com/finance/v3'><Nope/></IntuitResponse>", "x")
    assert checker.problems
