"""Xero's XML, both ways, over real HTTP: XML answers unless JSON is asked for (Xero's default),
XML bodies read as JSON ones are (list and single forms), errors as ``<ApiException>``."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import requests

from connector.sandbox.xero import XeroSandbox, xmlwire
from tests.sandbox.xero.kit import open_invoice


def _headers(sb: XeroSandbox, **extra: str) -> dict[str, str]:
    token = sb.issue_tokens()["access_token"]
    return {"Authorization": f"Bearer {token}", "xero-tenant-id": sb.tenant_ids[0], **extra}


def _get(sb: XeroSandbox, path: str, **headers: str) -> requests.Response:
    return requests.get(sb.accounting_url + path, headers=_headers(sb, **headers), timeout=10)


def _send(sb: XeroSandbox, method: str, path: str, xml: str, **headers: str) -> requests.Response:
    hdrs = _headers(sb, **{"Content-Type": "application/xml", **headers})
    return requests.request(method, sb.accounting_url + path, data=xml.encode(), headers=hdrs, timeout=10)


@pytest.mark.parametrize("accept", [None, "*/*", "application/xml", "text/xml", "text/plain"])
def test_xml_is_the_default_answer(sandbox: XeroSandbox, accept: str | None) -> None:
    response = _get(sandbox, "/Organisation", **({"Accept": accept} if accept else {}))
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response" and root.findtext("Status") == "OK"
    assert root.findtext("Organisations/Organisation/Name") == sandbox.ledger.tenant(sandbox.tenant_ids[0]).org.name


def test_json_when_asked_for(sandbox: XeroSandbox) -> None:
    for accept in ("application/json", "application/json, text/plain, */*", "application/xml;q=0.5, application/json"):
        response = _get(sandbox, "/Organisation", Accept=accept)
        assert response.headers["Content-Type"].startswith("application/json"), accept
        assert response.json()["Organisations"][0]["OrganisationID"] == sandbox.tenant_ids[0]


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Leaves of a JSON or parsed-XML document as text, for comparing the two forms."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}/{key}"))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{n}]"))
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    else:
        out[prefix] = str(value)
    return out


def test_the_xml_answer_carries_what_the_json_one_does(sandbox: XeroSandbox) -> None:
    inv = open_invoice(sandbox, "123.45")
    sandbox.ledger.add_payment(sandbox.tenant_ids[0], inv.id, "23.45")
    raw = _get(sandbox, f"/Invoices/{inv.id}", Accept="application/json").content
    as_json = json.loads(raw, parse_float=str)["Invoices"][0]  # the exact digits, as XML has them
    as_xml = xmlwire.parse_body(_get(sandbox, f"/Invoices/{inv.id}").content)["Invoices"][0]
    json_leaves = {k: v for k, v in _flatten(as_json).items() if not k.endswith("DateString")}
    xml_leaves = _flatten(as_xml)
    dates = {k for k, v in json_leaves.items() if v.startswith("/Date(")}
    assert set(json_leaves) == set(xml_leaves) | {k for k in json_leaves if k.endswith("[]")}
    for key, value in json_leaves.items():
        if key in dates:
            assert "T" in xml_leaves[key] and "/Date(" not in xml_leaves[key], key
        else:
            assert xml_leaves[key] == value, key
    assert xml_leaves["/AmountDue"] == "100.00" and xml_leaves["/Date"].endswith("T00:00:00")


def test_xml_bodies_in_the_list_and_the_single_form(sandbox: XeroSandbox) -> None:
    contact = next(iter(sandbox.ledger.tenant(sandbox.tenant_ids[0]).contacts.values()))
    invoice = (
        "<Invoice><Type>ACCREC</Type><Contact><ContactID>{id}</ContactID></Contact>"
        "<Date>2024-05-01T00:00:00</Date><Status>AUTHORISED</Status><LineAmountTypes>NoTax</LineAmountTypes>"
        "<LineItems><LineItem><Description>Hours</Description><Quantity>3</Quantity>"
        "<UnitAmount>{amount}</UnitAmount><AccountCode>200</AccountCode></LineItem></LineItems></Invoice>"
    )
    listed = _send(
        sandbox,
        "PUT",
        "/Invoices",
        "<Invoices>"
        + invoice.format(id=contact.id, amount="10.00")
        + invoice.format(id=contact.id, amount="2")
        + "</Invoices>",
        Accept="application/json",
    )
    assert listed.status_code == 200, listed.text
    assert [i["Total"] for i in listed.json()["Invoices"]] == [30.0, 6.0]
    single = _send(sandbox, "PUT", "/Invoices", invoice.format(id=contact.id.replace("-", ""), amount="1.005"))
    root = ET.fromstring(single.content)
    assert root.findtext("Invoices/Invoice/LineItems/LineItem/UnitAmount") == "1.01"  # two places by default
    assert root.findtext("Invoices/Invoice/Total") == "3.03"
    first = listed.json()["Invoices"][0]
    paid = _send(
        sandbox,
        "PUT",
        "/Payments",
        f"<Payment><Invoice><InvoiceID>{first['InvoiceID']}</InvoiceID></Invoice><Account><Code>090</Code></Account>"
        "<Amount>30.00</Amount><Date>2024-05-02T00:00:00</Date></Payment>",
        Accept="application/json",
    ).json()["Payments"][0]
    deleted = _send(sandbox, "POST", f"/Payments/{paid['PaymentID']}", "<Payment><Status>DELETED</Status></Payment>")
    assert ET.fromstring(deleted.content).findtext("Payments/Payment/Status") == "DELETED"


def test_errors_in_xml_are_api_exceptions(sandbox: XeroSandbox) -> None:
    refused = _send(sandbox, "PUT", "/Invoices", "<Invoices><Invoice><Type>ACCREC</Type></Invoice></Invoices>")
    assert refused.status_code == 400
    root = ET.fromstring(refused.content)
    assert root.tag == "ApiException" and root.findtext("Type") == "ValidationException"
    element = root.find("Elements/DataContractBase")
    assert element is not None
    assert (
        element.get("xsi:type") == "Invoice"
        or element.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "Invoice"
    )
    messages = [m.text for m in root.iter("Message")]
    assert messages[0] == "A validation exception occurred"
    assert "A Contact must be specified for this type of transaction" in messages

    query = ET.fromstring(_get(sandbox, '/Invoices?where=AmountDue>"0"').content)
    assert query.tag == "ApiException" and query.findtext("Type") == "QueryParseException"


@pytest.mark.parametrize(
    "body",
    [
        "<Invoices><Invoice>",  # not well-formed
        '<!DOCTYPE x [<!ENTITY a "aaaaaaaa">]><Invoices>&a;</Invoices>',  # entities refused outright
        "not xml and not json",
    ],
)
def test_unreadable_bodies_are_a_400(sandbox: XeroSandbox, body: str) -> None:
    response = _send(sandbox, "PUT", "/Invoices", body, Accept="application/json")
    assert response.status_code == 400
    assert response.json()["Type"] == "PostDataInvalidException"


def test_an_idempotent_replay_gives_the_same_xml(sandbox: XeroSandbox) -> None:
    inv = open_invoice(sandbox, "50.00")
    body = (
        f"<Payments><Payment><Invoice><InvoiceID>{inv.id}</InvoiceID></Invoice><Account><Code>090</Code></Account>"
        "<Amount>5.00</Amount></Payment></Payments>"
    )
    first = _send(sandbox, "PUT", "/Payments", body, **{"Idempotency-Key": "xml-1"})
    again = _send(sandbox, "PUT", "/Payments", body, **{"Idempotency-Key": "xml-1"})
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert sandbox.ledger.tenant(sandbox.tenant_ids[0]).invoices[inv.id].amount_paid == Decimal("5.00")
