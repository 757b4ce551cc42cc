"""A 200 cut short is a transient ledger error, asked again, never a crash (issue 17, #9).

xero-python parses most answers itself; a truncated body made it fall back to the raw bytes and
fail with ``ValueError: list or dict value expected``, which no retry caught and which stopped the
whole sync loop. The sandboxes' ``malformed`` fault cuts the next answer in half.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from connector.ledgers.base import marker
from connector.ledgers.errors import TransientError
from connector.ledgers.records import PaymentToPost
from connector.sandbox.xero import XeroSandbox
from tests.ledgers.test_quickbooks_adapter import adapter as qbo_adapter
from tests.sandbox.xero.kit import adapter, checked_sandbox, open_invoice


@pytest.fixture
def sb() -> Iterator[XeroSandbox]:
    with checked_sandbox() as sandbox:
        yield sandbox


def test_xero_an_sdk_parsed_answer_cut_short_is_asked_again(sb):
    ledger = adapter(sb)
    sb.faults.add("malformed=1x")
    tenants = ledger.connections()
    assert ledger.tenant_id in {t["tenant_id"] for t in tenants}
    assert ledger.calls.counts["connections"] == 2
    assert sb.faults.hits["malformed"] == 1


def test_xero_a_write_whose_answer_was_cut_short_is_written_once(sb):
    """The retry carries the same Idempotency-Key, so Xero answers it from the first write."""
    ledger = adapter(sb)
    inv = open_invoice(sb, "80.00")
    payment = PaymentToPost(
        key="k-cut-short-0001",
        invoice_external_id=inv.id,
        amount=Decimal("80.00"),
        on=date(2024, 6, 3),
        account="095",
        currency="NZD",
        reference="order 7",
        customer_id=inv.contact_id,
    )
    sb.faults.add("malformed=1x")
    [result] = ledger.post_payments([payment])
    assert result.error is None and result.external_id
    tenant = sb.ledger.tenant(ledger.tenant_id)
    ours = [p for p in tenant.payments.values() if marker(payment.key) in (p.reference or "")]
    assert [p.id for p in ours] == [result.external_id]
    assert ledger.calls.counts["payments_write"] == 2


def test_xero_an_answer_cut_short_every_time_ends_as_a_transient_error(sb):
    ledger = adapter(sb)
    sb.faults.add(f"malformed={ledger.retry.attempts}x")
    with pytest.raises(TransientError, match="could not be read"):
        ledger.connections()


def test_quickbooks_an_answer_cut_short_is_asked_again(make):
    sb = make()
    ledger = qbo_adapter(sb)
    assert ledger.organisation().base_currency
    sb.faults.add("malformed=1x")
    pages = list(ledger.changed_invoices(None, timedelta(minutes=5)))
    assert sum(len(p.records) for p in pages) > 0
    assert ledger.calls.counts["query"] >= 2
    assert sb.faults.hits["malformed"] == 1
