"""The QuickBooks adapter against the sandbox, over HTTP through python-quickbooks and intuit-oauth:
payments carrying the excess as UnappliedAmt (exactly once), payouts in both directions, refused
writes and deletes with QBO's own words, the organisation's facts read once, account balances,
CDC's ``changedSince`` format, tombstones without MetaData and the 403 throttle page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from connector.ledgers.base import marker
from connector.ledgers.calls import RetrySettings
from connector.ledgers.errors import NotFound, ValidationError
from connector.ledgers.quickbooks import QuickBooksLedger
from connector.ledgers.quickbooks_wire import DELETED, parse_invoice
from connector.ledgers.records import LedgerInvoice, OrganisationFacts, PaymentToPost, PayoutToPost
from connector.sandbox.quickbooks import QboLimits, QuickBooksSandbox, Record
from tests.ledger_kit import qbo_adapter

FAST = RetrySettings(attempts=4, base_delay=0.01, max_delay=0.05, timeout=10)


@pytest.fixture
def sb(make: Callable[..., QuickBooksSandbox]) -> QuickBooksSandbox:
    return make()


class Waits:
    """Time for the adapter's limiter: sleeping moves it, and the sandbox's clock with it."""

    def __init__(self, sb: QuickBooksSandbox) -> None:
        self.sb, self.now, self.slept = sb, 0.0, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        self.sb.advance(seconds=seconds)


def adapter(sb: QuickBooksSandbox, realm_id: str | None = None, waits: Waits | None = None) -> QuickBooksLedger:
    return qbo_adapter(sb, realm_id, retry=FAST, waits=waits or Waits(sb))


def roles(sb: QuickBooksSandbox, realm_id: str | None = None) -> dict[str, str]:
    return sb.ledger.books(realm_id or sb.realm_ids[0]).roles


def to_post(key: str, invoice: Record | None, amount: str, unapplied: str = "0", **kw: Any) -> PaymentToPost:
    customer = invoice.doc["CustomerRef"]["value"] if invoice else kw.pop("customer_id")
    return PaymentToPost(
        key=key,
        invoice_external_id=invoice.id if invoice else "",
        amount=Decimal(amount),
        on=kw.pop("on", date.today()),
        account=kw.pop("account"),
        currency=kw.pop("currency", "USD"),
        reference="order 7",
        customer_id=customer,
        unapplied=Decimal(unapplied),
    )


def payments_of(sb: QuickBooksSandbox, key: str) -> list[Record]:
    records = sb.ledger.books(sb.realm_ids[0]).records["Payment"].values()
    return [r for r in records if marker(key) in str(r.doc.get("PrivateNote", ""))]


# --- C1: payments ------------------------------------------------------------------------------------------------


def test_the_excess_is_the_unapplied_part_of_one_payment_into_clearing(sb: QuickBooksSandbox) -> None:
    ledger = adapter(sb)
    clearing = roles(sb)["clearing"]
    before = ledger.account_balance(clearing)
    invoice = sb.create_invoice(sb.realm_ids[0], amount="100.00")
    [result] = ledger.post_payments([to_post("k-excess-0001", invoice, "100.00", "20.00", account=clearing)])
    assert result.error is None
    [payment] = payments_of(sb, "k-excess-0001")
    assert result.external_id == payment.id
    doc = payment.doc
    assert (doc["TotalAmt"], doc["UnappliedAmt"], doc["DepositToAccountRef"]["value"]) == (120, 20, clearing)
    assert [(line["Amount"], line["LinkedTxn"][0]["TxnId"]) for line in doc["Line"]] == [(100, invoice.id)]
    assert sb.entity(sb.realm_ids[0], "Invoice", invoice.id)["Balance"] == 0
    assert ledger.account_balance(clearing) == before + 120


def test_nothing_due_posts_a_payment_without_lines_and_never_twice(sb: QuickBooksSandbox) -> None:
    clearing = roles(sb)["clearing"]
    invoice = sb.create_invoice(sb.realm_ids[0], amount="15.00")
    sb.void_invoice(sb.realm_ids[0], invoice.id)  # voided while the debit was in flight
    wanted = to_post("k-lineless-01", invoice, "0", "15.00", account=clearing)
    [first] = adapter(sb).post_payments([wanted])
    [payment] = payments_of(sb, "k-lineless-01")
    assert first.external_id == payment.id and first.error is None
    assert (payment.doc["TotalAmt"], payment.doc["UnappliedAmt"], payment.doc["Line"]) == (15, 15, [])

    sb.requestids = type(sb.requestids)(sb.clock)  # past QBO's requestid memory
    again = adapter(sb)
    [second] = again.post_payments([wanted])
    assert second.external_id == payment.id and len(payments_of(sb, "k-lineless-01")) == 1
    assert "payments_write" not in again.calls.counts  # found by its marker, not written again


def test_a_batch_is_exactly_once_and_each_refused_item_is_its_own_error(sb: QuickBooksSandbox) -> None:
    realm, clearing = sb.realm_ids[0], roles(sb)["clearing"]
    good, small = sb.create_invoice(realm, amount="50.00"), sb.create_invoice(realm, amount="10.00")
    batch = [
        to_post("k-good-000001", good, "50.00", account=clearing),
        to_post("k-over-000001", small, "25.00", account=clearing),
    ]
    ledger = adapter(sb)
    first = ledger.post_payments(batch)
    assert first[0].error is None and first[0].external_id
    assert first[1].external_id is None and "exceeds its open balance" in (first[1].error or "")
    assert ledger.post_payments(batch) == first  # the same requestid: QBO replays, writes nothing
    assert len(payments_of(sb, "k-good-000001")) == 1


def test_an_amount_quickbooks_cannot_hold_exactly_is_not_posted(sb: QuickBooksSandbox) -> None:
    invoice = sb.create_invoice(sb.realm_ids[0], amount="12.35")
    ledger = adapter(sb)
    [result] = ledger.post_payments([to_post("k-fils-000001", invoice, "12.345", account=roles(sb)["clearing"])])
    assert result.external_id is None and "two decimal places" in (result.error or "")
    assert ledger.calls.total == 0


# --- C2: payouts ---------------------------------------------------------------------------------------------------


def payout(sb: QuickBooksSandbox, key: str, net: str, fee: str, **kw: Any) -> PayoutToPost:
    r = roles(sb)
    return PayoutToPost(
        key=key,
        on=kw.pop("on", date.today()),
        currency="USD",
        net=Decimal(net),
        fee=Decimal(fee),
        clearing_account=r["clearing"],
        bank_account=r["bank"],
        fees_account=kw.pop("fees_account", r["fees"]),
        reference="po_9",
    )


@pytest.mark.parametrize(("net", "fee", "moved"), [("90.00", "3.00", -93), ("-4.00", "6.00", -2), ("0", "2.50", -2.5)])
def test_a_payout_moves_the_net_either_way_and_spends_the_fee(
    sb: QuickBooksSandbox, net: str, fee: str, moved: float
) -> None:
    ledger = adapter(sb)
    r = roles(sb)
    before = {a: ledger.account_balance(r[a]) for a in ("clearing", "bank")}
    result = ledger.post_payout(payout(sb, f"k-payout-{net}", net, fee))
    records = sb.ledger.books(sb.realm_ids[0]).records
    after = {a: ledger.account_balance(r[a]) for a in ("clearing", "bank")}
    assert after["clearing"] - before["clearing"] == Decimal(str(moved))
    assert after["bank"] - before["bank"] == Decimal(net)
    if Decimal(net) == 0:
        assert result.transfer_id is None
    else:
        transfer = records["Transfer"][str(result.transfer_id)].doc
        source, target = (r["clearing"], r["bank"]) if Decimal(net) > 0 else (r["bank"], r["clearing"])
        assert (transfer["FromAccountRef"]["value"], transfer["ToAccountRef"]["value"]) == (source, target)
        assert transfer["Amount"] == abs(Decimal(net))
    assert records["Purchase"][str(result.fee_id)].doc["TotalAmt"] == Decimal(fee)

    sb.requestids = type(sb.requestids)(sb.clock)
    assert adapter(sb).post_payout(payout(sb, f"k-payout-{net}", net, fee)) == result  # found by its note


def test_a_refused_payout_write_raises_with_quickbooks_words(sb: QuickBooksSandbox) -> None:
    with pytest.raises(ValidationError) as refused:
        adapter(sb).post_payout(payout(sb, "k-badfee-0001", "10.00", "1.00", fees_account="99999"))
    assert "Invalid Reference Id" in str(refused.value) and refused.value.code == "2500"
    sb.close_books(sb.realm_ids[0], date.today())
    with pytest.raises(ValidationError) as closed:
        adapter(sb).post_payout(payout(sb, "k-closed-0001", "10.00", "0"))
    assert str(closed.value).startswith("Account Period Closed: The account period has closed")
    assert closed.value.code == "6200"


# --- C3: deleting a payment ---------------------------------------------------------------------------------------


def test_delete_payment_refused_or_gone(sb: QuickBooksSandbox) -> None:
    realm, clearing = sb.realm_ids[0], roles(sb)["clearing"]
    ledger = adapter(sb)
    yesterday = date.today() - timedelta(days=1)
    invoice = sb.create_invoice(realm, amount="40.00")
    [posted] = ledger.post_payments([to_post("k-delete-0001", invoice, "40.00", account=clearing, on=yesterday)])
    assert posted.external_id
    sb.close_books(realm, yesterday)  # the accountant reconciled and closed the month
    with pytest.raises(ValidationError) as refused:
        ledger.delete_payment(posted.external_id, "k-delete-0001")
    assert "Account Period Closed" in str(refused.value)
    sb.close_books(realm, None)
    ledger.delete_payment(posted.external_id, "k-delete-0001")
    assert payments_of(sb, "k-delete-0001") == []
    with pytest.raises(NotFound):
        ledger.delete_payment(posted.external_id, "k-delete-0001")


def test_a_deposited_payment_is_not_deleted(sb: QuickBooksSandbox) -> None:
    realm = sb.realm_ids[0]
    invoice = sb.create_invoice(realm, amount="30.00")
    payment = sb.record_payment(realm, invoice.id)  # into Undeposited Funds
    sb.ledger.create(
        realm,
        "Deposit",
        {
            "DepositToAccountRef": {"value": roles(sb)["bank"]},
            "Line": [{"Amount": Decimal("30.00"), "LinkedTxn": [{"TxnId": payment.id, "TxnType": "Payment"}]}],
        },
    )
    with pytest.raises(ValidationError) as refused:
        adapter(sb).delete_payment(payment.id, "k-deposited-01")
    assert "deposit" in str(refused.value)


# --- C4, C5: organisation and balances -----------------------------------------------------------------------------


def test_organisation_facts_are_read_once_per_company(sb: QuickBooksSandbox) -> None:
    us, au = sb.realms[0], sb.realms[1]
    first = adapter(sb, us.realm_id)
    assert first.organisation() == OrganisationFacts(base_currency="USD", utc_offset_minutes=us.utc_offset_minutes)
    assert first.organisation().base_currency == "USD" and first.calls.counts == {"preferences": 1}
    later = adapter(sb, us.realm_id)  # the next sync's adapter
    assert later.organisation().base_currency == "USD" and later.calls.total == 0
    other = adapter(sb, au.realm_id)
    assert other.organisation() == OrganisationFacts(base_currency="AUD", utc_offset_minutes=au.utc_offset_minutes)


def test_account_balance_is_one_read_of_current_balance(sb: QuickBooksSandbox) -> None:
    ledger = adapter(sb)
    clearing = roles(sb)["clearing"]
    expected = Decimal(str(sb.entity(sb.realm_ids[0], "Account", clearing)["CurrentBalance"]))
    assert ledger.account_balance(clearing) == expected and ledger.calls.counts == {"account_read": 1}
    with pytest.raises(NotFound):
        ledger.account_balance("99999")


# --- C6: CDC, tombstones, throttling ---------------------------------------------------------------------------------


def test_deletions_come_through_cdc_with_an_iso_changed_since(sb: QuickBooksSandbox) -> None:
    realm = sb.realm_ids[0]
    ledger = adapter(sb)
    cursor = None
    for page in ledger.changed_invoices(None, timedelta(minutes=5)):
        cursor = page.cursor or cursor
    doomed = sb.create_invoice(realm, amount="9.00")
    sb.advance(seconds=30)
    sb.delete_invoice(realm, doomed.id)
    sb.advance(seconds=30)
    seen = [r for page in adapter(sb).changed_invoices(cursor, timedelta(minutes=5)) for r in page.records]
    deleted = [r for r in seen if isinstance(r, LedgerInvoice) and r.external_id == doomed.id and r.status == DELETED]
    assert deleted, "the tombstone must arrive (a changedSince like str(datetime) is refused by QBO's CDC)"


def test_a_tombstone_without_metadata_is_a_deletion() -> None:
    at = datetime(2026, 11, 2, 23, 30, 46, tzinfo=UTC)
    record = parse_invoice({"domain": "QBO", "status": "Deleted", "Id": "266"}, "USD", deleted_at=at)
    assert isinstance(record, LedgerInvoice)
    assert (record.external_id, record.status, record.updated_at) == ("266", DELETED, at)
    assert isinstance(parse_invoice({"domain": "QBO", "status": "Deleted", "Id": "267"}, "USD"), LedgerInvoice)


def test_a_403_throttle_page_waits_like_a_429(make: Callable[..., QuickBooksSandbox]) -> None:
    sb = make(limits=QboLimits(per_minute=3, concurrent=None, batch_per_minute=None, throttle_status=403))
    waits = Waits(sb)
    ledger = adapter(sb, waits=waits)
    clearing = roles(sb)["clearing"]
    balances = {ledger.account_balance(clearing) for _ in range(5)}
    assert len(balances) == 1
    assert 60.0 in waits.slept  # backed off for the window (no Retry-After: a minute), then went on
    assert ledger.calls.counts["account_read"] == 6  # five answers, one throttled call


def test_the_marker_look_up_reads_every_page_of_a_busy_day(sb: QuickBooksSandbox, monkeypatch) -> None:
    """With more payments on the day than a page holds, our earlier write is still found (never posted twice)."""
    import connector.ledgers.quickbooks as qbo_adapter

    realm, clearing = sb.realm_ids[0], roles(sb)["clearing"]
    invoice = sb.create_invoice(realm, amount="15.00")
    sb.void_invoice(realm, invoice.id)
    wanted = to_post("k-busyday-001", invoice, "0", "15.00", account=clearing)
    [first] = adapter(sb).post_payments([wanted])
    for _ in range(3):  # the same day, written after ours: our payment is no longer on the first page
        other = sb.create_invoice(realm, amount="5.00")
        sb.record_payment(realm, other.id)
    monkeypatch.setattr(qbo_adapter, "PAGE", 2)
    sb.requestids = type(sb.requestids)(sb.clock)  # past QBO's requestid memory
    again = adapter(sb)
    [second] = again.post_payments([wanted])
    assert second.external_id == first.external_id and len(payments_of(sb, "k-busyday-001")) == 1
    assert "payments_write" not in again.calls.counts
