"""Throttling (500 a minute and 10 at once per company, answered in XML) and every fault
the sandbox can inject, as python-quickbooks experiences them."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from quickbooks.exceptions import AuthorizationException, QuickbooksException, SevereException
from quickbooks.objects import Customer, Invoice

from connector.sandbox.quickbooks import QboLimits, QuickBooksSandbox, RateLimits
from tests.sandbox.quickbooks.conftest import QboClient, connect
from tests.sandbox.quickbooks.test_entities import home_customer, new_invoice
from tests.sandbox.quickbooks.xsd_check import XsdChecker
from tests.sandbox.running import sandbox_sleeps


def _raw_get(client: QboClient, path: str) -> requests.Response:
    return requests.get(
        client.url(path),
        headers={"Authorization": f"Bearer {client.auth.access_token}", "Accept": "application/json"},
        timeout=10,
    )


def test_per_minute_limit_answers_the_xml_429(make_sandbox: Callable[..., Any], xsd_checker: XsdChecker) -> None:
    sb: QuickBooksSandbox = make_sandbox(limits=QboLimits(per_minute=5, concurrent=10))
    client = connect(sb)
    for _ in range(5):
        Customer.all(max_results=1, qb=client.qb)
    checked = xsd_checker.xml_checked
    with pytest.raises(QuickbooksException) as throttled:
        Customer.all(max_results=1, qb=client.qb)
    assert throttled.value.error_code == 10000 and "Error reading json response" in throttled.value.message
    raw = _raw_get(client, "account/1")
    assert raw.status_code == 429 and raw.headers["Content-Type"].startswith("application/xml")
    assert "message=ThrottleExceeded; errorCode=003001; statusCode=429" in raw.text
    assert xsd_checker.xml_checked == checked + 2, "the XML bodies went through the XSD too"
    other = connect(sb, sb.realm_ids[1])
    assert Customer.all(max_results=1, qb=other.qb)  # per company
    sb.advance(seconds=60)
    assert Customer.all(max_results=1, qb=client.qb)


def test_ten_at_once_per_company(make_sandbox: Callable[..., Any]) -> None:
    sb: QuickBooksSandbox = make_sandbox(limits=RateLimits(per_minute=500, concurrent=2), faults="latency=300")
    client = connect(sb)
    statuses: list[int] = []

    def call() -> None:
        statuses.append(_raw_get(client, "account/1").status_code)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 429, 429]
    assert sb.limits == QboLimits(per_minute=500, concurrent=2, batch_per_minute=40)
    assert QboLimits() == QboLimits(per_minute=500, concurrent=10, batch_per_minute=40)


def test_5xx_is_a_system_fault_and_writes_nothing(client: QboClient) -> None:
    count = Invoice.count(qb=client.qb)
    client.sandbox.faults.add("5xx")
    with pytest.raises(SevereException) as failed:
        new_invoice(home_customer(client), 10.0).save(qb=client.qb)
    assert failed.value.error_code == 10000
    assert Invoice.count(qb=client.qb) == count


def test_503_maintenance_is_html(client: QboClient) -> None:
    client.sandbox.faults.add("503")
    with pytest.raises(QuickbooksException) as failed:
        Invoice.all(max_results=1, qb=client.qb)
    assert failed.value.error_code == 10000 and "503 Service Temporarily Unavailable" in failed.value.message


def test_injected_429_burst(client: QboClient) -> None:
    client.sandbox.faults.add("429burst=2")
    for _ in range(2):
        assert _raw_get(client, "account/1").status_code == 429
    assert _raw_get(client, "account/1").status_code == 200


def test_drop_closes_the_connection_before_anything_happens(client: QboClient) -> None:
    count = Invoice.count(qb=client.qb)
    client.sandbox.faults.add("drop")
    with pytest.raises(requests.ConnectionError):
        new_invoice(home_customer(client), 10.0).save(qb=client.qb)
    assert Invoice.count(qb=client.qb) == count


def test_lost_response_after_the_write(client: QboClient) -> None:
    count = Invoice.count(qb=client.qb)
    client.sandbox.faults.add("lost")
    with pytest.raises(requests.ConnectionError):
        new_invoice(home_customer(client), 10.0).save(qb=client.qb, request_id="retry-me")
    assert Invoice.count(qb=client.qb) == count + 1
    retried = new_invoice(home_customer(client), 10.0).save(qb=client.qb, request_id="retry-me")
    assert Invoice.count(qb=client.qb) == count + 1, "the requestid retry got the lost answer, no second invoice"
    assert retried.TotalAmt == 10.0


def test_malformed_body(client: QboClient) -> None:
    client.sandbox.faults.add("malformed")
    with pytest.raises(QuickbooksException) as failed:
        Invoice.all(max_results=1, qb=client.qb)
    assert failed.value.error_code == 10000 and "Error reading json response" in failed.value.message


def test_expire_tokens(client: QboClient) -> None:
    client.sandbox.faults.add("expire_tokens")
    with pytest.raises(AuthorizationException) as expired:
        Invoice.all(max_results=1, qb=client.qb)
    assert expired.value.error_code == 401 and "Token expired" in expired.value.detail
    with pytest.raises(AuthorizationException):
        Invoice.all(max_results=1, qb=client.qb)
    client.auth.refresh()
    client.reconnect()
    assert Invoice.all(max_results=1, qb=client.qb)


def test_latency(make_sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    sb: QuickBooksSandbox = make_sandbox(latency_ms=150)
    client = connect(sb)
    slept = sandbox_sleeps(monkeypatch)
    Invoice.all(max_results=1, qb=client.qb)
    assert slept == [pytest.approx(0.150)]  # one API call, held back by the configured 150 ms


def test_faults_through_the_admin_endpoint_and_the_cli_spec(make_sandbox: Callable[..., Any]) -> None:
    sb: QuickBooksSandbox = make_sandbox(faults="5xx=1x")
    client = connect(sb)
    with pytest.raises(SevereException):
        Invoice.all(max_results=1, qb=client.qb)
    answer = requests.post(sb.base_url + "/__sandbox/faults", data="malformed=1x", timeout=10)
    assert answer.json()["faults"] == "malformed=1x"
    with pytest.raises(QuickbooksException):
        Invoice.all(max_results=1, qb=client.qb)
    shown = requests.get(sb.base_url + "/__sandbox/faults", timeout=10).json()
    assert shown["hits"] == {"5xx": 1, "malformed": 1} and shown["faults"] == ""
    assert requests.post(sb.base_url + "/__sandbox/faults", data="bogus", timeout=10).status_code == 400
    tokens = requests.post(sb.base_url + "/__sandbox/tokens", json={"realmId": sb.realm_ids[1]}, timeout=10).json()
    au = connect(sb, tokens=tokens)
    assert au.realm_id == sb.realm_ids[1] and Invoice.all(max_results=1, qb=au.qb)


def test_unknown_company_and_path(client: QboClient) -> None:
    client.qb.company_id = "123"
    with pytest.raises(QuickbooksException):
        Invoice.all(max_results=1, qb=client.qb)
    raw = requests.post(
        client.sandbox.api_url + f"/company/{client.realm_id}/bill",
        data=json.dumps({}),
        headers={"Authorization": f"Bearer {client.auth.access_token}"},
        timeout=10,
    )
    assert raw.status_code == 400 and raw.json()["Fault"]["Error"][0]["code"] == "500"
