"""Xero's ``where`` and ``order`` query parameters, compiled to Python predicates.

Xero evaluates ``where`` as a .NET-like expression. The sandbox understands the subset
integrations use: comparisons (``== != > >= < <=``) between a field path and a literal
(``"text"``, numbers, ``true``/``false``, ``null``, ``Guid("...")``,
``DateTime(2024,1,31[,h,m,s])``), string methods ``.Contains/.StartsWith/.EndsWith("x")``,
``.ToLower()``/``.ToUpper()`` before a comparison, ``AND``/``OR``/``&&``/``||``, ``NOT``/``!`` and
parentheses. Anything else is a 400 ``QueryParseException``, like Xero; so is comparing a field
with a literal of another type (``AmountDue>"0"``: .NET's "Operator '>' incompatible with
operand types 'Decimal' and 'String'"), a ``Guid("…")`` that is not a GUID (any .NET format is
one: ``N``, ``D``, ``B``, ``P``) and a ``DateTime(…)`` that is not a date.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.sandbox.xero.model import parse_guid

Getter = Callable[[Any], Any]
Predicate = Callable[[Any], bool]


class QueryError(ValueError):
    """The expression cannot be parsed or names an unknown field."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|>=|<=|&&|\|\||[<>!(),.])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"unexpected character at position {pos}: {text[pos : pos + 10]!r}")
        kind = match.lastgroup or ""
        tokens.append(_Tok(kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a is not None and b is not None and a > b,
    ">=": lambda a, b: a is not None and b is not None and a >= b,
    "<": lambda a, b: a is not None and b is not None and a < b,
    "<=": lambda a, b: a is not None and b is not None and a <= b,
}
_CASE: dict[str, Callable[[str], str]] = {"tolower": str.lower, "toupper": str.upper}
#: How deep parentheses and NOTs may nest (a bound, so no expression can exhaust the stack).
_MAX_DEPTH = 64
_METHODS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda a, b: b.lower() in a.lower(),
    "startswith": lambda a, b: a.lower().startswith(b.lower()),
    "endswith": lambda a, b: a.lower().endswith(b.lower()),
}


