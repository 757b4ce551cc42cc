"""Schemathesis fuzzes the Xero sandbox from Xero's own OpenAPI spec (the vendored copy).

Every operation the sandbox implements gets a bounded number of generated requests (the spec's
own examples first, then Hypothesis-generated ones, derandomized so every run sends the same
requests) over real HTTP, with a valid token and tenant. Whatever the request, the answer must
not be a 5xx, a JSON answer must match the operation's declared schema where it declares the
status (Schemathesis's check), and every answer must pass the suite's ``SpecChecker`` (which
also covers the 400s and 404s the spec leaves undeclared).

Path ids are sometimes swapped for ids that exist, so the fuzzing reaches past the 404.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from connector.sandbox.xero import FakeClock, RateLimits, XeroSandbox
from connector.sandbox.xero.model import Invoice
from tests.sandbox.xero.spec_check import SPEC_DIR, SpecChecker

#: The operations the sandbox implements (operationId in xero_accounting.yaml).
OPERATIONS = [
    # reads
    "getOrganisations",
    "getAccounts",
    "getAccount",
    "getContacts",
    "getContact",
    "getInvoices",
    "getInvoice",
    "getInvoiceHistory",
    "getOnlineInvoice",
    "getPayments",
    "getPayment",
    "getCreditNotes",
    "getCreditNote",
    "getBankTransactions",
    "getBankTransaction",
    "getBankTransfers",
    "getBankTransfer",
    "getOverpayments",
    "getOverpayment",
    "getPrepayments",
    "getPrepayment",
    "getBatchPayments",
    "getBatchPayment",
    "getCurrencies",
    "getTaxRates",
    "getTaxRateByTaxType",
    "getItems",
    "getItem",
    "getBrandingThemes",
    "getBrandingTheme",
    "getReportBankSummary",
    # writes
    "createAccount",
    "createContacts",
    "updateOrCreateContacts",
    "createInvoices",
    "updateOrCreateInvoices",
    "updateInvoice",
    "createInvoiceHistory",
    "emailInvoice",
    "createPayments",
    "createPayment",
    "deletePayment",
    "createCreditNotes",
    "createCreditNoteAllocation",
    "createBankTransactions",
    "createBankTransfer",
    "createOverpaymentAllocations",
    "createPrepaymentAllocations",
    "createBatchPayment",
    "createItems",
    "updateOrCreateItems",
]
EXAMPLES_PER_OPERATION = 25

_SCHEMA: Any = None


def _spec_as_json() -> dict[str, Any]:
    """The spec as JSON would carry it: YAML 1.1 reads the examples' ``2019-03-13T00:00:00`` as
    datetimes, which no JSON-schema validator takes; keep every scalar a YAML string gave."""
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc,valid-type]
        pass

    Loader.yaml_implicit_resolvers = {
        key: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in base.yaml_implicit_resolvers.items()
    }
    with (SPEC_DIR / "xero_accounting.yaml").open() as fh:
        return yaml.load(fh, Loader=Loader)  # type: ignore[no-any-return]


def operation(operation_id: str) -> Any:
    """The spec's operation (the spec is parsed once, on first use, not at collection)."""
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = schemathesis.openapi.from_dict(_spec_as_json())
    found = list(_SCHEMA.include(operation_id=operation_id).get_all_operations())
    assert len(found) == 1, operation_id
    return found[0].ok()


class Target:
    """The fuzzed sandbox, what a request needs to get past authentication, and ids that exist."""

    def __init__(self, sb: XeroSandbox) -> None:
        self.sb = sb
        tenant = sb.ledger.tenant(sb.tenant_ids[0])
        token = sb.issue_tokens()["access_token"]
        self.headers = {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": tenant.id,
            "Accept": "application/json",
        }
        authorised: Invoice = next(i for i in tenant.invoices.values() if i.status == "AUTHORISED")
        self.ids: dict[str, str] = {
            "InvoiceID": authorised.id,
            "ContactID": authorised.contact_id,
            "AccountID": next(iter(tenant.accounts)),
            "PaymentID": next(iter(tenant.payments)),
            "CreditNoteID": next(iter(tenant.credit_notes)),
            "ItemID": next(iter(tenant.items)),
            "TaxType": next(iter(tenant.org.tax_rates)),
        }


@pytest.fixture(scope="module")
def target(spec_checker: SpecChecker) -> Iterator[Target]:
    first = len(spec_checker.problems)
    sb = XeroSandbox(seed=11, clock=FakeClock(), invoices_per_tenant=30, limits=RateLimits.unlimited())
    sb.add_observer(spec_checker)
    with sb:
        yield Target(sb)
    problems = spec_checker.problems[first:]
    if problems:
        pytest.fail("fuzzed responses the Xero spec rejects:\n" + "\n".join(problems[:10]), pytrace=False)


def _real_ids(case: Any, target: Target) -> None:
    """For about half the cases, name records that exist instead of random ids (deterministic)."""
    params = case.path_parameters or {}
    if not params or zlib.crc32(repr(sorted(params.items())).encode()) % 2:
        return
    for name in list(params):
        if name in target.ids:
            params[name] = target.ids[name]


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_fuzzed_requests_never_break_the_sandbox(operation_id: str, target: Target) -> None:
    op = operation(operation_id)
    sent: list[int] = []

    @given(op.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def one(case: Any) -> None:
        _real_ids(case, target)
        # A quarter of the cases ask for Xero's default XML (checked by the SpecChecker only).
        xml = len(sent) % 4 == 3
        headers = {**target.headers, "Accept": "application/xml"} if xml else target.headers
        response = case.call(base_url=target.sb.accounting_url, headers=headers, timeout=30)
        sent.append(response.status_code)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} {case.query}: {response.status_code} {response.text[:500]}"
        )
        checks = [not_a_server_error] if xml else [not_a_server_error, response_schema_conformance]
        case.validate_response(response, checks=checks, headers=headers)

    one()
    assert sent, f"{operation_id}: nothing was sent"
