"""Seed data: deterministic, realistic, internally consistent, and generated in bulk (how fast
is measured by ``bench/sandbox_seed.py``, not asserted here)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.sandbox.common.clock import FakeClock
from connector.sandbox.common.seeding import paused_gc
from connector.sandbox.xero import seed, store, wire
from connector.sandbox.xero.state import Ledger, LedgerError, Tenant


def _ledger(seed_value: int, invoices: int = 200, tenants: int = 2) -> Ledger:
    ledger = Ledger(FakeClock(), id_seed=seed_value)
    seed.seed_ledger(ledger, seed_value, tenants=tenants, invoices_per_tenant=invoices)
    return ledger


def _check_books(t: Tenant) -> None:
    """Invariants Xero's books keep, whatever happened to them."""
    for inv in t.invoices.values():
        live_payments = [t.payments[p] for p in inv.payment_ids if t.payments[p].status == "AUTHORISED"]
        live_allocations = [t.allocations[a] for a in inv.allocation_ids if not t.allocations[a].is_deleted]
        assert inv.amount_paid == sum((p.amount for p in live_payments), Decimal(0))
        assert inv.amount_credited == sum((a.amount for a in live_allocations), Decimal(0))
        assert inv.amount_due == inv.total - inv.amount_paid - inv.amount_credited >= 0
        assert inv.total == inv.sub_total + inv.total_tax
        if inv.status == "PAID":
            assert inv.amount_due == 0 and inv.fully_paid_on is not None
        else:
            assert inv.fully_paid_on is None
        if inv.amount_paid or inv.amount_credited:
            assert inv.status in ("AUTHORISED", "PAID")
    keys = [(i.updated_ms, i.seq) for i in t.invoices_by_update()]
    assert keys == sorted(keys) and len(keys) == len(t.invoices)


def test_same_seed_same_books_different_seed_different_books() -> None:
    assert store.dump_ledger(_ledger(11)) == store.dump_ledger(_ledger(11))
    assert store.dump_ledger(_ledger(11)) != store.dump_ledger(_ledger(12))


def test_seeded_books_are_realistic_and_consistent() -> None:
    ledger = _ledger(3, invoices=400)
    nz, us = ledger.tenants.values()
    assert (nz.org.utc_offset_minutes, us.org.utc_offset_minutes) == (780, -480)
    assert (nz.org.base_currency, us.org.base_currency) == ("NZD", "USD")
    for t in (nz, us):
        statuses = Counter(i.status for i in t.invoices.values())
        assert set(statuses) == {"DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"}
        partial = [i for i in t.invoices.values() if i.status == "AUTHORISED" and i.amount_paid > 0]
        assert partial, "no partly paid invoices"
        assert any(i.amount_credited > 0 for i in t.invoices.values()), "no credit notes applied"
        assert len({i.currency for i in t.invoices.values()}) >= 2, "only one currency"
        assert any(n.remaining_credit > 0 for n in t.credit_notes.values()), "no open credit notes"
        assert any(i.type == "ACCPAY" for i in t.invoices.values())
        assert max(i.updated_ms for i in t.invoices.values()) < ledger.now_ms()
        _check_books(t)


def test_bulk_generation_and_a_1000_invoice_page() -> None:
    ledger = Ledger(FakeClock())
    with paused_gc():
        tenant = seed.build_tenant(ledger, 1, 0)
    ledger.add_tenant(tenant)
    added = seed.add_invoices(ledger, tenant.id, 20_000)
    assert len(added) == len(tenant.invoices) == 20_000
    page = list(tenant.invoices_by_update())[5_000:6_000]
    body = wire.dumps(
        wire.envelope("Invoices", [wire.invoice(i, tenant) for i in page], "x", 0, wire.pagination(6, 1000, 20_000))
    )
    assert body.count(b'"InvoiceID"') == 1000


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["pay", "delete", "credit", "void", "edit"]),
            st.integers(0, 30),
            st.integers(1, 12_000),
        ),
        max_size=40,
    )
)
def test_random_operations_keep_the_books_consistent(ops: list[tuple[str, int, int]]) -> None:
    ledger = _ledger(5, invoices=30, tenants=1)
    t = next(iter(ledger.tenants.values()))
    invoices = sorted(t.invoices.values(), key=lambda i: i.number)
    notes = [n for n in t.credit_notes.values() if n.remaining_credit > 0]
    for op, index, cents in ops:
        inv = invoices[index % len(invoices)]
        amount = Decimal(cents) / 100
        try:
            if op == "pay":
                ledger.add_payment(t.id, inv.id, amount)
            elif op == "delete" and inv.payment_ids:
                ledger.delete_payment(t.id, inv.payment_ids[-1])
            elif op == "credit" and notes:
                note = notes[index % len(notes)]
                ledger.allocate_credit_note(t.id, note.id, inv.id, amount)
            elif op == "void":
                ledger.void_invoice(t.id, inv.id)
            elif op == "edit":
                ledger.update_invoice(t.id, inv.id, reference=f"edit {cents}")
        except LedgerError:
            pass
        ledger.clock.advance(seconds=1)  # type: ignore[attr-defined]
    _check_books(t)
