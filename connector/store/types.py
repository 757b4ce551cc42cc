"""Column types that keep money exact and timestamps in UTC on both SQLite and PostgreSQL.

Each type converts a value in two ways that store exactly the same thing: row by row through
SQLAlchemy (``process_bind_param``, what the ORM and Core use) and a whole page column at a time
(``convert_page``, what :mod:`connector.store.bulk` uses for the import). The page form exists
because SQLAlchemy's per-row parameter processing of these two types was most of a first import's
time on SQLite; ``tests/store/test_bulk.py`` proves both forms store identical values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine


class NotConvertible(TypeError):
    """A value the page conversion does not take as it is: the caller uses SQLAlchemy's row-by-row
    path instead, which raises (or converts) exactly as it always did."""


class Amount(TypeDecorator[Decimal]):
    """NUMERIC(18, 4) on PostgreSQL; text on SQLite, whose REAL would round through a float."""

    impl = Numeric(18, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[object]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> object:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"amounts are Decimals, got {type(value).__name__}")
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))

    @staticmethod
    def convert_page(values: Sequence[Decimal | None], dialect_name: str) -> list[object]:
        """The stored form of a page of amounts: ``str`` on SQLite, the Decimal itself on PostgreSQL
        (the driver sends it exactly). Anything but a Decimal or None is :class:`NotConvertible`."""
        if not all(type(v) is Decimal or v is None for v in values):
            raise NotConvertible("amounts are Decimals")
        if dialect_name == "sqlite":
            return [None if v is None else str(v) for v in values]
        return list(values)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python; stored naive-UTC so SQLite and PostgreSQL agree."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)

    @staticmethod
    def convert_page(values: Sequence[datetime | None], dialect_name: str) -> list[object]:
        """The stored form of a page of timestamps: naive UTC; on SQLite already as the text
        SQLAlchemy's SQLite DATETIME writes (``YYYY-MM-DD HH:MM:SS.ffffff``). A naive timestamp, or
        anything but a datetime, is :class:`NotConvertible`."""
        out: list[object] = []
        text = dialect_name == "sqlite"
        last: object = None
        stored: object = None
        for v in values:
            if v is None:
                out.append(None)
                continue
            if v is last:  # the same instant again (a page's "now" on every row): converted once
                out.append(stored)
                continue
            if type(v) is not datetime or v.tzinfo is None:
                raise NotConvertible("timestamps are timezone-aware datetimes")
            naive = (v if v.tzinfo is UTC else v.astimezone(UTC)).replace(tzinfo=None)
            last, stored = v, (naive.isoformat(" ", "microseconds") if text else naive)
            out.append(stored)
        return out


def utcnow() -> datetime:
    return datetime.now(UTC)
