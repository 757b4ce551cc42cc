"""A full reconcile's cost is bounded and counted: about one list call per 1,000 invoices plus a
few for the money entries and the balance, never one call per invoice."""

from __future__ import annotations

import math

import pytest

from connector.actions.reconcile import run_reconcile
from connector.sandbox.xero import RateLimits, XeroSandbox
from tests.e2e.conftest import make_world

INVOICES = 10_000


@pytest.mark.slow
def test_a_full_reconcile_of_10k_invoices_costs_list_calls_not_one_per_invoice(db_url, monkeypatch):
    with XeroSandbox(seed=3, tenants=2, invoices_per_tenant=INVOICES, limits=RateLimits.unlimited()) as xero:
        world = make_world(xero, db_url, monkeypatch)
        try:
            world.sync("nz")
            tenant = xero.ledger.tenant(world.tenant("nz"))
            n = sum(1 for i in tenant.invoices.values() if i.type == "ACCREC")
            entries = len(tenant.payments) + len(tenant.overpayments) + len(tenant.bank_transactions)
            [result] = run_reconcile(world.rt, connection="nz", make_ledger=world.ledger)
        finally:
            world.rt.close()
    assert result.state == "succeeded", result.error
    invoice_pages = math.ceil(n / 1000)
    # money lists: payments, overpayments, bank transactions (pages of up to 1,000; a short page ends
    # each), transfers (one list), and the balance (one account look-up, one report)
    money_pages = 3 * (math.ceil(entries / 1000) + 1) + 1 + 2
    print(f"reconcile of {n} invoices, {entries} money entries: {result.api_calls} calls")
    assert invoice_pages <= result.api_calls <= invoice_pages + money_pages
    assert result.api_calls < n / 100  # nowhere near one call per invoice
