"""Issue 17.4 (#11): a stop request ends a sync after its current page or push batch.

What is left comes next run; nothing is left half-done (no entry stuck ``sending``, no lock held).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from connector.store.models import Connection, OutboxEntry, SyncRun
from connector.sync.runner import sync_connection
from tests.e2e.conftest import TODAY
from tests.e2e.test_exactly_once import collect


def states(world, column, *where):
    with world.rt.sessions() as session:
        return Counter(session.scalars(select(column).where(*where)))


def test_a_stop_request_ends_the_import_after_the_current_page(world):
    world.options = {"page_size": 10}
    result = world.sync(on_progress=lambda counts: world.rt.stopping.set())
    assert result.state == "interrupted"
    assert "stopping" in result.error
    assert result.counts.pages == 1
    assert len(world.invoices()) == 10
    with world.rt.sessions() as session:
        run = session.get(SyncRun, result.run_id)
        assert run.state == "interrupted" and run.error == result.error
        assert session.get(Connection, world.connection_id("nz")).lock_owner is None
    assert world.sync().state == "skipped"  # still stopping: nothing new starts
    world.rt.stopping.clear()  # the next start
    assert world.sync().state == "succeeded"
    ours = [i.external_id for i in world.invoices()]
    assert len(ours) == len(set(ours)) and set(ours) >= world.ledger_invoice_ids()


def test_a_stop_request_ends_the_push_after_the_current_batch(world):
    world.sync()
    chosen = world.open_invoices(6)
    collect(world, chosen)

    def ledger(rt, connection):
        adapter = world.ledger(rt, connection)
        adapter.payment_batch_size = 2
        post = adapter.post_payments

        def post_then_stop(payments):
            answer = post(payments)
            rt.stopping.set()  # SIGTERM arrives while the first batch is with the ledger
            return answer

        adapter.post_payments = post_then_stop
        return adapter

    result = sync_connection(world.rt, world.connection_id("nz"), ledger, today=TODAY, do_import=False)
    assert result.state == "interrupted"
    assert result.counts.pushed == 2  # the batch in flight was finished and recorded
    payments = OutboxEntry.kind == "payment"
    assert states(world, OutboxEntry.state, payments) == {"done": 2, "pending": 4}  # none left "sending"
    world.rt.stopping.clear()
    assert world.sync(do_import=False).counts.pushed == 4 + 12  # the payments, then 2 notes per invoice
    assert all(world.our_payment_count(x) == 1 for x in chosen)
