"""Validate every response the Xero sandbox sends against Xero's published OpenAPI specs.

One ``SpecChecker`` is built per test session (parsing the 25,000-line accounting spec
takes about two seconds) and installed as an observer on every sandbox the tests start,
so no response escapes: accounting JSON bodies go through openapi-core against
``xero_accounting.yaml`` (host ``https://api.xero.com``, prefix ``/api.xro/2.0``),
``/Connections`` against ``xero-identity.yaml``, and the few bodies the specs do not
describe (401/403 problem details, the token endpoint, an injected 500) against the exact
shapes Xero documents, written out below. Accounting answers in XML (Xero's default when JSON
is not asked for) are checked for Xero's XML form: a ``<Response>`` whose collection the
operation's JSON schema names, or an ``<ApiException>``; no ``/Date(…)/`` literals; nothing
left null. The specs are vendored in
``connector/sandbox/xero/spec/`` (``SOURCE.md`` there says which version).
"""

from __future__ import annotations

import json
import re
import threading
from importlib import resources
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from connector.sandbox.common.recording import Exchange

# Vendored in the package (see SOURCE.md there): the suite needs nothing beside the repository.
# Located from ``connector.sandbox`` (whose __init__ imports nothing), not by importing the sandbox.
SPEC_DIR = Path(str(resources.files("connector.sandbox") / "xero" / "spec"))
HOST = "https://api.xero.com"

# Xero's identity service writes timestamps without an offset and with seven fractional
# digits (the spec's own example: "2019-12-07T18:46:19.5165400"), which RFC 3339
# "date-time" rejects. Accept exactly that form, and proper RFC 3339.
XERO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})?$")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["Type", "Title", "Status", "Detail", "Instance", "Extensions"],
    "properties": {
        "Type": {"type": "null"},
        "Title": {"enum": ["Unauthorized", "Forbidden"]},
        "Status": {"enum": [401, 403]},
        "Detail": {
            "type": "string",
            "pattern": r"^(AuthenticationUnsuccessful|AuthorizationUnsuccessful|"
            r"TokenExpired: token expired at \d\d/\d\d/\d{4} \d\d:\d\d:\d\d)$",
        },
        "Instance": {"type": "string", "format": "uuid"},
        "Extensions": {"type": "object", "maxProperties": 0},
    },
}
SERVER_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["Title", "Detail", "Status", "Instance"],
    "properties": {
        "Title": {"type": "string"},
        "Detail": {"type": "string"},
        "Status": {"const": 500},
        "Instance": {"type": "string"},
    },
}
TOKEN_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["error"],
    "properties": {"error": {"enum": ["invalid_grant", "invalid_client", "unsupported_grant_type", "invalid_request"]}},
}


def xero_format_checker() -> jsonschema.FormatChecker:
    """JSON-schema formats, with "date-time" relaxed to Xero's offset-less form (webhooks too:
    the webhooks spec's own example is "2025-12-02T00:44:09.923")."""
    checker = jsonschema.FormatChecker()
    checker.checks("date-time")(lambda value: not isinstance(value, str) or bool(XERO_DATETIME.match(value)))
    return checker


