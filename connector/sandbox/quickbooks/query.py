"""QBO's query language (the subset QBO itself accepts) and its evaluation.

Grammar (keywords and property names are case-insensitive, spacing is free)::

    SELECT (* | COUNT(*) | prop (, prop)*) FROM Entity
      [WHERE cond (AND cond)*]          no OR, no NOT, no parentheses
      [ORDER BY | ORDERBY prop [ASC|DESC] (, prop [ASC|DESC])*]
      [STARTPOSITION n]                 1-based, default 1
      [MAXRESULTS n]                    default 100, at most 1000
    cond := prop (= | < | > | <= | >= | LIKE) value | prop IN (value, ...)
    value := 'text' (\\' escapes a quote) | number | true | false

Values compare by the property's type: ``'0'`` against ``Balance`` is a number, a stamp
against ``MetaData.LastUpdatedTime`` is a point in time (``-0700``, ``-07:00``, ``Z`` or
company-local when it has no offset), a date property takes ``'YYYY-MM-DD'``; a literal of the
wrong form is refused before anything is read (4001), whether or not a record would have met it.
Inactive accounts and customers are left out unless the WHERE clause mentions ``Active``, as
QBO does. Queries ordered by LastUpdatedTime start from the change index instead of scanning.

A property list (``SELECT Id, Balance FROM Invoice``) returns each entity with only those
properties (those that have a value), marked ``"sparse": true`` beside ``"domain": "QBO"``;
nothing else is added, not even Id or SyncToken when they were not named. Top-level properties
only: a dotted path, an address (``BillAddr``), ``InvoiceLink`` or a name the entity does not
have is QBO's 4001 "Property X not found for Entity Y". An unknown entity is 4001 "invalid
context declaration".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.sandbox.quickbooks.books import Books
from connector.sandbox.quickbooks.model import BY_LOWER, Record
from connector.sandbox.quickbooks.render import document
from connector.sandbox.quickbooks.rules import RULES
from connector.sandbox.quickbooks.wire import Fragment, QboError, parse_stamp, strict_date
from connector.sandbox.quickbooks.xsd_names import ADDRESS_FIELDS, DATE_FIELDS, FIELDS

MAX_RESULTS = 1000
DEFAULT_RESULTS = 100
STAMPS = {"metadata.lastupdatedtime": "updated", "metadata.createtime": "created"}

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op><=|>=|!=|<>|=|<|>)|(?P<punct>[(),*])"
    r"|(?P<num>-?\d+(?:\.\d+)?(?![\w.]))|(?P<word>[A-Za-z_][\w.]*))"
)


@dataclass
class Condition:
    prop: str
    op: str  # = < > <= >= LIKE IN
    values: list[Any]


@dataclass
class Query:
    entity: str
    count: bool = False
    columns: list[str] | None = None  # a property list (canonical names); None for * and COUNT(*)
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (prop, descending)
    start: int = 1
    max_results: int = DEFAULT_RESULTS


class _Tokens:
    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, str]] = []
        pos, text = 0, text.strip().rstrip(";")
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if not match or match.end() == pos:
                raise QboError.parse_error(f"Encountered \"{text[pos:pos + 10]}\" at column {pos + 1}")
            kind = match.lastgroup or ""
            self.items.append((kind, match.group(kind)))
            pos = match.end()
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def next(self, expected: str = "a token") -> tuple[str, str]:
        item = self.peek()
        if item is None:
            raise QboError.parse_error(f"Encountered \"<EOF>\". Was expecting {expected}")
        self.pos += 1
        return item

    def keyword(self, *words: str) -> str | None:
        item = self.peek()
        if item and item[0] == "word" and item[1].upper() in words:
            self.pos += 1
            return item[1].upper()
        return None

    def expect_keyword(self, word: str) -> None:
        if self.keyword(word) is None:
            found = self.peek()
            raise QboError.parse_error(f"Encountered \"{found[1] if found else '<EOF>'}\". Was expecting {word}")

    def expect_punct(self, char: str) -> None:
        kind, value = self.next(f'"{char}"')
        if kind != "punct" or value != char:
            raise QboError.parse_error(f"Encountered \"{value}\". Was expecting \"{char}\"")


def _literal(token: tuple[str, str]) -> Any:
    kind, value = token
    if kind == "str":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    if kind == "num":
        return Decimal(value)
    if kind == "word" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise QboError.parse_error(f"Encountered \"{value}\". Was expecting a value")


def parse(text: str) -> Query:
    tokens = _Tokens(text)
    tokens.expect_keyword("SELECT")
    count = False
    selected: list[str] | None = None
    if tokens.keyword("COUNT"):
        tokens.expect_punct("(")
        tokens.expect_punct("*")
        tokens.expect_punct(")")
        count = True
    elif tokens.peek() == ("punct", "*"):
        tokens.next()
    else:
        selected = [_property_name(tokens)]
        while tokens.peek() == ("punct", ","):
            tokens.next()
            selected.append(_property_name(tokens))
    tokens.expect_keyword("FROM")
    kind, entity = tokens.next("an entity name")
    if kind != "word":
        raise QboError.parse_error(f"Encountered \"{entity}\". Was expecting an entity name")
    canonical = BY_LOWER.get(entity.lower())
    if canonical is None:
        raise QboError.invalid_context(entity)
    query = Query(canonical, count)
    if selected is not None:
        query.columns = _columns(canonical, selected)
    if tokens.keyword("WHERE"):
        query.where.append(_condition(tokens))
        while tokens.keyword("AND"):
            query.where.append(_condition(tokens))
        if tokens.keyword("OR"):
            raise QboError.parse_error('Encountered "OR". OR is not supported; use IN')
    ordered = tokens.keyword("ORDERBY") is not None
    if not ordered and tokens.keyword("ORDER"):
        tokens.expect_keyword("BY")
        ordered = True
    while ordered:
        kind, prop = tokens.next("a property")
        if kind != "word":
            raise QboError.parse_error(f"Encountered \"{prop}\". Was expecting a property")
        descending = tokens.keyword("ASC", "DESC") == "DESC"
        query.order.append((prop, descending))
        if tokens.peek() != ("punct", ","):
            break
        tokens.next()
    seen: set[str] = set()
    while (word := tokens.keyword("STARTPOSITION", "MAXRESULTS")) is not None:
        if word in seen:
            raise QboError.parse_error(f"Encountered \"{word}\" twice")
        seen.add(word)
        kind, value = tokens.next("a number")
        if kind != "num" or "." in value:
            raise QboError.parse_error(f"Encountered \"{value}\". Was expecting a whole number")
        number = int(value)
        if word == "STARTPOSITION":
            query.start = max(1, number)
        else:
            if number > MAX_RESULTS:
                raise QboError.invalid_query(f"value {number} is too large. Max allowed value is {MAX_RESULTS}.")
            if number < 1:
                raise QboError.invalid_query(f"MAXRESULTS must be at least 1, got {number}")
            query.max_results = number
    leftover = tokens.peek()
    if leftover is not None:
        raise QboError.parse_error(f"Encountered \"{leftover[1]}\" at the end of the query")
    return query


def _property_name(tokens: _Tokens) -> str:
    kind, prop = tokens.next("a property")
    if kind != "word" or prop.upper() in ("FROM", "WHERE"):
        raise QboError.parse_error(f"Encountered \"{prop}\". Was expecting a property or \"*\"")
    return prop


#: Properties ``SELECT *`` returns but a property list may not name: addresses, and the invoice's
#: payment link ("Property InvoiceLink not found for Entity Invoice", as integrators report it).
UNSELECTABLE = ADDRESS_FIELDS | {"InvoiceLink"}


def _columns(entity: str, selected: list[str]) -> list[str]:
    """The canonical names of a property list: top-level properties of the entity, save UNSELECTABLE."""
    names = {n.lower(): n for n in FIELDS[entity]}
    out: list[str] = []
    for prop in selected:
        name = names.get(prop.lower())
        if name is None or name in UNSELECTABLE:
            raise QboError.property_not_found(prop, entity)
        if name not in out:
            out.append(name)
    return out


def _condition(tokens: _Tokens) -> Condition:
    kind, prop = tokens.next("a property")
    if kind != "word":
        raise QboError.parse_error(f"Encountered \"{prop}\". Was expecting a property")
    if tokens.keyword("IN"):
        tokens.expect_punct("(")
        values = [_literal(tokens.next("a value"))]
        while tokens.peek() == ("punct", ","):
            tokens.next()
            values.append(_literal(tokens.next("a value")))
        tokens.expect_punct(")")
        return Condition(prop, "IN", values)
    if tokens.keyword("LIKE"):
        return Condition(prop, "LIKE", [_literal(tokens.next("a value"))])
    kind, op = tokens.next("an operator")
    if kind != "op" or op in ("!=", "<>"):
        raise QboError.parse_error(f"Encountered \"{op}\". Was expecting one of =, <, >, <=, >=, IN, LIKE")
    return Condition(prop, op, [_literal(tokens.next("a value"))])


# --- evaluation ----------------------------------------------------------------------------------
Getter = Callable[[Record], Any]


def _getter(books: Books, entity: str, prop: str) -> tuple[str, Getter]:
    """(value kind, getter) for a property path; kinds: id, stamp, date, value."""
    lower = prop.lower()
    if lower == "id":
        return "id", lambda r: int(r.id)
    if lower == "synctoken":
        return "id", lambda r: r.sync
    if lower in STAMPS:
        attr = STAMPS[lower]
        return "stamp", lambda r: getattr(r, attr)
    parts = prop.split(".")
    names = {n.lower(): n for n in FIELDS[entity]}
    head = names.get(parts[0].lower())
    if head is None:
        raise QboError.property_not_found(prop, entity)
    rest = [p for p in parts[1:]]
    rules = RULES[entity]
    kind = "date" if head in DATE_FIELDS and not rest else "value"

    def get(record: Record) -> Any:
        value = record.doc.get(head)
        if value is None and not rules.cacheable:
            value = rules.dynamic(books, record).get(head)
        for part in rest:
            if not isinstance(value, dict):
                return None
            value = next((v for k, v in value.items() if k.lower() == part.lower()), None)
        if isinstance(value, dict) and "value" in value:
            return value["value"]
        return value

    return kind, get


def _coerce(sample: Any, literal: Any, kind: str, offset: int) -> Any:
    """The literal converted to the type of the stored value it is compared with."""
    try:
        if kind == "id":
            return int(Decimal(str(literal)))
        if kind == "stamp":
            return parse_stamp(literal, offset)
        if kind == "date":
            return strict_date(literal).isoformat()
        if isinstance(sample, bool):
            return literal if isinstance(literal, bool) else str(literal).lower() == "true"
        if isinstance(sample, (Decimal, int)):
            return Decimal(str(literal))
    except (ValueError, InvalidOperation):
        raise QboError.invalid_query(f"value {literal!r} is not valid for this property") from None
    if isinstance(literal, bool):
        return "true" if literal else "false"
    return str(literal)


def _check_literals(books: Books, entity: str, cond: Condition) -> None:
    """Refuse a date or date-time literal QBO would not read, before any record is looked at: a
    query's validity does not depend on the data (``TxnDate > '2024/06/03'`` is 4001 in an empty
    company too)."""
    kind, _get = _getter(books, entity, cond.prop)
    if kind not in ("stamp", "date") or cond.op == "LIKE":
        return
    for value in cond.values:
        try:
            if kind == "stamp":
                parse_stamp(value, books.company.utc_offset_minutes)
            else:
                strict_date(value)
        except ValueError:
            what = "date-time" if kind == "stamp" else "date (yyyy-MM-dd)"
            raise QboError.invalid_query(f"value {value!r} is not a valid {what} for property {cond.prop}") from None


def _like(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in pattern.split("%")]
    return re.compile("^" + ".*".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _predicate(books: Books, entity: str, cond: Condition) -> Callable[[Record], bool]:
    kind, get = _getter(books, entity, cond.prop)
    offset = books.company.utc_offset_minutes
    cache: dict[type, list[Any]] = {}

    def literals(sample: Any) -> list[Any]:
        key = type(sample)
        if key not in cache:
            cache[key] = [_coerce(sample, v, kind, offset) for v in cond.values]
        return cache[key]

    op = cond.op
    if op == "LIKE":
        pattern = _like(str(cond.values[0]))
        return lambda r: (v := get(r)) is not None and bool(pattern.match(str(v)))

    def test(record: Record) -> bool:
        value = get(record)
        if value is None:
            return False
        wanted = literals(value)
        try:
            if op == "IN":
                return value in wanted
            other = wanted[0]
            if op == "=":
                return bool(value == other)
            if op == "<":
                return bool(value < other)
            if op == ">":
                return bool(value > other)
            if op == "<=":
                return bool(value <= other)
            return bool(value >= other)
        except TypeError:
            return False

    return test


def _sort_key(books: Books, entity: str, prop: str) -> Callable[[Record], Any]:
    _kind, get = _getter(books, entity, prop)

    def key(record: Record) -> tuple[int, Any]:
        value = get(record)
        return (0, "") if value is None else (1, value)

    return key


def _stamp_bounds(books: Books, entity: str, query: Query) -> tuple[int, int, list[Condition]]:
    """Index positions implied by LastUpdatedTime conditions, and the conditions left over."""
    index = books.index[entity]
    start, stop = 0, len(index)
    rest: list[Condition] = []
    offset = books.company.utc_offset_minutes
    for cond in query.where:
        if cond.prop.lower() != "metadata.lastupdatedtime" or cond.op not in ("<", ">", "<=", ">=", "="):
            rest.append(cond)
            continue
        epoch = parse_stamp(cond.values[0], offset)  # checked by _check_literals
        if cond.op in (">", ">=", "="):
            start = max(start, index.position(epoch, strict=cond.op == ">"))
        if cond.op in ("<", "<=", "="):
            stop = min(stop, index.upper(epoch, inclusive=cond.op != "<"))
    return start, max(start, stop), rest


def execute(books: Books, query: Query) -> tuple[list[Record], int | None]:
    """(records of the requested page, total for COUNT(*) or None)."""
    entity = query.entity
    where = list(query.where)
    for cond in where:
        _check_literals(books, entity, cond)
    for prop, _descending in query.order:
        _getter(books, entity, prop)  # an unknown ORDERBY property is refused even with no rows
    if entity in ("Account", "Customer") and not any(c.prop.lower() == "active" for c in where):
        where.append(Condition("Active", "=", [True]))
    order = query.order
    stamp_order = len(order) == 1 and order[0][0].lower() == "metadata.lastupdatedtime"
    if stamp_order or (query.count and not order):
        start, stop, rest = _stamp_bounds(books, entity, Query(entity, where=where))
        descending = stamp_order and order[0][1]
        candidates: Iterable[Record] = books.index[entity].slice(start, stop, descending=descending)
        predicates = [_predicate(books, entity, c) for c in rest]
        if query.count and not predicates:
            return [], stop - start
    else:
        predicates = [_predicate(books, entity, c) for c in where]
        candidates = _by_id(books, entity, where)
        if candidates is None:
            candidates = list(books.records[entity].values())
        for prop, descending in reversed(order):
            candidates = sorted(candidates, key=_sort_key(books, entity, prop), reverse=descending)
    matching = (r for r in candidates if all(p(r) for p in predicates))
    if query.count:
        return [], sum(1 for _ in matching)
    return _page(matching, query.start, query.max_results), None


def _by_id(books: Books, entity: str, where: list[Condition]) -> list[Record] | None:
    """Look records up directly for ``Id = x`` / ``Id IN (...)`` (re-reads before a write are
    common); None when the query does not pin Ids. The predicates still run on the result."""
    for cond in where:
        if cond.prop.lower() == "id" and cond.op in ("=", "IN"):
            wanted: set[str] = set()
            for value in cond.values:
                try:
                    wanted.add(str(int(Decimal(str(value).strip()))))
                except (InvalidOperation, ValueError):
                    continue  # not an Id at all: matches nothing
            found = (books.records[entity].get(v) for v in wanted)
            return sorted((r for r in found if r is not None), key=lambda r: int(r.id))
    return None


def _page(records: Iterator[Record], start: int, size: int) -> list[Record]:
    out: list[Record] = []
    for position, record in enumerate(records, start=1):
        if position < start:
            continue
        out.append(record)
        if len(out) >= size:
            break
    return out


def query_response(books: Books, text: str, render: Callable[[Books, Record], Fragment]) -> dict[str, Any]:
    """The ``QueryResponse`` body for one query (no ``time``; the caller adds it)."""
    query = parse(text)
    records, total = execute(books, query)
    if total is not None:
        return {"totalCount": total}
    if not records:
        return {}
    columns = query.columns
    if columns is None:
        rows: list[Any] = [render(books, r) for r in records]
    else:
        rows = [project(books, r, columns) for r in records]
    return {query.entity: rows, "startPosition": query.start, "maxResults": len(records)}


def project(books: Books, record: Record, columns: list[str]) -> dict[str, Any]:
    """One entity of a property-list query: the named properties that have a value, and the
    ``domain``/``sparse`` attributes QBO's JAXB rendering always writes (``sparse`` true: not
    every property is there)."""
    full = document(books, record)
    out: dict[str, Any] = {"domain": "QBO", "sparse": True}
    for name in columns:
        if full.get(name) not in (None, "", [], {}):
            out[name] = full[name]
    return out


# --- change data capture ------------------------------------------------------------------------
CDC_WINDOW_DAYS = 30
CDC_MAX_OBJECTS = 1000
CDC_UNSUPPORTED = ("journalcode", "taxagency", "timeactivity", "taxcode", "taxrate")
# What QBO takes for changedSince is what it takes in a query literal (``wire.parse_stamp``): its docs
# give an ISO date (``2015-11-28``) and a date-time with offset (``2015-12-23T09:00-07:00``);
# python-quickbooks formats datetimes without an offset (read in the company's zone); clients feed
# back QBO's own ``time`` (milliseconds, offset). Refused: a space for the ``T`` and sub-millisecond
# digits, i.e. what ``str(datetime)`` gives, and days or times that do not exist.


def cdc_response(books: Books, entities: str | None, changed_since: str | None, now: float,
                 render: Callable[[Books, Record], Fragment]) -> list[dict[str, Any]]:
    """The ``QueryResponse`` list of a CDC answer: changes (and tombstones) since a point in time.

    At most 1,000 objects in all (Intuit's docs: "a maximum of 1,000 objects"), oldest change
    first, so a caller that hits the cap can ask again from the last LastUpdatedTime it received.
    Unverified against real QBO: which 1,000 it returns when more changed (the docs only advise
    "query for shorter time periods"), and the exact code and words of its refusal of a
    ``changedSince`` more than 30 days back (4001 here).
    """
    if not entities:
        raise QboError.required("entities")
    if not changed_since:
        raise QboError.required("changedSince")
    kinds: list[str] = []
    for name in (n.strip() for n in entities.split(",") if n.strip()):
        if name.lower() in CDC_UNSUPPORTED:
            raise QboError.invalid_query(f"CDC is not available for entity {name}")
        canonical = BY_LOWER.get(name.lower())
        if canonical is None:
            raise QboError.invalid_context(name)
        if canonical not in kinds:
            kinds.append(canonical)
    try:
        since = parse_stamp(changed_since, books.company.utc_offset_minutes)
    except ValueError:
        raise QboError.invalid_query(
            f"value {changed_since!r} is not a valid changedSince: an ISO 8601 date or date-time "
            "(yyyy-MM-dd['T'HH:mm[:ss[.SSS]]][offset])"
        ) from None
    if since < now - CDC_WINDOW_DAYS * 86_400:
        raise QboError("4001", "Invalid Request",
                       f"changedSince {changed_since} is more than {CDC_WINDOW_DAYS} days in the past; "
                       "CDC only tracks changes within the last 30 days")
    changes: list[Record] = []
    for kind in kinds:
        for index in (books.index[kind], books.tombstones[kind]):
            changes.extend(index.slice(index.position(since, strict=False)))
    changes.sort(key=lambda r: r.key)
    chosen = changes[:CDC_MAX_OBJECTS]
    out: list[dict[str, Any]] = []
    for kind in kinds:
        items = [render(books, r) for r in chosen if r.kind == kind]
        out.append({kind: items, "startPosition": 1, "maxResults": len(items)} if items else {})
    return out
