"""Fault injection: every fault as the real SDK experiences it, plus the spec grammar."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import requests
import urllib3
from xero_python.accounting import Account, Invoice, Payment, Payments
from xero_python.exceptions import HTTPStatusException, RateLimitException

from connector.sandbox.common.faults import FaultInjector, FaultKind, FaultSpec, FaultSpecError
from connector.sandbox.xero import XeroSandbox
from tests.sandbox.running import sandbox_sleeps
from tests.sandbox.xero.conftest import MakeSandbox, XeroClient, XeroFor


def _open_invoice(xero: XeroClient):
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    return next(
        i
        for i in tenant.invoices.values()
        if i.status == "AUTHORISED" and i.amount_paid == 0 and i.amount_credited == 0 and i.type == "ACCREC"
    )


def _payment(invoice_id: str) -> Payments:
    return Payments(
        payments=[
            Payment(
                invoice=Invoice(invoice_id=invoice_id),
                account=Account(code="090"),
                amount=Decimal("1.00"),
                date=date(2024, 6, 1),
            )
        ]
    )


# --- grammar --------------------------------------------------------------------------------
def test_spec_grammar_round_trips() -> None:
    spec = FaultSpec.parse("5xx=0.1, latency=200, 429burst=3,drop=0.05,malformed=0.02,expire_tokens,seed=9")
    assert str(spec) == "5xx=0.1,429=3x,drop=0.05,malformed=0.02,expire_tokens=1x,latency=200,seed=9"
    assert FaultSpec.parse(str(spec)) == spec
    assert FaultSpec.parse("latency=100-300").latency_ms == (100, 300)
    assert FaultSpec.parse("maintenance=2x,lost").rules[0].kind is FaultKind.MAINTENANCE
    assert FaultSpec.parse("") == FaultSpec()


@pytest.mark.parametrize("bad", ["teapot=1", "5xx=2", "5xx=0", "drop=abc", "latency=-5", "429burst=0", "5xx=0x"])
def test_spec_errors_name_the_item(bad: str) -> None:
    with pytest.raises(FaultSpecError, match=bad.split("=")[0]):
        FaultSpec.parse(bad)


def test_probabilities_are_deterministic_for_a_seed() -> None:
    def run(seed: int) -> list[bool]:
        injector = FaultInjector(seed=seed)
        injector.add("5xx=0.5")
        return [injector.hit(FaultKind.SERVER_ERROR) for _ in range(50)]

    assert run(3) == run(3)
    assert run(3) != run(4)
    assert 10 < sum(run(3)) < 40


def test_counts_are_consumed_in_order() -> None:
    injector = FaultInjector()
    injector.add("drop=2x")
    assert [injector.hit(FaultKind.DROP) for _ in range(3)] == [True, True, False]
    assert injector.describe() == ""


# --- as the SDK sees them -----------------------------------------------------------------------
def test_5xx_fails_the_call_and_writes_nothing(xero: XeroClient) -> None:
    inv = _open_invoice(xero)
    xero.sandbox.faults.add("5xx=1x")
    with pytest.raises(HTTPStatusException) as err:
        xero.accounting.create_payments(xero.tenant_id, _payment(inv.id))
    assert err.value.status == 500
    assert inv.payment_ids == []
    xero.accounting.create_payments(xero.tenant_id, _payment(inv.id))
    assert len(inv.payment_ids) == 1


def test_503_maintenance(xero: XeroClient) -> None:
    xero.sandbox.faults.add("503")
    with pytest.raises(HTTPStatusException) as err:
        xero.accounting.get_organisations(xero.tenant_id)
    assert err.value.status == 503
    assert err.value.body == b"The Xero API is currently offline for maintenance"


def test_429_burst(xero: XeroClient) -> None:
    xero.sandbox.faults.add("429burst=2,retry_after=7")
    for _ in range(2):
        with pytest.raises(RateLimitException) as err:
            xero.accounting.get_organisations(xero.tenant_id)
        assert err.value.headers["Retry-After"] == "7" and err.value.rate_limit == "minute"
    assert xero.accounting.get_organisations(xero.tenant_id).organisations


def test_dropped_connections_are_retried_by_urllib3_until_it_gives_up(xero: XeroClient) -> None:
    xero.sandbox.faults.add("drop=1x")
    assert xero.accounting.get_organisations(xero.tenant_id).organisations  # one silent retry
    xero.sandbox.faults.add("drop=4x")  # urllib3's default is three retries
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        xero.accounting.get_organisations(xero.tenant_id)
    assert xero.sandbox.faults.hits["drop"] == 5


def test_lost_response_on_post_means_written_but_unknown(xero: XeroClient) -> None:
    """POST is not retried by urllib3: the caller sees an error although the write happened."""
    inv = _open_invoice(xero)
    xero.sandbox.faults.add("lost=1x")
    payment = Payment(
        invoice=Invoice(invoice_id=inv.id),
        account=Account(code="090"),
        amount=Decimal("2.00"),
        date=date(2024, 6, 1),
    )
    with pytest.raises(urllib3.exceptions.ProtocolError):
        xero.accounting.create_payment(xero.tenant_id, payment)
    assert len(inv.payment_ids) == 1


def test_malformed_json(xero: XeroClient) -> None:
    xero.sandbox.faults.add("malformed")
    with pytest.raises(ValueError, match="list or dict value expected"):
        xero.accounting.get_invoices(xero.tenant_id, page=1, page_size=2)
    assert xero.accounting.get_invoices(xero.tenant_id, page=1, page_size=2).invoices


def test_expired_token_fault_sticks_until_refresh(xero: XeroClient) -> None:
    xero.sandbox.faults.add("expire_tokens")
    for _ in range(2):  # the token stays dead: it is not a one-off error
        with pytest.raises(HTTPStatusException) as err:
            xero.accounting.get_organisations(xero.tenant_id)
        assert err.value.status == 401
        assert json.loads(err.value.body)["Detail"].startswith("TokenExpired")
    xero.force_refresh_next_call()
    assert xero.accounting.get_organisations(xero.tenant_id).organisations


def test_latency(make_sandbox: MakeSandbox, xero_for: XeroFor, monkeypatch: pytest.MonkeyPatch) -> None:
    sb = make_sandbox(latency_ms=100, faults="latency=50")
    xero = xero_for(sb)
    xero.accounting.get_organisations(xero.tenant_id)  # warm the connection
    slept = sandbox_sleeps(monkeypatch)
    xero.accounting.get_organisations(xero.tenant_id)
    assert slept == [pytest.approx(0.150)]  # one API call: the base 100 ms plus the 50 ms fault


def test_admin_endpoint_adds_shows_and_clears_faults(xero: XeroClient) -> None:
    admin = xero.sandbox.base_url + "/__sandbox/faults"
    assert requests.post(admin, data="5xx=1x", timeout=5).json() == {"faults": "5xx=1x"}
    assert requests.post(admin, json={"spec": "nonsense=1"}, timeout=5).status_code == 400
    with pytest.raises(HTTPStatusException):
        xero.accounting.get_organisations(xero.tenant_id)
    shown = requests.get(admin, timeout=5).json()
    assert shown["hits"] == {"5xx": 1}
    requests.post(admin, data="503=1.0", timeout=5)
    requests.delete(admin, timeout=5)
    assert xero.accounting.get_organisations(xero.tenant_id).organisations


def test_admin_clock_moves_a_fake_clock(sandbox: XeroSandbox) -> None:
    before = sandbox.clock.now()
    response = requests.post(sandbox.base_url + "/__sandbox/clock", json={"advance": 90}, timeout=5)
    assert response.status_code == 200
    assert (sandbox.clock.now() - before).total_seconds() == 90


def test_same_seed_same_faults_over_http(make_sandbox: MakeSandbox) -> None:
    def statuses(sb: XeroSandbox) -> list[int]:
        token = sb.issue_tokens()
        headers = {
            "Authorization": f"Bearer {token['access_token']}",
            "xero-tenant-id": sb.tenant_ids[0],
            "Accept": "application/json",
        }
        return [
            requests.get(sb.accounting_url + "/Organisation", headers=headers, timeout=5).status_code for _ in range(12)
        ]

    first = statuses(make_sandbox(seed=5, faults="5xx=0.4"))
    second = statuses(make_sandbox(seed=5, faults="5xx=0.4"))
    assert first == second and 500 in first and 200 in first
