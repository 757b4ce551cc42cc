"""The Xero adapter's money writes and reads, against the sandbox over HTTP with the real SDK:
overpayments for money collected beyond what is due (exactly once), payouts in both
directions, refused elements as errors, refused deletes, the organisation's time zone and
the clearing account's balance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
import requests

from connector.ledgers.base import marker
from connector.ledgers.errors import NotFound, ValidationError
from connector.ledgers.records import OrganisationFacts, PaymentToPost, PayoutToPost
from connector.ledgers.xero import XeroLedger
from connector.sandbox.common.idempotency import IdempotencyCache
from connector.sandbox.xero import XeroSandbox
from tests.sandbox.xero.kit import adapter, checked_sandbox, open_invoice

DAY = date(2024, 6, 3)


@pytest.fixture
def sb() -> Iterator[XeroSandbox]:
    with checked_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def ledger(sb: XeroSandbox) -> XeroLedger:
    return adapter(sb)


def to_post(key: str, invoice_id: str, amount: str, unapplied: str = "0", customer_id: str = "") -> PaymentToPost:
    return PaymentToPost(
        key=key,
        invoice_external_id=invoice_id,
        amount=Decimal(amount),
        on=DAY,
        account="095",
        currency="NZD",
        reference="order 7",
        customer_id=customer_id,
        unapplied=Decimal(unapplied),
    )


def payout(key: str, net: str, fee: str, fees_account: str = "404") -> PayoutToPost:
    return PayoutToPost(
        key=key,
        on=DAY,
        currency="NZD",
        net=Decimal(net),
        fee=Decimal(fee),
        clearing_account="095",
        bank_account="090",
        fees_account=fees_account,
        reference="po_9",
    )


# --- payments and overpayments -----------------------------------------------------------------------
def test_the_excess_becomes_an_overpayment_for_the_invoices_contact(sb: XeroSandbox, ledger: XeroLedger) -> None:
    inv = open_invoice(sb, "100.00")
    [result] = ledger.post_payments([to_post("k-excess-0001", inv.id, "100.00", "20.00", inv.contact_id)])
    tenant = sb.ledger.tenant(ledger.tenant_id)
    assert result.error is None and result.external_id in tenant.payments
    assert result.unapplied_id in tenant.overpayments
    op = tenant.overpayments[result.unapplied_id]
    assert op.total == Decimal("20.00") and op.contact_id == inv.contact_id
    assert marker("k-excess-0001") in (op.reference or "")
    assert tenant.accounts[op.bank_account_id].code == "095"
    assert tenant.invoices[inv.id].status == "PAID"


def test_nothing_due_posts_only_the_overpayment(sb: XeroSandbox, ledger: XeroLedger) -> None:
    inv = open_invoice(sb, "10.00")
    [result] = ledger.post_payments([to_post("k-only-excess1", inv.id, "0", "10.00", inv.contact_id)])
    tenant = sb.ledger.tenant(ledger.tenant_id)
    assert result.error is None and result.external_id == result.unapplied_id
    assert result.unapplied_id in tenant.overpayments
    assert not any(p.invoice_id == inv.id for p in tenant.payments.values())


def test_an_overpayment_is_written_once_across_a_crash(sb: XeroSandbox, ledger: XeroLedger) -> None:
    inv = open_invoice(sb, "10.00")
    first = ledger.post_payments([to_post("k-once-000001", inv.id, "0", "7.00", inv.contact_id)])[0]
    sb.idempotency = IdempotencyCache(sb.clock)  # the crash outlasted Xero's six-minute key memory
    again = ledger.post_payments([to_post("k-once-000001", inv.id, "0", "7.00", inv.contact_id)])[0]
    assert again.unapplied_id == first.unapplied_id
    assert len(sb.ledger.tenant(ledger.tenant_id).overpayments) == 1


def test_the_contact_is_read_when_the_engine_did_not_give_it(sb: XeroSandbox, ledger: XeroLedger) -> None:
    inv = open_invoice(sb, "10.00")
    [result] = ledger.post_payments([to_post("k-no-contact1", inv.id, "10.00", "1.50")])
    assert result.error is None
    assert sb.ledger.tenant(ledger.tenant_id).overpayments[result.unapplied_id].contact_id == inv.contact_id


def test_a_refused_payment_is_that_payments_error_and_gets_no_overpayment(
    sb: XeroSandbox, ledger: XeroLedger
) -> None:
    good, paid = open_invoice(sb, "10.00"), open_invoice(sb, "10.00")
    sb.ledger.add_payment(ledger.tenant_id, paid.id, "10.00")
    results = ledger.post_payments(
        [
            to_post("k-good-000001", good.id, "10.00", "2.00", good.contact_id),
            to_post("k-paid-000001", paid.id, "10.00", "2.00", paid.contact_id),
        ]
    )
    assert results[0].error is None and results[0].unapplied_id
    assert results[1].external_id is None and "Payments can only be made against Authorised" in results[1].error
    overpayments = sb.ledger.tenant(ledger.tenant_id).overpayments.values()
    assert [o.contact_id for o in overpayments] == [good.contact_id]


def test_the_invoice_read_carries_the_contact_id(sb: XeroSandbox, ledger: XeroLedger) -> None:
    inv = open_invoice(sb, "10.00")
    [read] = ledger.get_invoices([inv.id])
    assert read.customer_id == inv.contact_id


# --- payouts ---------------------------------------------------------------------------------------------
def legs(sb: XeroSandbox, ledger: XeroLedger) -> list[tuple[str, str, Decimal]]:
    t = sb.ledger.tenant(ledger.tenant_id)
    return [
        (t.accounts[x.from_account_id].code, t.accounts[x.to_account_id].code, x.amount)
        for x in t.bank_transfers.values()
    ]


def test_a_positive_net_moves_clearing_to_bank(sb: XeroSandbox, ledger: XeroLedger) -> None:
    result = ledger.post_payout(payout("p-positive-01", "95.00", "5.00"))
    assert result.transfer_id and result.fee_id
    assert legs(sb, ledger) == [("095", "090", Decimal("95.00"))]


def test_a_negative_net_moves_bank_to_clearing(sb: XeroSandbox, ledger: XeroLedger) -> None:
    result = ledger.post_payout(payout("p-negative-01", "-3.00", "8.00"))
    assert result.transfer_id and result.fee_id
    assert legs(sb, ledger) == [("090", "095", Decimal("3.00"))]
    sb.idempotency = IdempotencyCache(sb.clock)
    again = ledger.post_payout(payout("p-negative-01", "-3.00", "8.00"))
    assert again == result and len(legs(sb, ledger)) == 1


def test_a_zero_net_moves_nothing_but_the_fee(sb: XeroSandbox, ledger: XeroLedger) -> None:
    result = ledger.post_payout(payout("p-zero-net-01", "0", "4.00"))
    assert result.transfer_id is None and result.fee_id
    assert legs(sb, ledger) == []


def test_a_refused_fee_raises_with_xeros_message(sb: XeroSandbox, ledger: XeroLedger) -> None:
    """Xero answers 200 with the element marked ERROR: the fee must not be recorded as posted."""
    sb.ledger.tenant(ledger.tenant_id).account(code="404").status = "ARCHIVED"
    with pytest.raises(ValidationError) as err:
        ledger.post_payout(payout("p-archived-01", "0", "4.00"))
    assert err.value.messages == ["Account code '404' has been archived, or deleted."]
    assert not any(t.type == "SPEND" for t in sb.ledger.tenant(ledger.tenant_id).bank_transactions.values())


def test_a_refused_transfer_raises_with_xeros_message(sb: XeroSandbox, ledger: XeroLedger) -> None:
    bad = PayoutToPost("p-badbank-001", DAY, "NZD", Decimal("5"), Decimal(0), "095", "092", "404")
    with pytest.raises(ValidationError) as err:
        ledger.post_payout(bad)
    assert "currency" in str(err.value)


# --- deleting ------------------------------------------------------------------------------------------
def test_deleting_a_reconciled_payment_is_refused(sb: XeroSandbox, ledger: XeroLedger) -> None:
    inv = open_invoice(sb, "10.00")
    [result] = ledger.post_payments([to_post("k-reconciled1", inv.id, "10.00")])
    requests.post(f"{sb.base_url}/__sandbox/Payments/{result.external_id}/reconcile", timeout=10).raise_for_status()
    with pytest.raises(ValidationError) as err:
        ledger.delete_payment(result.external_id, "k-reconciled1")
    assert err.value.messages == ["Payment cannot be deleted as it has been reconciled"]
    with pytest.raises(NotFound):
        ledger.delete_payment("00000000-0000-4000-8000-000000000000", "k-missing")


# --- organisation and balances ----------------------------------------------------------------------
def test_organisation_facts_carry_the_iana_time_zone(sb: XeroSandbox) -> None:
    assert adapter(sb, 0).organisation() == OrganisationFacts("NZD", "Pacific/Auckland")
    assert adapter(sb, 1).organisation() == OrganisationFacts("USD", "America/Los_Angeles")


def test_clearing_nets_to_zero_after_payments_overpayments_and_payout(sb: XeroSandbox, ledger: XeroLedger) -> None:
    assert ledger.account_balance("095") == 0
    inv = open_invoice(sb, "40.00")
    ledger.post_payments([to_post("k-balance-001", inv.id, "40.00", "5.00", inv.contact_id)])
    assert ledger.account_balance("095") == Decimal("45.00")
    before = ledger.calls.counts.get("reports_read", 0)
    ledger.post_payout(payout("p-balance-001", "43.50", "1.50"))
    assert ledger.account_balance("095") == 0
    assert ledger.calls.counts["reports_read"] == before + 1
    assert ledger.calls.counts["accounts_read"] == 1  # the code's AccountID is read once
    with pytest.raises(NotFound):
        ledger.account_balance("999")