class SpecChecker:
    """Checks exchanges; ``problems`` collects every violation with enough context to debug."""

    def __init__(self, spec_dir: Path = SPEC_DIR) -> None:
        accounting = _load_yaml(spec_dir / "xero_accounting.yaml")
        identity = _load_yaml(spec_dir / "xero-identity.yaml")
        self.accounting = OpenAPI.from_dict(accounting, config=Config(spec_validator_cls=None))
        self.identity = OpenAPI.from_dict(
            identity,
            config=Config(
                spec_validator_cls=None,
                extra_format_validators={"date-time": lambda v: bool(XERO_DATETIME.match(v))},
            ),
        )
        token = dict(identity["components"]["schemas"]["AccessToken"])
        token.pop("externalDocs", None)
        self.token_schema = {**token, "required": ["access_token", "expires_in", "token_type", "scope"]}
        self._lock = threading.Lock()
        self.problems: list[str] = []
        self.checked = 0

    # --- the hook ----------------------------------------------------------------------------
    def __call__(self, ex: Exchange) -> None:
        try:
            problem = self.check(ex)
        except Exception as exc:  # a checker bug must fail the test, not vanish in a server thread
            problem = f"checker crashed: {type(exc).__name__}: {exc}"
        with self._lock:
            self.checked += 1
            if problem:
                self.problems.append(f"{ex.method} {ex.path} -> {ex.status}: {problem}")

    def check(self, ex: Exchange) -> str | None:
        if ex.fault in ("drop", "lost"):
            return None  # the client never saw this response
        if ex.area in ("admin", "other"):
            return None  # not a Xero surface
        is_json = ex.content_type.startswith("application/json")
        if ex.area == "accounting" and ex.content_type.startswith("text/xml"):
            return self._check_xml(ex)
        if ex.fault == "malformed":
            try:
                json.loads(ex.body)
            except ValueError:
                return None
            return "a malformed-JSON fault sent parseable JSON"
        if not is_json:
            return self._check_non_json(ex)
        try:
            data = json.loads(ex.body)
        except ValueError as exc:
            return f"declared JSON but did not parse: {exc}"
        if ex.area == "accounting":
            return self._check_accounting(ex, data)
        if ex.area == "identity":
            return self._check_identity(ex, data)
        if ex.area == "oauth":
            return self._check_oauth(ex, data)
        return f"unexpected JSON from area {ex.area}"

    # --- per surface -------------------------------------------------------------------------------
    def _check_non_json(self, ex: Exchange) -> str | None:
        if ex.area == "oauth" and ex.status in (200, 302, 400):
            return None  # the consent page, its redirect, revocation
        if ex.status in (204, 404, 405, 429, 501, 503) or (ex.status == 500 and ex.fault == "drop"):
            return None
        return f"non-JSON body ({ex.content_type!r}) where Xero sends JSON"

    def _check_accounting(self, ex: Exchange, data: Any) -> str | None:
        if ex.status in (401, 403):
            return _jsonschema(data, PROBLEM_SCHEMA)
        if ex.status == 500:
            return _jsonschema(data, SERVER_ERROR_SCHEMA)
        declared = self._declared(ex)
        if declared:
            return self._openapi(self.accounting, ex.method, spec_path(ex.path), ex.status, ex.body)
        if ex.status == 400:
            # GETs declare no 400; check the body against the spec's Error schema via an
            # operation that does declare it.
            return self._openapi(self.accounting, "PUT", "/api.xro/2.0/Payments", 400, ex.body)
        return f"status {ex.status} with a JSON body is not declared for this operation"

    def _check_xml(self, ex: Exchange) -> str | None:
        try:
            root = ET.fromstring(ex.body)
        except ET.ParseError as exc:
            return f"declared XML but did not parse: {exc}"
        texts = [e.text or "" for e in root.iter()]
        if any("/Date(" in t for t in texts):
            return "a JSON /Date(...)/ literal in an XML answer"
        children = {c.tag: c for c in root}
        if ex.status in (400, 501):
            if root.tag != "ApiException" or not {"ErrorNumber", "Type", "Message"} <= set(children):
                return f"a {ex.status} in XML must be an ApiException (ErrorNumber, Type, Message), got <{root.tag}>"
            return None
        if ex.status != 200 or root.tag != "Response":
            return f"unexpected XML answer <{root.tag}> with status {ex.status}"
        if (children.get("Status") is None) or children["Status"].text != "OK":
            return "an XML Response without <Status>OK</Status>"
        names = self._response_properties(ex.method, ex.path)
        extra = set(children) - {"Id", "Status", "ProviderName", "DateTimeUTC", "pagination", "Warnings"}
        if names is not None and not extra <= names:
            return f"XML collection {sorted(extra - names)} is not in the operation's schema {sorted(names)}"
        return None

    def _response_properties(self, method: str, path: str) -> set[str] | None:
        """The property names of the 200 schema of the operation ``method path`` (None: unknown)."""
        spec = self.accounting.spec
        relative = spec_path(path)[len("/api.xro/2.0") :]
        for template, item in (spec / "paths").items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, relative, re.IGNORECASE) and method.lower() in item:
                responses = item / method.lower() / "responses"
                if "200" not in responses:
                    return None
                content = responses / "200" / "content"
                if "application/json" not in content:
                    return None
                schema = content / "application/json" / "schema"
                with schema.open() as resolved:
                    return set((resolved.get("properties") or {}).keys())
        return None

    def _check_identity(self, ex: Exchange, data: Any) -> str | None:
        if ex.status in (401, 403):
            return _jsonschema(data, PROBLEM_SCHEMA)
        if ex.method == "GET" and ex.status == 200:
            return self._openapi(self.identity, "GET", "/Connections", 200, ex.body)
        return f"unexpected JSON from identity: {ex.status}"

    def _check_oauth(self, ex: Exchange, data: Any) -> str | None:
        if ex.path.endswith("/connect/token"):
            if ex.status == 200:
                problem = _jsonschema(data, self.token_schema)
                if problem is None and not isinstance(data.get("scope"), str):
                    problem = "scope must be a space-separated string"
                return problem
            return _jsonschema(data, TOKEN_ERROR_SCHEMA)
        if ex.path.endswith("/connect/revocation"):
            return _jsonschema(data, TOKEN_ERROR_SCHEMA)
        return f"unexpected JSON from {ex.path}"

    def _declared(self, ex: Exchange) -> bool:
        spec = self.accounting.spec
        prefix = "/api.xro/2.0"
        relative = spec_path(ex.path)[len(prefix) :]
        for template, item in (spec / "paths").items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, relative) and ex.method.lower() in item:
                responses = item / ex.method.lower() / "responses"
                return str(ex.status) in responses
        return False

    @staticmethod
    def _openapi(api: OpenAPI, method: str, path: str, status: int, body: bytes) -> str | None:
        request = MockRequest(HOST, method, path)
        response = MockResponse(body, status_code=status, content_type="application/json")
        try:
            api.validate_response(request, response)
        except Exception as exc:
            detail = getattr(exc, "__cause__", None) or exc
            return f"{type(exc).__name__}: {str(detail)[:1500]}"
        return None


#: Paths Xero answers that its spec names otherwise (pyxero asks for /Organisations).
_ALIASES = {"/api.xro/2.0/Organisations": "/api.xro/2.0/Organisation"}


def spec_path(path: str) -> str:
    """The path as the spec names it: no trailing slash (pyxero's ``…/history/``), aliases resolved."""
    trimmed = path.rstrip("/") or path
    return _ALIASES.get(trimmed, trimmed)


def _jsonschema(data: Any, schema: dict[str, Any]) -> str | None:
    try:
        jsonschema.validate(data, schema, format_checker=jsonschema.FormatChecker())
    except jsonschema.ValidationError as exc:
        return f"{exc.message} at {list(exc.absolute_path)}"
    return None


def _load_yaml(path: Path) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader parses the spec 5x faster
    with path.open() as fh:
        return yaml.load(fh, Loader=loader)
