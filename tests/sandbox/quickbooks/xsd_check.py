"""Every response the QuickBooks sandbox sends, checked against Intuit's official XSD.

QBO's JSON is the JAXB/Jackson rendering of the XSD types: element names become keys,
XML attributes (``domain``, ``status``, ``sparse``, ``time``, ``bId``...) become plain keys,
simple-content types such as ``ReferenceType`` become ``{"value", "name", "type"}``,
repeatable elements become arrays and ``xs:any`` wildcards (``LineEx``) hold anything.
The checker walks a JSON body from the ``IntuitResponse`` type down and reports any key
the type does not define, any value outside an enumeration, and values of the wrong JSON
kind (a string where the XSD says decimal, ...). XML bodies (the 429 throttle answer) are
validated by xmlschema itself. The lower-case 401 envelope comes from Intuit's gateway,
not from the XSD; it is checked against its recorded shape.

It runs as a sandbox observer, so no test can receive a body that escaped it. The XSD is
vendored in ``connector/sandbox/quickbooks/xsd/`` (``SOURCE.md`` there says which version).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import xmlschema
from xmlschema.validators import XsdAnyElement, XsdComplexType, XsdElement

from connector.sandbox.common.recording import Exchange

NS = "{http://schema.intuit.com/finance/v3}"
# Vendored in the package (see SOURCE.md there): the suite needs nothing beside the repository.
# Located from ``connector.sandbox`` (whose __init__ imports nothing), not by importing the sandbox.
XSD_DIR = Path(str(resources.files("connector.sandbox") / "quickbooks" / "xsd"))
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
AUTH_ENVELOPE_KEYS = {
    "warnings",
    "intuitObject",
    "fault",
    "report",
    "queryResponse",
    "batchItemResponse",
    "attachableResponse",
    "syncErrorResponse",
    "requestId",
    "time",
    "status",
    "cdcresponse",
}


def load_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD_DIR / "IntuitRestServiceDef.xsd"))


class XsdChecker:
    """An observer collecting every way a response departs from the XSD (``problems``)."""

    def __init__(self, schema: xmlschema.XMLSchema | None = None) -> None:
        self.schema = schema or load_schema()
        self.problems: list[str] = []
        self.entities: Counter[str] = Counter()  # entity kinds seen, so tests can prove coverage
        self.xml_checked = 0
        # type id -> (child name -> (element, repeatable, is an entity), xs:any allowed)
        self._children: dict[int, tuple[dict[str, tuple[XsdElement, bool, bool]], bool]] = {}
        self._lock = threading.Lock()
        self.response_type = self.schema.maps.types[NS + "IntuitResponse"]

    # --- the observer -------------------------------------------------------------------------
    def __call__(self, exchange: Exchange) -> None:
        if exchange.area != "api" or exchange.fault in ("drop", "lost", "malformed") or not exchange.body:
            return
        where = f"{exchange.method} {exchange.path} -> {exchange.status}"
        if "xml" in exchange.content_type:
            self.check_xml(exchange.body, where)
        elif "json" in exchange.content_type:
            try:
                document = json.loads(exchange.body)
            except ValueError as exc:
                self._problem(f"{where}: not JSON ({exc})")
                return
            if exchange.status == 401:
                self.check_auth_envelope(document, where)
            else:
                self.check_response(document, where)

    def _problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    # --- XML ------------------------------------------------------------------------------------
    def check_xml(self, body: bytes, where: str) -> None:
        errors = list(self.schema.iter_errors(body.decode()))
        with self._lock:
            self.xml_checked += 1
        for error in errors[:3]:
            self._problem(f"{where}: XML invalid: {error.reason} at {error.path}")

    # --- the gateway's 401 ------------------------------------------------------------------------
    def check_auth_envelope(self, document: Any, where: str) -> None:
        if not isinstance(document, dict) or set(document) != AUTH_ENVELOPE_KEYS:
            self._problem(f"{where}: 401 body is not the gateway envelope: {sorted(document)}")
            return
        errors = document["fault"].get("error") or []
        if not errors or set(errors[0]) != {"message", "detail", "code", "element"}:
            self._problem(f"{where}: 401 fault.error has the wrong shape")

    # --- JSON -------------------------------------------------------------------------------------
    def check_response(self, document: Any, where: str) -> None:
        self.check(document, self.response_type, where)

    def _members(self, complex_type: XsdComplexType) -> tuple[dict[str, tuple[XsdElement, bool, bool]], bool]:
        """Child elements by local name, with substitution groups expanded (a member takes the
        occurrence bounds of the reference it stands in for), and whether xs:any is allowed."""
        key = id(complex_type)
        cached = self._children.get(key)
        if cached is not None:
            return cached
        children: dict[str, tuple[XsdElement, bool, bool]] = {}
        wildcard = False
        content = complex_type.content
        if hasattr(content, "iter_elements"):
            for element in content.iter_elements():
                if isinstance(element, XsdAnyElement):
                    wildcard = True
                    continue
                repeated = element.max_occurs is None or element.max_occurs > 1
                members = self.schema.maps.substitution_groups.get(element.name, ())
                if not members:
                    children[element.local_name] = (element, repeated, False)
                for member in members:
                    children[member.local_name] = (member, repeated, True)
        self._children[key] = (children, wildcard)
        return children, wildcard

    def check(self, value: Any, xsd_type: Any, path: str) -> None:
        if isinstance(xsd_type, XsdComplexType):
            self._check_complex(value, xsd_type, path)
        else:
            self._check_simple(value, xsd_type, path)

    def _check_complex(self, value: Any, xsd_type: XsdComplexType, path: str) -> None:
        if not isinstance(value, dict):
            self._problem(f"{path}: expected an object for {xsd_type.local_name}, got {type(value).__name__}")
            return
        attributes = xsd_type.attributes
        simple_content = xsd_type.has_simple_content()
        children, wildcard = self._members(xsd_type)
        for key, item in value.items():
            where = f"{path}.{key}"
            if key in attributes:
                self._check_simple(item, attributes[key].type, where)
            elif simple_content and key == "value":
                self._check_simple(item, xsd_type.content, where)
            elif key in children:
                element, repeated, entity = children[key]
                if entity:
                    with self._lock:
                        self.entities[key] += len(item) if isinstance(item, list) else 1
                if repeated:
                    if not isinstance(item, list):
                        self._problem(f"{where}: {key} repeats in the XSD, expected an array")
                        continue
                    for n, entry in enumerate(item):
                        self.check(entry, element.type, f"{where}[{n}]")
                elif isinstance(item, list):
                    self._problem(f"{where}: {key} occurs at most once in the XSD, got an array")
                else:
                    self.check(item, element.type, where)
            elif not wildcard:
                self._problem(f"{where}: {key!r} is not defined for {xsd_type.local_name}")

    def _check_simple(self, value: Any, xsd_type: Any, path: str) -> None:
        enumeration = getattr(xsd_type, "enumeration", None)
        if enumeration and value not in enumeration:
            self._problem(f"{path}: {value!r} is not one of the XSD's values {enumeration}")
            return
        primitive = getattr(getattr(xsd_type, "primitive_type", None), "local_name", None) or "string"
        if primitive == "decimal":
            name = getattr(xsd_type, "local_name", "") or ""
            integral = "nteger" in name or name in ("int", "long", "short")
            ok = isinstance(value, int) if integral else isinstance(value, (int, float))
            ok = ok and not isinstance(value, bool)
        elif primitive == "boolean":
            ok = isinstance(value, bool)
        elif primitive == "date":
            ok = isinstance(value, str) and bool(_DATE.match(value))
        elif primitive == "dateTime":
            ok = isinstance(value, str) and bool(_DATETIME.match(value))
        else:
            ok = isinstance(value, str)
        if not ok:
            self._problem(f"{path}: {value!r} is not a valid JSON {primitive} for {getattr(xsd_type, 'name', '?')}")
