"""Exactly once, whatever happens: the same tests against Xero and QuickBooks (parametrised, not copied)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from connector.domain import CollectionConfirmed, CollectionStarted
from connector.store.models import ActivityEvent, Invoice, OutboxEntry
from connector.sync.apply import apply_event, record_payout
from tests.e2e.conftest import TODAY


class Crash(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def die(_ids):
    raise Crash


def collect(world, external_ids):
    """The platform collected these invoices: each now owes the ledger one payment."""
    with world.rt.transaction() as session:
        for row in session.scalars(select(Invoice).where(Invoice.external_id.in_(external_ids))):
            apply_event(session, row, CollectionStarted(occurred_on=TODAY))
            apply_event(session, row, CollectionConfirmed(occurred_on=TODAY))


def outbox_states(world, kind="payment"):
    """The states of the outbox's entries of one kind (notes on the invoices follow the payments)."""
    with world.rt.sessions() as session:
        return {e.state for e in session.scalars(select(OutboxEntry).where(OutboxEntry.kind == kind))}


def test_a_push_killed_after_the_ledger_accepted_is_not_posted_twice(any_world):
    world = any_world
    world.sync()
    chosen = world.open_invoices(4)
    collect(world, chosen)
    with pytest.raises(Crash):
        world.sync(do_import=False, push_options={"crash_after_send": die})
    assert outbox_states(world) == {"sending"}
    assert all(world.our_payment_count(x) == 1 for x in chosen)  # the ledger has them already
    rerun = world.sync(do_import=False, push_options={"lease": timedelta(0)})
    assert rerun.counts.pushed == 4 + 8  # the four payments, then each invoice's two notes
    assert all(world.our_payment_count(x) == 1 for x in chosen)
    assert outbox_states(world) == {"done"}


def test_a_lost_response_is_recognised_not_repeated(any_world):
    world = any_world
    world.sync()
    chosen = world.open_invoices(2)
    collect(world, chosen)
    world.faults.add("lost=2x")  # the ledger writes, then the connection drops, twice
    assert world.sync(do_import=False).state == "succeeded"
    world.sync(do_import=False, push_options={"lease": timedelta(0)})
    assert all(world.our_payment_count(x) == 1 for x in chosen)
    assert outbox_states(world) == {"done"}


def test_a_payout_killed_after_the_ledger_accepted_is_found_not_repeated(any_world):
    """Past the ledger's idempotency window too: the transfer and fee are found by their reference."""
    world = any_world
    world.sync()
    chosen = world.open_invoices(2)
    collect(world, chosen)
    world.sync(do_import=False)
    with world.rt.transaction() as session:
        rows = list(session.scalars(select(Invoice).where(Invoice.external_id.in_(chosen))))
        record_payout(session, rows, on=TODAY, fee=Decimal("2.00"), reference="PO-CRASH")
    with pytest.raises(Crash):
        world.sync(do_import=False, push_options={"crash_after_send": die})
    world.forget_idempotency()  # as if the idempotency window had passed
    world.sync(do_import=False, push_options={"lease": timedelta(0)})
    assert world.payout_counts("PO-CRASH") == (1, 1)


def test_an_import_killed_mid_page_leaves_every_invoice_once(any_world, monkeypatch):
    world = any_world
    world.options = {"page_size": 10}
    real = world.rt.transaction
    calls = {"n": 0}

    @contextmanager
    def dying_transaction():
        with real() as session:
            yield session
            calls["n"] += 1
            # lock + run, organisation facts learnt, cursor read, first page: the 5th is the second page
            if calls["n"] == 5:  # inside the second page's transaction, before its commit
                session.flush()
                raise Crash

    monkeypatch.setattr(world.rt, "transaction", dying_transaction)
    with pytest.raises(Crash):
        world.sync()
    monkeypatch.setattr(world.rt, "transaction", real)
    assert 0 < len(world.our_external_ids()) < len(world.ledger_invoice_ids())
    world.release_lock()  # the dead run's lock would expire on its own
    assert world.sync().state == "succeeded"
    assert world.our_external_ids() >= world.ledger_invoice_ids()
    with world.rt.sessions() as session:
        rows = session.scalar(select(func.count()).select_from(Invoice))
        created = session.scalar(select(func.count()).where(ActivityEvent.outcome == "created"))
    assert created == rows == len(world.our_external_ids())


@pytest.mark.parametrize("fault", ["429burst=3", "5xx=2x", "503=2x", "drop=2x", "malformed=2x", "expire_tokens"])
def test_faults_never_lose_or_duplicate(any_world, fault):
    world = any_world
    world.options = {"page_size": 15}
    world.faults.add(fault)
    result = world.sync()
    assert result.state == "succeeded", result.error
    assert world.our_external_ids() >= world.ledger_invoice_ids()
    chosen = world.open_invoices(2)
    collect(world, chosen)
    world.faults.add(fault)
    world.sync(do_import=False)
    world.sync(do_import=False, push_options={"lease": timedelta(0)})
    assert all(world.our_payment_count(x) == 1 for x in chosen)
    if fault.startswith("429"):
        assert any(s >= 1 for s in world.time.slept)  # the ledger's Retry-After (or a minute) was waited out
