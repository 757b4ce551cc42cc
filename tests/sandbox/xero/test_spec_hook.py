"""The central spec check can fail: it rejects what Xero's spec rejects."""

from __future__ import annotations

import json

from connector.sandbox.common.recording import Exchange
from connector.sandbox.xero import XeroSandbox
from tests.sandbox.xero.conftest import XeroClient
from tests.sandbox.xero.spec_check import SpecChecker


def _exchange(
    body: object,
    path: str = "/api.xro/2.0/Invoices",
    status: int = 200,
    method: str = "GET",
    area: str = "accounting",
) -> Exchange:
    return Exchange(
        method=method,
        path=path,
        query={},
        request_headers={},
        request_body=b"",
        status=status,
        content_type="application/json; charset=utf-8",
        response_headers={},
        body=json.dumps(body).encode(),
        area=area,
    )


def test_every_sandbox_response_passes_through_the_checker(
    sandbox: XeroSandbox, xero: XeroClient, spec_checker: SpecChecker
) -> None:
    assert spec_checker in sandbox.observers
    before = spec_checker.checked
    xero.accounting.get_invoices(xero.tenant_id, page=1, page_size=2)
    xero.identity.get_connections()
    assert spec_checker.checked == before + 2


def test_checker_rejects_what_the_spec_rejects(spec_checker: SpecChecker) -> None:
    good = {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Status": "PAID",
                "InvoiceID": "d4956132-ed94-4dd7-9eaa-aa22dfdf06f2",
                "AmountDue": 0.0,
                "HasErrors": False,
            }
        ]
    }
    assert spec_checker.check(_exchange(good)) is None
    for field, value in [
        ("Status", "NOTASTATUS"),
        ("Type", "INVOICE"),
        ("InvoiceID", "not-a-guid"),
        ("AmountDue", "0.00"),
        ("HasErrors", "false"),
        ("Status", None),
    ]:
        bad = {"Invoices": [{**good["Invoices"][0], field: value}]}
        assert spec_checker.check(_exchange(bad)) is not None, (field, value)
    assert (
        spec_checker.check(_exchange({"Payments": [{"IsReconciled": "false"}]}, "/api.xro/2.0/Payments")) is not None
    )  # the spec example bug SOURCE.md warns about
    assert spec_checker.check(_exchange({"whatever": 1}, status=418)) is not None


def test_checker_covers_identity_oauth_and_problem_bodies(spec_checker: SpecChecker) -> None:
    connection = {
        "id": "7cb59f93-2964-421d-bb5e-a0f7a4572a44",
        "tenantId": "fe79f7dd-b6d4-4a92-ba7b-538af6289c58",
        "tenantType": "ORGANISATION",
        "tenantName": "Demo",
        "createdDateUtc": "2019-12-07T18:46:19.5165400",
        "updatedDateUtc": "2019-12-07T18:46:19.5165400",
    }
    assert spec_checker.check(_exchange([connection], "/Connections", area="identity")) is None
    assert (
        spec_checker.check(_exchange([{**connection, "tenantId": "nope"}], "/Connections", area="identity")) is not None
    )
    assert spec_checker.check(_exchange({"error": "invalid_grant"}, "/connect/token", 400, "POST", "oauth")) is None
    assert spec_checker.check(_exchange({"error": "teapot"}, "/connect/token", 400, "POST", "oauth")) is not None
    assert (
        spec_checker.check(
            _exchange(
                {"access_token": "x", "expires_in": 1800, "token_type": "Bearer", "scope": ["a"]},
                "/connect/token",
                200,
                "POST",
                "oauth",
            )
        )
        is not None
    )
    problem = {
        "Type": None,
        "Title": "Forbidden",
        "Status": 403,
        "Detail": "AuthenticationUnsuccessful",
        "Instance": "7cb59f93-2964-421d-bb5e-a0f7a4572a44",
        "Extensions": {},
    }
    assert spec_checker.check(_exchange(problem, status=403)) is None
    assert spec_checker.check(_exchange({**problem, "Detail": None}, status=403)) is not None
