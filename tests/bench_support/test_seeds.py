"""Seeded organisations for the benchmarks: deterministic, with update stamps spread like a real
organisation's, and a bulk-import scenario that keeps the old one-second pile-up on purpose."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from connector.sandbox.common.clock import FakeClock
from connector.sandbox.xero import seed, store
from connector.sandbox.xero.state import Ledger

#: 09:00 the next morning in New Zealand: most of "today" has not happened yet there. This is the
#: hour at which the old seed stamped a day's worth of invoices in one second.
NZ_MORNING = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)


def _tenant(clock_at: datetime, invoices: int, *, bulk: bool = False) -> tuple[Ledger, object]:
    ledger = Ledger(FakeClock(clock_at), id_seed=42)
    tenant = seed.build_tenant(ledger, 42, 0)
    ledger.add_tenant(tenant)
    seed.add_invoices(ledger, tenant.id, invoices, seed=42, bulk_import=bulk)
    return ledger, tenant


def test_the_same_seed_gives_the_same_organisation_byte_for_byte() -> None:
    first, _ = _tenant(NZ_MORNING, 3_000)
    second, _ = _tenant(NZ_MORNING, 3_000)
    assert store.dump_ledger(first) == store.dump_ledger(second)


def test_the_time_of_day_changes_no_invoice_count_status_or_amount() -> None:
    def shape(at: datetime) -> Counter[tuple[str, str, str]]:
        _, tenant = _tenant(at, 3_000)
        return Counter((i.type, i.status, str(i.total)) for i in tenant.invoices.values())  # type: ignore[attr-defined]

    assert shape(NZ_MORNING) == shape(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))


def test_update_stamps_are_spread_and_never_in_the_future() -> None:
    ledger, tenant = _tenant(NZ_MORNING, 20_000)
    stamps = [i.updated_ms for i in tenant.invoices.values()]  # type: ignore[attr-defined]
    per_second = Counter(ms // 1000 for ms in stamps)
    assert max(per_second.values()) <= 10, per_second.most_common(3)  # was 1,067 in one second
    assert max(stamps) < ledger.now_ms()


def test_the_bulk_import_scenario_stamps_every_invoice_in_one_second() -> None:
    ledger, tenant = _tenant(NZ_MORNING, 2_000, bulk=True)
    _, spread = _tenant(NZ_MORNING, 2_000)
    invoices = tenant.invoices.values()  # type: ignore[attr-defined]
    assert {i.updated_ms // 1000 for i in invoices} == {(ledger.now_ms() - 1000) // 1000}
    # the same invoices otherwise: only the stamps differ
    assert sorted((i.number, i.total) for i in invoices) == sorted(
        (i.number, i.total)
        for i in spread.invoices.values()  # type: ignore[attr-defined]
    )
