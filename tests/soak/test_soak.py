"""The reliability audit, kept: kill -9 at random moments, faults, mangled records; nothing lost,
nothing doubled, nothing stuck, and every run and exit code telling the truth.

``python3 dev.py test`` runs a short version (``CONNECTOR_SOAK_TRIALS``, default 1 per scenario);
``python3 dev.py soak`` runs the long one (30). Each trial is seeded (``CONNECTOR_SOAK_SEED``), so a
failure names its seed and can be replayed. Assertions are read through the sandbox and the
database: counts, never seconds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from connector.actions import Actor
from connector.actions.platform import record_event, record_payout
from connector.ledgers.base import MARKERS
from connector.sandbox.common.idempotency import IdempotencyCache
from connector.sandbox.xero import RateLimits, XeroSandbox
from connector.store.models import ActivityEvent, Invoice, OutboxEntry, QuarantinedRecord, SyncRun
from tests.reliability.conftest import Deployment, deploy

TRIALS = int(os.environ.get("CONNECTOR_SOAK_TRIALS", "1"))
SEED = int(os.environ.get("CONNECTOR_SOAK_SEED", "17"))
PLATFORM = Actor.platform("soak")
FAULTS = ["", "5xx=0.2", "429=0.2", "drop=0.15", "malformed=0.15", "lost=0.2", "5xx=0.1,latency=120"]


def open_sales(d: Deployment, n: int, rng: random.Random) -> list[str]:
    tenant = d.xero.ledger.tenant(d.tenant_id)
    base = tenant.org.base_currency
    ids = sorted(
        i.id
        for i in tenant.invoices.values()
        if i.type == "ACCREC"
        and i.status == "AUTHORISED"
        and i.amount_paid == 0
        and i.amount_credited == 0
        and i.currency == base
    )
    return rng.sample(ids, n)


def kill_at_random(d: Deployment, rng: random.Random, faults: str) -> None:
    """A sync started under faults, killed with SIGKILL at a random moment (maybe after it finished)."""
    d.xero.faults.clear()
    if faults:
        d.xero.faults.add(faults)
    proc = d.start("sync", "--json")
    time.sleep(rng.uniform(0.0, 1.2))  # the random moment: a place in the run, not a time asserted
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    d.xero.faults.clear()


def ours_in_ledger(d: Deployment, invoice_ids: list[str]) -> Counter[str]:
    tenant = d.xero.ledger.tenant(d.tenant_id)
    return Counter(
        p.invoice_id
        for p in tenant.payments.values()
        if p.invoice_id in invoice_ids and p.status == "AUTHORISED" and "cx:" in (p.reference or "")
    )


def payout_writes(d: Deployment, reference: str) -> tuple[int, int]:
    tenant = d.xero.ledger.tenant(d.tenant_id)
    transfers = sum(1 for t in tenant.bank_transfers.values() if reference in (t.reference or ""))
    fees = sum(
        1
        for t in tenant.bank_transactions.values()
        if t.type == "SPEND" and t.status != "DELETED" and reference in (t.reference or "")
    )
    return transfers, fees


@pytest.fixture
def soak_xero():
    with XeroSandbox(seed=23, tenants=1, invoices_per_tenant=400, limits=RateLimits.unlimited()) as sandbox:
        yield sandbox


@pytest.mark.parametrize("trial", range(TRIALS))
def test_kill_9_anywhere_loses_nothing_and_writes_everything_once(trial, soak_xero, db_url, tmp_path, monkeypatch):
    rng = random.Random(SEED * 1000 + trial)
    d = deploy(soak_xero, db_url, tmp_path, monkeypatch)
    try:
        kill_at_random(d, rng, "latency=60")  # a first import killed part-way
        chosen: list[str] = []
        payouts: dict[str, list[str]] = {}
        for round_ in range(3):
            done = d.run("sync", "--json")  # a restart completes at once: no lock to wait out
            assert done.returncode == 0, (rng, done.stdout, done.stderr)
            assert [r["state"] for r in json.loads(done.stdout)] == ["succeeded"]
            fresh = open_sales(d, 4, rng)
            chosen += fresh
            refs = [f"#{_id(d, x)}" for x in fresh]
            record_event(d.rt, "collection_started", refs, actor=PLATFORM)
            record_event(d.rt, "collection_confirmed", refs, actor=PLATFORM)
            reference = f"PO-SOAK-{trial}-{round_}"
            record_payout(d.rt, refs[:2], actor=PLATFORM, fee=Decimal("1.25"), reference=reference)
            payouts[reference] = fresh[:2]
            for _ in range(rng.randint(1, 3)):
                kill_at_random(d, rng, rng.choice(FAULTS))
            if rng.random() < 0.5:  # past Xero's idempotency window: only our markers keep it right
                soak_xero.idempotency = IdempotencyCache(soak_xero.clock)
        final = d.run("sync", "--json")
        assert final.returncode == 0, final.stderr
        again = d.run("sync", "--json")  # and once more: nothing left to do, nothing written again
        assert again.returncode == 0, again.stderr

        counts = ours_in_ledger(d, chosen)
        assert all(counts[x] == 1 for x in chosen), counts
        for reference in payouts:
            assert payout_writes(d, reference) == (1, 1), reference
        with d.rt.sessions() as session:
            ours = list(session.scalars(select(Invoice.external_id)))
            assert len(ours) == len(set(ours)) and set(ours) >= d.sales_invoice_ids()
            assert session.scalar(select(func.count()).where(SyncRun.state == "running")) == 0
            states = Counter(session.scalars(select(OutboxEntry.state)))
            assert set(states) == {"done"}, states
            # Processed once in the database too: one "written to the ledger" line per write per invoice
            # (an invoice has several notes: one per collection start, confirmation and payout).
            lines = Counter(
                (e.invoice_id, e.kind, (e.data or {}).get("outbox_entry"))
                for e in session.scalars(select(ActivityEvent).where(ActivityEvent.outcome == "ledger_write"))
            )
            assert max(lines.values()) == 1, [k for k, n in lines.items() if n > 1]
            assert sum(1 for (_, kind, _e) in lines if kind == "ledger_payment") == len(chosen)
            assert sum(1 for (_, kind, _e) in lines if kind == "ledger_payout") == 2 * len(payouts)
            notes = session.scalar(select(func.count()).where(OutboxEntry.kind == "ledger_note"))
        # And each note is in Xero's History once: its marker on exactly one record.
        markers = Counter(
            m
            for tenant_id in soak_xero.tenant_ids
            for record in soak_xero.ledger.tenant(tenant_id).history.values()
            for m in MARKERS.findall(record.details or "")
        )
        assert notes and len(markers) == notes and set(markers.values()) == {1}, markers
    finally:
        d.rt.close()


def _id(d: Deployment, external_id: str) -> int:
    with d.rt.sessions() as session:
        return session.scalars(select(Invoice.id).where(Invoice.external_id == external_id)).one()


MANGLES = ["currency", "huge", "nul", "long_number"]


@pytest.mark.parametrize("trial", range(TRIALS))
def test_mangled_records_and_bad_answers_never_block_an_import(trial, soak_xero, db_url, tmp_path, monkeypatch):
    rng = random.Random(SEED * 7000 + trial)
    d = deploy(soak_xero, db_url, tmp_path, monkeypatch)
    try:
        tenant = d.xero.ledger.tenant(d.tenant_id)
        victims = open_sales(d, 8, rng)
        bad: set[str] = set()
        for inv_id in victims:
            inv = tenant.invoices[inv_id]
            how = rng.choice(MANGLES)
            if how == "currency":
                inv.currency = inv.currency.lower()  # normalised, kept
            elif how == "huge":
                inv.total = Decimal("1e20")
                bad.add(inv_id)
            elif how == "nul":
                tenant.contacts[inv.contact_id].name = tenant.contacts[inv.contact_id].name + "\x00"
            else:
                inv.number = "INV-" + "9" * 296
                bad.add(inv_id)
        outcomes = []
        for faults in rng.sample([f for f in FAULTS if f] + ["huge=0.3"], 3):  # HTML 5xx, truncated, huge, slow
            d.xero.faults.clear()
            d.xero.faults.add(faults)
            proc = d.run("sync", "--json")
            results = json.loads(proc.stdout) if proc.stdout.strip() else []
            states = [r["state"] for r in results]
            # the exit code tells the truth about the run it reports
            assert (proc.returncode == 0) == (states == ["succeeded"]), (faults, proc.returncode, states, proc.stderr)
            outcomes.append(states)
        d.xero.faults.clear()
        final = d.run("sync", "--json")
        assert final.returncode == 0 and [r["state"] for r in json.loads(final.stdout)] == ["succeeded"]
        with d.rt.sessions() as session:
            placed = set(session.scalars(select(Invoice.external_id)))
            reasons = {q.external_id: q.reason for q in session.scalars(select(QuarantinedRecord))}
            runs = list(session.scalars(select(SyncRun.state).where(SyncRun.job == "sync")))
        assert placed == d.sales_invoice_ids() - bad  # every good record of every page
        assert bad <= set(reasons) and all(reasons[x] for x in bad)  # each bad one with its reason
        assert "running" not in runs
    finally:
        d.rt.close()