class _Parser:
    def __init__(self, text: str, fields: Mapping[str, Getter]) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.fields = {k.lower(): v for k, v in fields.items()}

    def peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise QueryError("unexpected end of expression")
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise QueryError(f"expected {text!r}, found {tok.text!r}")

    def at(self, *texts: str) -> bool:
        tok = self.peek()
        return tok is not None and (tok.text in texts or tok.text.upper() in texts)

    def parse(self) -> Predicate:
        pred = self.or_expr()
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return pred

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.at("OR", "||"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda obj: any(p(obj) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.at("AND", "&&"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda obj: all(p(obj) for p in parts))

    def unary(self) -> Predicate:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise QueryError("the expression is nested too deeply")
        try:
            if self.at("NOT", "!"):
                self.take()
                inner = self.unary()
                return lambda obj: not inner(obj)
            if self.at("("):
                self.take()
                inner = self.or_expr()
                self.expect(")")
                return inner
            return self.comparison()
        finally:
            self.depth -= 1

    def comparison(self) -> Predicate:
        path = [self.take_name()]
        method: str | None = None
        while self.at("."):
            self.take()
            name = self.take_name()
            if self.at("("):
                method = name.lower()
                break
            path.append(name)
        field = ".".join(path).lower()
        getter = self.fields.get(field)
        if getter is None:
            raise QueryError(f"No property or field '{'.'.join(path)}' exists")
        shown = ".".join(path)
        if method in _CASE:  # Name.ToLower()=="acme"
            self.expect("(")
            self.expect(")")
            case, plain = _CASE[method], getter
            getter = lambda obj: _cased(plain(obj), case, shown)  # noqa: E731
            method = None
        if method is not None:
            fn = _METHODS.get(method)
            if fn is None:
                raise QueryError(f"No applicable method '{method}' exists")
            self.expect("(")
            needle = self.literal()
            self.expect(")")
            if not isinstance(needle, str):
                raise QueryError(f"{method} takes a string")
            return lambda obj: _called(getter(obj), fn, needle, shown, method)
        if self.peek() is None or self.at("AND", "OR", "&&", "||", ")"):  # a bare boolean field
            return lambda obj: _truth(getter(obj), shown)
        op = self.take().text
        cmp = _CMP.get(op)
        if cmp is None:
            raise QueryError(f"unknown operator {op!r}")
        value = self.literal()
        return lambda obj: _compare(getter(obj), value, cmp, op, shown)

    def take_name(self) -> str:
        tok = self.take()
        if tok.kind != "name":
            raise QueryError(f"expected a field name, found {tok.text!r}")
        return tok.text

    def literal(self) -> Any:
        tok = self.take()
        if tok.kind == "string":
            try:
                return tok.text[1:-1].encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
            except (UnicodeError, ValueError):
                try:
                    return bytes(tok.text[1:-1], "utf-8").decode("unicode_escape")
                except (UnicodeError, ValueError):
                    raise QueryError(f"unreadable string literal {tok.text[:40]!r}") from None
        if tok.kind == "number":
            try:
                return Decimal(tok.text)
            except InvalidOperation:
                raise QueryError(f"unreadable number {tok.text[:40]!r}") from None
        if tok.kind != "name":
            raise QueryError(f"expected a value, found {tok.text!r}")
        word = tok.text.lower()
        if word in ("true", "false"):
            return word == "true"
        if word == "null":
            return None
        if word == "guid":
            self.expect("(")
            inner = self.literal()
            self.expect(")")
            guid = parse_guid(inner) if isinstance(inner, str) else None
            if guid is None:
                raise QueryError(
                    "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx): "
                    f"{str(inner)[:60]!r}"
                )
            return _Guid(guid)
        if word == "datetime":
            if self.at("."):  # DateTime.Parse("2024-01-31")
                self.take()
                self.take_name()
                self.expect("(")
                text = self.literal()
                self.expect(")")
                try:
                    return _aware(datetime.fromisoformat(str(text)))
                except ValueError:
                    raise QueryError(f"String was not recognized as a valid DateTime: {str(text)[:40]!r}") from None
            self.expect("(")
            parts = [self._whole()]
            while self.at(","):
                self.take()
                parts.append(self._whole())
            self.expect(")")
            if not 3 <= len(parts) <= 7:
                raise QueryError("DateTime takes year, month, day and optionally hour, minute, second")
            try:
                return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]
            except (ValueError, OverflowError):
                raise QueryError("Year, Month, and Day parameters describe an un-representable DateTime.") from None
        raise QueryError(f"unknown value {tok.text!r}")

    def _whole(self) -> int:
        value = self.literal()
        if not isinstance(value, Decimal) or value != value.to_integral_value() or abs(value) > 10**6:
            raise QueryError("DateTime takes whole numbers")
        return int(value)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class _Guid(str):
    """A ``Guid("…")`` literal (canonical form): compared with id fields, never with text."""

    __slots__ = ()


def _kind(value: Any) -> str:
    """The .NET type name Xero's error would give a value (for type checks)."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | Decimal):
        return "Decimal"
    if isinstance(value, datetime | date):
        return "DateTime"
    if isinstance(value, _Guid):
        return "Guid"
    return "String"


def _compare(field_value: Any, literal: Any, cmp: Callable[[Any, Any], bool], op: str, field: str) -> bool:
    """``field op literal``; a literal of another type than the field is Xero's 400."""
    if field_value is None or literal is None:
        return cmp(field_value, literal)
    left, right = _kind(field_value), _kind(literal)
    if left == "String" and field.lower().endswith("id"):
        left = "Guid"  # InvoiceID, Contact.ContactID...: ids are Guids to Xero, never text
    if left != right:
        raise QueryError(f"Operator '{op}' incompatible with operand types '{left}' and '{right}' ({field})")
    if left == "Boolean" and op not in ("==", "!="):
        raise QueryError(f"Operator '{op}' incompatible with operand types 'Boolean' and 'Boolean' ({field})")
    try:
        return cmp(_coerce(field_value, literal), literal)
    except TypeError:
        raise QueryError(f"Operator '{op}' incompatible with operand types '{left}' and '{right}' ({field})") from None


def _called(value: Any, fn: Callable[[str, str], bool], needle: str, field: str, method: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, str) or isinstance(value, _Guid):
        raise QueryError(f"No applicable method '{method}' exists in type '{_kind(value)}' ({field})")
    return fn(value, needle)


def _cased(value: Any, case: Callable[[str], str], field: str) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise QueryError(f"No applicable method exists in type '{_kind(value)}' ({field})")
    return case(value)


def _truth(value: Any, field: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    raise QueryError(f"Expression of type 'Boolean' expected, found '{_kind(value)}' ({field})")


def _coerce(field_value: Any, literal: Any) -> Any:
    """Make a field comparable with the literal: dates vs DateTime, GUIDs case-blind."""
    if (
        isinstance(literal, datetime)
        and isinstance(field_value, date)
        and not isinstance(field_value, datetime)
    ):
        return datetime(field_value.year, field_value.month, field_value.day, tzinfo=UTC)
    if (
        isinstance(literal, Decimal)
        and isinstance(field_value, int | Decimal)
        and not isinstance(field_value, bool)
    ):
        return Decimal(field_value)
    if isinstance(literal, str) and isinstance(field_value, str) and _looks_like_guid(literal):
        return field_value.lower()
    return field_value


_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def _looks_like_guid(text: str) -> bool:
    return bool(_GUID.match(text))


def compile_where(text: str | None, fields: Mapping[str, Getter]) -> Predicate | None:
    """A predicate for ``text``, or ``None`` when there is no filter."""
    if text is None or not text.strip():
        return None
    return _Parser(text, fields).parse()


def parse_order(text: str | None, fields: Mapping[str, Getter]) -> list[tuple[str, Getter, bool]]:
    """``"UpdatedDateUTC ASC, InvoiceNumber DESC"`` -> [(name, getter, descending)]."""
    if text is None or not text.strip():
        return []
    lookup = {k.lower(): v for k, v in fields.items()}
    out: list[tuple[str, Getter, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise QueryError(f"cannot order by {part.strip()!r}")
        getter = lookup.get(words[0].lower())
        if getter is None:
            raise QueryError(f"No property or field '{words[0]}' exists")
        out.append((words[0].lower(), getter, len(words) == 2 and words[1].upper() == "DESC"))
    return out


def sort_key(value: Any) -> tuple[int, Any]:
    """Sort None first and keep mixed types from raising."""
    if value is None:
        return (0, 0)
    if isinstance(value, str):
        return (1, value.lower())
    return (2, value)


#: Fields whose ``field == "text"`` / ``field != "text"`` can never raise (always text or null, and
#: not an id): such a conjunct may stand before an ``UpdatedDateUTC`` bound that is lifted out.
_PLAIN_TEXT_FIELDS = frozenset({"type", "status", "currencycode", "invoicenumber", "reference"})


@dataclass(frozen=True)
class UpdateBound:
    """``UpdatedDateUTC >= DateTime(…)`` (or ``>``) lifted out of a top-level ``AND``.

    ``rest`` is the predicate of the other conjuncts (None when there are none) and ``rest_key``
    their tokens, so queries that differ only in the bound share one cached scan. On every
    record at or after the bound, the whole expression and ``rest`` give the same answer and raise
    the same errors; before it the whole expression is false without raising (the conjuncts before
    the bound are plain text comparisons, and the bound itself never raises).
    """

    op: str
    value: datetime
    rest_key: tuple[str, ...]
    rest: Predicate | None

    def holds(self, stamp: datetime) -> bool:
        return _CMP[self.op](stamp, self.value)


def update_lower_bound(
    text: str | None, fields: Mapping[str, Getter], field: str = "updateddateutc"
) -> UpdateBound | None:
    """The lower bound on ``field`` of an expression that is a top-level ``AND`` holding one, or None.

    Call it only for an expression :func:`compile_where` accepted. None (no lifting, a full scan
    from If-Modified-Since) whenever the shape is anything else: an ``OR`` at the top, a bound
    behind a conjunct that could raise, a literal that is not a DateTime.
    """
    if text is None or not text.strip():
        return None
    try:
        tokens = _tokenize(text)
    except QueryError:
        return None
    conjuncts: list[list[_Tok]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.kind == "op" and tok.text == "(":
            depth += 1
        elif tok.kind == "op" and tok.text == ")":
            depth -= 1
        if depth == 0 and tok.kind in ("name", "op") and tok.text.upper() in ("OR", "||"):
            return None
        if depth == 0 and tok.kind in ("name", "op") and tok.text.upper() in ("AND", "&&"):
            conjuncts.append([])
            continue
        conjuncts[-1].append(tok)
    for i, conj in enumerate(conjuncts):
        bound = _bound_of(conj, fields, field)
        if bound is not None:
            rest = conjuncts[:i] + conjuncts[i + 1 :]
            joined: list[_Tok] = []
            for part in rest:
                if joined:
                    joined.append(_Tok("name", "AND"))
                joined.extend(part)
            parser = _Parser("", fields)
            parser.tokens = joined
            return UpdateBound(bound[0], bound[1], tuple(t.text for t in joined), parser.parse() if joined else None)
        if not _never_raises(conj, field):
            return None
    return None


def _bound_of(conj: list[_Tok], fields: Mapping[str, Getter], field: str) -> tuple[str, datetime] | None:
    if len(conj) < 3 or conj[0].kind != "name" or conj[0].text.lower() != field or conj[1].text not in (">=", ">"):
        return None
    parser = _Parser("", fields)
    parser.tokens = conj[2:]
    try:
        value = parser.literal()
    except QueryError:
        return None
    if parser.pos != len(parser.tokens) or not isinstance(value, datetime):
        return None
    return conj[1].text, value


def _never_raises(conj: list[_Tok], field: str) -> bool:
    """``PlainTextField ==/!= "text"``, or a comparison of the stamp field with a DateTime."""
    if len(conj) < 3 or conj[0].kind != "name":
        return False
    name = conj[0].text.lower()
    if name in _PLAIN_TEXT_FIELDS:
        return len(conj) == 3 and conj[1].text in ("==", "!=") and conj[2].kind == "string"
    if name == field and conj[1].text in _CMP:
        parser = _Parser("", {})
        parser.tokens = conj[2:]
        try:
            value = parser.literal()
        except QueryError:
            return False
        return parser.pos == len(parser.tokens) and isinstance(value, datetime)
    return False
