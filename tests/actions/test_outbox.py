"""Actions: retry or ignore a failed push, each logged in the invoice's timeline with who and why."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connector.actions import Actor, NotFound, RefusedAction, platform
from connector.actions import outbox as actions
from connector.store.models import Invoice, OutboxEntry
from tests.actions.conftest import same_story


def refused_payment(runtime, number: str) -> int:
    platform.record_event(runtime, "collection_started", [number], actor=Actor.platform())
    platform.record_event(runtime, "collection_confirmed", [number], actor=Actor.platform())
    with runtime.transaction() as session:
        entry = session.scalars(
            select(OutboxEntry)
            .join(Invoice, Invoice.id == OutboxEntry.invoice_id)
            .where(Invoice.number == number, OutboxEntry.kind == "payment")  # not the ledger notes
        ).one()
        entry.state, entry.last_error = "rejected", "the ledger refused the payment: account archived"
        return entry.id


def state_of(runtime, entry_id: int) -> str:
    with runtime.sessions() as session:
        return session.get(OutboxEntry, entry_id).state


def test_retry_direct_and_cli_alike(runtime, cli, twins):
    direct, via_cli = (refused_payment(runtime, n) for n in twins)
    result = actions.retry_push(runtime, direct, actor=Actor.person("lee"))
    assert result.state == "pending" and "account archived" in result.message
    code, out, _ = cli("outbox", "retry", str(via_cli), "--as", "lee")
    assert code == 0 and "queued again by lee" in out
    assert state_of(runtime, direct) == state_of(runtime, via_cli) == "pending"
    same_story(runtime, *twins)


def test_ignore_direct_and_cli_alike(runtime, cli, twins):
    direct, via_cli = (refused_payment(runtime, n) for n in twins)
    actions.ignore_push(runtime, direct, "recorded by hand in Xero", actor=Actor.person("lee"))
    code, _, _ = cli("outbox", "ignore", str(via_cli), "--reason", "recorded by hand in Xero", "--as", "lee")
    assert code == 0
    assert state_of(runtime, direct) == state_of(runtime, via_cli) == "ignored"
    same_story(runtime, *twins)


def test_refusals(runtime, cli, twins):
    entry = refused_payment(runtime, "INV-D")
    with runtime.transaction() as session:
        session.get(OutboxEntry, entry).state = "done"
    with pytest.raises(RefusedAction, match="cannot be ignored"):
        actions.ignore_push(runtime, entry, "why", actor=Actor.person("lee"))
    with pytest.raises(RefusedAction, match="only a refused or waiting write"):
        actions.retry_push(runtime, entry, actor=Actor.person("lee"))
    with pytest.raises(NotFound):
        actions.retry_push(runtime, 9999, actor=Actor.person("lee"))
    code, _, err = cli("outbox", "retry", "9999")
    assert code == 2 and "no outbox entry 9999" in err


def test_the_queue_lists_what_the_ledger_refused_with_ids(runtime, cli, twins):
    entry = refused_payment(runtime, "INV-D")
    code, out, _ = cli("outbox", "list", "--json")
    import json

    rows = json.loads(out)
    assert code == 0 and [(r["id"], r["invoice"], r["state"]) for r in rows] == [(entry, "INV-D", "rejected")]
    assert "account archived" in rows[0]["error"]
