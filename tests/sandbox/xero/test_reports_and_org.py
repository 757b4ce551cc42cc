"""GET /Organisation's time zone and base currency, and GET /Reports/BankSummary: the balance
of each bank account over payments, overpayments, money spent and received, and transfers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from xero_python.exceptions import HTTPStatusException

from connector.sandbox.xero import FakeClock, LineInput, XeroSandbox
from tests.sandbox.xero.conftest import XeroClient, XeroFor
from tests.sandbox.xero.kit import open_invoice


def test_organisations_carry_xero_time_zone_names(xero: XeroClient) -> None:
    zones = {}
    for tenant_id in xero.sandbox.tenant_ids:
        org = xero.accounting.get_organisations(tenant_id).organisations[0]
        zones[org.base_currency.value] = org.timezone.value
    assert zones["NZD"] == "NEWZEALANDSTANDARDTIME"  # Pacific/Auckland
    assert zones["USD"] == "PACIFICSTANDARDTIME"  # America/Los_Angeles


def summary_rows(xero: XeroClient, from_date: date, to_date: date) -> dict[str, list[str]]:
    report = xero.accounting.get_report_bank_summary(xero.tenant_id, from_date=from_date, to_date=to_date)
    rows = report.reports[0].rows
    assert [c.value for c in rows[0].cells] == [
        "Bank Accounts",
        "Opening Balance",
        "Cash Received",
        "Cash Spent",
        "Closing Balance",
    ]
    out = {}
    for row in rows[1].rows:
        account_id = row.cells[0].attributes[0].value
        out[account_id] = [c.value for c in row.cells[1:]]
    assert rows[2].row_type.value == "SummaryRow"
    return out


def test_bank_summary_follows_every_kind_of_movement(xero: XeroClient) -> None:
    sb: XeroSandbox = xero.sandbox
    t = sb.tenant_ids[0]
    clearing = sb.ledger.tenant(t).account(code="095")
    assert clearing is not None and clearing.type == "BANK"  # payments may go into it
    inv = open_invoice(sb, "100.00")
    day = date(2024, 6, 10)
    sb.ledger.add_payment(t, inv.id, "60.00", account_code="095", date=day)
    sb.ledger.create_overpayment(
        t, type="RECEIVE-OVERPAYMENT", lines=[_line("15.00")], bank_account_code="095", contact_id=inv.contact_id,
        date=day,
    )
    sb.ledger.create_bank_transaction(
        t, type="SPEND", lines=[_line("2.50", "404")], bank_account_code="095", contact_name="Fees", date=day,
        line_amount_types="NoTax",
    )
    sb.ledger.create_bank_transfer(t, amount="50.00", from_code="095", to_code="090", date=day)
    sb.ledger.create_bank_transfer(t, amount="3.00", from_code="090", to_code="095", date=date(2024, 6, 12))
    deleted = sb.ledger.add_payment(t, inv.id, "5.00", account_code="095", date=day)
    sb.ledger.delete_payment(t, deleted.id)

    rows = summary_rows(xero, date(2024, 6, 1), date(2024, 6, 30))
    # received 60 + 15 + 3, spent 2.50 + 50: closing 25.50
    assert rows[clearing.id] == ["0.00", "78.00", "52.50", "25.50"]
    later = summary_rows(xero, date(2024, 6, 11), date(2024, 6, 11))
    assert later[clearing.id] == ["22.50", "0.00", "0.00", "22.50"]


def test_bank_summary_needs_the_reports_scope(sandbox: XeroSandbox, xero_for: XeroFor) -> None:
    client = xero_for(sandbox, sandbox.issue_tokens(scopes=["offline_access", "accounting.transactions"]))
    with pytest.raises(HTTPStatusException) as err:
        client.accounting.get_report_bank_summary(client.tenant_id)
    assert err.value.status == 401


def _line(amount: str, code: str | None = None) -> LineInput:
    return LineInput("x", Decimal(1), Decimal(amount), account_code=code)


def test_the_organisations_today_follows_daylight_saving(sandbox: XeroSandbox) -> None:
    """Auckland is +13:00 in January and +12:00 in June; Los Angeles -07:00 in June."""
    nz, us = sandbox.tenant_ids[0], sandbox.tenant_ids[1]
    clock = FakeClock(datetime(2024, 1, 30, 11, 30, tzinfo=UTC))
    sandbox.ledger.clock = clock
    assert sandbox.ledger.today(nz) == date(2024, 1, 31)  # 00:30 NZDT
    clock.set(datetime(2024, 6, 30, 7, 30, tzinfo=UTC))
    assert sandbox.ledger.today(us) == date(2024, 6, 30)  # 00:30 PDT (a fixed -08:00 would say Jun 29)
    clock.set(datetime(2024, 6, 30, 11, 30, tzinfo=UTC))
    assert sandbox.ledger.today(nz) == date(2024, 6, 30)  # 23:30 NZST (a fixed +13:00 would say Jul 1)
