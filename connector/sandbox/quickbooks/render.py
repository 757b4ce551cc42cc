"""Records as QBO writes them: the document, the system fields, and CDC tombstones.

Transactions render the same until their SyncToken changes, so their JSON is cached on
the record and a 1,000-row page is mostly string joining. Name lists carry balances that
move with other records and are rendered fresh every time.
"""

from __future__ import annotations

from typing import Any

from connector.sandbox.quickbooks.books import Books
from connector.sandbox.quickbooks.model import Record
from connector.sandbox.quickbooks.rules import RULES
from connector.sandbox.quickbooks.wire import Fragment, dumps, local_stamp


def document(books: Books, record: Record) -> dict[str, Any]:
    """The entity as a JSON-ready dict (Decimals still Decimals)."""
    offset = books.company.utc_offset_minutes
    if record.deleted:
        return {
            "domain": "QBO",
            "status": "Deleted",
            "Id": record.id,
            "MetaData": {"LastUpdatedTime": local_stamp(record.updated, offset)},
        }
    out = dict(record.doc)
    out.update(RULES[record.kind].dynamic(books, record))
    out.update(
        domain="QBO",
        sparse=False,
        Id=record.id,
        SyncToken=str(record.sync),
        MetaData={
            "CreateTime": local_stamp(record.created, offset),
            "LastUpdatedTime": local_stamp(record.updated, offset),
        },
    )
    return out


def fragment(books: Books, record: Record) -> Fragment:
    """The entity's JSON text, from the record's cache when it can be cached."""
    if record.json is not None:
        return Fragment(record.json)
    text = dumps(document(books, record))
    if record.deleted or RULES[record.kind].cacheable:
        record.json = text
    return Fragment(text)
