"""The ledger as a JSON document (``--data FILE``) and back.

Documents keep their Decimals as ``{"$d": "12.30"}`` so amounts survive exactly. Only
records and counters are saved; what follows from them (invoice applications, customer
and account balances, which payments sit in a deposit) is recomputed on load, so the
saved file can never disagree with itself.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from connector.sandbox.quickbooks.books import Books
from connector.sandbox.quickbooks.ledger import Ledger
from connector.sandbox.quickbooks.model import ENTITIES, Company, Record
from connector.sandbox.quickbooks.rules import RULES, Ctx

FORMAT = 1
log = logging.getLogger("connector.sandbox.quickbooks")


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$d" in value:
            return Decimal(value["$d"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _row(record: Record) -> list[Any]:
    return [record.kind, record.id, record.sync, record.created, record.updated, record.seq, _encode(record.doc)]


def dump_ledger(ledger: Ledger) -> dict[str, Any]:
    with ledger.lock:
        realms = []
        for books in ledger.realms.values():
            company = asdict(books.company)
            company["rates"] = {k: str(v) for k, v in books.company.rates.items()}
            realms.append({
                "company": company,
                "counters": {"next_txn_id": books.next_txn_id, "next_list_id": books.next_list_id,
                             "next_doc_number": books.next_doc_number, "seq": books.seq},
                "roles": dict(books.roles),
                "records": [_row(r) for kind in ENTITIES for r in books.records[kind].values()],
                "tombstones": [_row(r) for kind in ENTITIES for r in books.tombstones[kind]],
            })
        return {"format": FORMAT, "realms": realms}


def load_ledger(ledger: Ledger, document: dict[str, Any]) -> None:
    if document.get("format") != FORMAT:
        raise ValueError(f"unknown sandbox data format {document.get('format')!r}")
    with ledger.lock:
        ledger.realms.clear()
        for data in document["realms"]:
            company_data = dict(data["company"])
            company_data["rates"] = {k: Decimal(v) for k, v in company_data["rates"].items()}
            books = Books(Company(**company_data))
            for key, value in data["counters"].items():
                setattr(books, key, value)
            books.roles = dict(data["roles"])
            for kind, entity_id, sync, created, updated, seq, doc in data["records"]:
                books.records[kind][entity_id] = Record(kind, entity_id, sync, created, updated, seq, _decode(doc))
            for kind, entity_id, sync, created, updated, seq, doc in data["tombstones"]:
                record = Record(kind, entity_id, sync, created, updated, seq, _decode(doc), deleted=True)
                books.tombstones[kind].insert(record)
            _derive(ledger, books)
            books.rebuild_indexes()
            ledger.realms[books.realm_id] = books


def _derive(ledger: Ledger, books: Books) -> None:
    """Recompute applications, balances and deposit links from the documents."""
    ctx = Ctx(books, books.company.local_date(ledger.clock.now()))
    saved = {r.id: (r.doc.get("Balance"), r.doc.get("LinkedTxn")) for r in books.records["Invoice"].values()}
    for kind in ("Invoice", "CreditMemo", "Payment", "Deposit", "Transfer", "Purchase"):
        rules = RULES[kind]
        for record in books.records[kind].values():
            rules.link(ctx, record)
            record.postings = rules.postings(ctx, record.doc)
            books.post(record.postings, +1)
    for record in books.records["Invoice"].values():
        if (record.doc.get("Balance"), record.doc.get("LinkedTxn")) != saved[record.id]:
            log.warning("realm %s: invoice %s did not match its payments; recomputed", books.realm_id, record.id)
