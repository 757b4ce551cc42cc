"""Xero's XML: request bodies read into the same shapes JSON gives, answers written as Xero writes them.

The Accounting API is XML first: a body may be ``<Invoices><Invoice>…</Invoice></Invoices>`` or
one bare ``<Invoice>…</Invoice>`` (what pyxero sends for every write), and an answer is XML
unless the client asks for JSON (``Accept: application/json``; the Xero docs: "By default all
successful responses on the accounting API are returned as XML").

In: a plural element (``LineItems``, ``Payments``…) becomes a list of its children, an element
with children an object, anything else its text (the JSON readers already take numbers, booleans
and ISO dates as text). A DOCTYPE is refused outright (no entity tricks).

Out: ``<Response>`` for answers and ``<ApiException>`` for errors, both with the xsi/xsd
namespace declarations Xero writes; lists as a plural element of singular children; dates as
``2024-01-31T00:00:00`` (UTC, milliseconds when there are any), never ``/Date(…)/``; booleans
``true``/``false``; amounts as their exact digits; the JSON-only ``DateString`` companions left
out; characters XML 1.0 cannot carry dropped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

XML = "text/xml; charset=utf-8"
_NAMESPACES = {
    "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "xmlns:xsd": "http://www.w3.org/2001/XMLSchema",
}

#: Plural element -> the element each item is written as (where the plain rules get it wrong).
SINGULAR: dict[str, str] = {
    "Accounts": "Account",
    "Addresses": "Address",
    "Allocations": "Allocation",
    "Attachments": "Attachment",
    "Attributes": "Attribute",
    "BankTransactions": "BankTransaction",
    "BankTransfers": "BankTransfer",
    "BatchPayments": "BatchPayment",
    "BrandingThemes": "BrandingTheme",
    "Cells": "Cell",
    "ContactGroups": "ContactGroup",
    "ContactPersons": "ContactPerson",
    "Contacts": "Contact",
    "CreditNotes": "CreditNote",
    "Currencies": "Currency",
    "Elements": "DataContractBase",
    "ExternalLinks": "ExternalLink",
    "Fields": "Field",
    "HistoryRecords": "HistoryRecord",
    "Invoices": "Invoice",
    "Items": "Item",
    "LineItems": "LineItem",
    "OnlineInvoices": "OnlineInvoice",
    "Organisations": "Organisation",
    "Overpayments": "Overpayment",
    "Payments": "Payment",
    "Phones": "Phone",
    "Prepayments": "Prepayment",
    "ReportTitles": "ReportTitle",
    "Reports": "Report",
    "Rows": "Row",
    "TaxComponents": "TaxComponent",
    "TaxRates": "TaxRate",
    "Tracking": "TrackingCategory",
    "ValidationErrors": "ValidationError",
    "Warnings": "Warning",
}
#: Keys JSON answers carry only to help JSON readers with dates.
_JSON_ONLY = frozenset({"DateString", "DueDateString", "UpdatedDateUTCString", "DateUTCString"})
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_NOT_XML_CHAR = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class XmlBodyError(ValueError):
    """The body is not XML the API can read."""


def singular(plural: str) -> str:
    if plural in SINGULAR:
        return SINGULAR[plural]
    if plural.endswith("ies"):
        return plural[:-3] + "y"
    if plural.endswith("s"):
        return plural[:-1]
    return plural


# --- reading ----------------------------------------------------------------------------------
def looks_like_xml(raw: bytes, mimetype: str) -> bool:
    return mimetype in ("application/xml", "text/xml") or raw.lstrip()[:1] == b"<"


def parse_body(raw: bytes) -> Any:
    """The body as JSON would have given it: ``{"Invoices": [...]}`` for a plural root, the
    element itself for a singular one."""
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise XmlBodyError("DOCTYPE and ENTITY declarations are not accepted")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise XmlBodyError(f"The request body is not well-formed XML: {exc}") from None
    value = _read(root)
    if isinstance(value, list):
        return {_local(root.tag): value}
    if isinstance(value, str):
        return {_local(root.tag): value} if value else {}
    return value


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _is_list(tag: str, children: list[ET.Element]) -> bool:
    if tag in SINGULAR:
        return True
    one = singular(tag)
    return bool(children) and one != tag and all(_local(c.tag) == one for c in children)


def _read(element: ET.Element) -> Any:
    tag = _local(element.tag)
    children = list(element)
    if _is_list(tag, children):
        return [_read(child) for child in children]
    if children:
        out: dict[str, Any] = {}
        for child in children:
            out[_local(child.tag)] = _read(child)
        return out
    return (element.text or "").strip()


# --- writing ----------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    match = _MS_DATE.match(text)
    if match:
        when = datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S")
        if when.microsecond:
            stamp += f".{when.microsecond // 1000:03d}"
        return stamp
    return _NOT_XML_CHAR.sub("", text)


def _write(parent: ET.Element, key: str, value: Any, kind: str | None = None) -> None:
    if value is None or key in _JSON_ONLY:
        return
    if isinstance(value, list):
        holder = ET.SubElement(parent, key)
        item_tag = singular(key)
        for item in value:
            if isinstance(item, dict):
                child = ET.SubElement(holder, item_tag)
                if key == "Elements" and kind:
                    child.set("xsi:type", kind)
                _fill(child, item)
            else:
                _write(holder, item_tag, item)
        return
    element = ET.SubElement(parent, key)
    if isinstance(value, dict):
        _fill(element, value)
    else:
        element.text = _text(value)


def _fill(element: ET.Element, doc: dict[str, Any], kind: str | None = None) -> None:
    for key, value in doc.items():
        _write(element, key, value, kind)


def render(document: dict[str, Any], element_kind: str | None = None) -> bytes:
    """A JSON-shaped answer as Xero's XML: ``<ApiException>`` for an error body (with
    ``element_kind`` as each element's ``xsi:type``), ``<Response>`` otherwise."""
    is_error = "ErrorNumber" in document
    root = ET.Element("ApiException" if is_error else "Response", _NAMESPACES)
    _fill(root, document, element_kind)
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)
