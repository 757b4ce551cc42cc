"""Money in the QuickBooks sandbox as QBO keeps it, through python-quickbooks over HTTP: unapplied
payments, credit memos applied through a payment, account balances across every kind of write,
closed books, two-decimal amounts in every currency and foreign-currency home amounts."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from quickbooks.exceptions import QuickbooksException, UnsupportedException, ValidationException
from quickbooks.objects import Account, CreditMemo, Customer, Invoice, Payment, Purchase, Transfer
from quickbooks.objects.detailline import (
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
)
from quickbooks.objects.payment import PaymentLine

from tests.sandbox.quickbooks.conftest import QboClient, connect
from tests.sandbox.quickbooks.test_entities import (
    home_customer,
    linked,
    new_invoice,
    new_payment,
    ref,
    role,
    sales_line,
)


def balance(client: QboClient, account_id: str) -> Decimal:
    return Decimal(str(Account.get(account_id, qb=client.qb).CurrentBalance))


def owed(client: QboClient, customer_id: str) -> Decimal:
    return Decimal(str(Customer.get(customer_id, qb=client.qb).Balance))


def fresh_customer(client: QboClient, name: str, currency: str | None = None) -> str:
    customer = Customer()
    customer.DisplayName = name
    if currency:
        customer.CurrencyRef = ref(currency)
    return str(customer.save(qb=client.qb).Id)


def new_credit_memo(customer_id: str, amount: float) -> CreditMemo:
    memo = CreditMemo()
    memo.CustomerRef = ref(customer_id)
    memo.Line.append(sales_line(amount, "Goodwill credit"))
    return memo


def paying_with_credit(invoice: Invoice, memo: CreditMemo, applied: float, credit: float, total: float) -> Payment:
    payment = Payment()
    payment.CustomerRef = invoice.CustomerRef
    payment.TotalAmt = total
    for txn_id, txn_type, amount in ((invoice.Id, "Invoice", applied), (memo.Id, "CreditMemo", credit)):
        line = PaymentLine()
        line.Amount = amount
        line.LinkedTxn.append(linked(txn_id, txn_type))
        payment.Line.append(line)
    return payment


def raw_post(client: QboClient, entity: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
    return client.qb.post(client.url(entity), json.dumps(body), params=params)  # type: ignore[no-any-return]


# --- B2: unapplied payments ---------------------------------------------------------------------------------------


def test_an_overpayment_keeps_the_excess_unapplied_and_deposits_all_of_it(client: QboClient) -> None:
    qb = client.qb
    customer = fresh_customer(client, "Overpaying Pty")
    clearing = role(client, "clearing")
    before = balance(client, clearing)
    invoice = new_invoice(customer, 100.0).save(qb=qb)
    payment = new_payment(invoice, 100.0, total=130.0, deposit_to=clearing).save(qb=qb)
    assert (payment.TotalAmt, payment.UnappliedAmt) == (130.0, 30.0)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 0
    assert balance(client, clearing) == before + 130
    assert owed(client, customer) == -30  # in credit by what was not applied

    read = Payment.get(payment.Id, qb=qb)
    read.TotalAmt = 150.0
    assert read.save(qb=qb).UnappliedAmt == 50.0
    assert (balance(client, clearing), owed(client, customer)) == (before + 150, -50)


def test_a_payment_without_lines_is_all_unapplied_until_voided_or_deleted(client: QboClient) -> None:
    qb = client.qb
    customer = fresh_customer(client, "Prepaid Ltd")
    clearing = role(client, "clearing")
    before = balance(client, clearing)
    answer = raw_post(
        client,
        "payment",
        {
            "CustomerRef": {"value": customer},
            "TotalAmt": 45.5,
            "DepositToAccountRef": {"value": clearing},
            "PrivateNote": "prepaid",
        },
    )["Payment"]
    assert (answer["TotalAmt"], answer["UnappliedAmt"], answer["Line"]) == (45.5, 45.5, [])
    assert (balance(client, clearing), owed(client, customer)) == (before + Decimal("45.5"), Decimal("-45.5"))

    voided = Payment.get(answer["Id"], qb=qb).void(qb=qb)["Payment"]
    assert (voided["TotalAmt"], voided["UnappliedAmt"]) == (0, 0)
    assert (balance(client, clearing), owed(client, customer)) == (before, 0)

    second = raw_post(
        client,
        "payment",
        {"CustomerRef": {"value": customer}, "TotalAmt": 20, "DepositToAccountRef": {"value": clearing}},
    )["Payment"]
    assert balance(client, clearing) == before + 20
    Payment.get(second["Id"], qb=qb).delete(qb=qb)
    assert (balance(client, clearing), owed(client, customer)) == (before, 0)


def test_a_payment_is_deposited_only_to_a_bank_or_current_asset_account_in_its_currency(client: QboClient) -> None:
    customer = fresh_customer(client, "Depositor Inc")
    income = role(client, "income")
    with pytest.raises(QuickbooksException) as not_cash:
        raw_post(
            client,
            "payment",
            {"CustomerRef": {"value": customer}, "TotalAmt": 5, "DepositToAccountRef": {"value": income}},
        )
    assert not_cash.value.error_code == 6000
    with pytest.raises(QuickbooksException) as other_currency:  # a USD payment into the CAD bank
        raw_post(
            client,
            "payment",
            {
                "CustomerRef": {"value": customer},
                "TotalAmt": 5,
                "DepositToAccountRef": {"value": role(client, "bank_CAD")},
            },
        )
    assert other_currency.value.error_code == 6000 and "CAD" in other_currency.value.detail


# --- B1: credit memos ------------------------------------------------------------------------------------------------


def test_credit_memo_create_read_query_update_and_no_void(client: QboClient) -> None:
    qb = client.qb
    customer = fresh_customer(client, "Credited Co")
    receivable = role(client, "ar")
    ar_before = balance(client, receivable)
    memo = new_credit_memo(customer, 40.0).save(qb=qb)
    assert (memo.TotalAmt, memo.Balance, memo.RemainingCredit) == (40.0, 40.0, 40.0)
    assert memo.DocNumber and memo.CurrencyRef.value == "USD" and memo.CustomerRef.name == "Credited Co"
    assert owed(client, customer) == -40 and balance(client, receivable) == ar_before - 40

    read = CreditMemo.get(memo.Id, qb=qb)
    assert read.RemainingCredit == 40.0
    assert [m.Id for m in CreditMemo.filter(CustomerRef=customer, qb=qb)] == [memo.Id]
    found = qb.query(f"SELECT * FROM CreditMemo WHERE RemainingCredit > '0' AND Id = '{memo.Id}'")
    assert found["QueryResponse"]["CreditMemo"][0]["Id"] == memo.Id

    read.Line[0].Amount = 55.0
    updated = read.save(qb=qb)
    assert (updated.TotalAmt, updated.RemainingCredit, updated.SyncToken) == (55.0, 55.0, "1")
    assert owed(client, customer) == -55

    with pytest.raises(UnsupportedException):  # QBO offers no void for credit memos
        raw_post(client, "creditmemo", {"Id": memo.Id, "SyncToken": "1"}, operation="void")

    gone = CreditMemo.get(memo.Id, qb=qb).delete(qb=qb)
    assert gone["CreditMemo"] == {"domain": "QBO", "status": "Deleted", "Id": memo.Id}
    assert owed(client, customer) == 0 and balance(client, receivable) == ar_before


def test_a_credit_memo_in_the_wrong_currency_is_refused(client: QboClient) -> None:
    memo = new_credit_memo(fresh_customer(client, "Currency Mix Ltd"), 10.0)
    memo.CurrencyRef = ref("CAD")
    with pytest.raises(QuickbooksException) as refused:
        memo.save(qb=client.qb)
    assert refused.value.error_code == 6000 and "customer's currency" in refused.value.detail


def test_a_credit_memo_is_applied_through_a_payment_of_zero(client: QboClient) -> None:
    qb = client.qb
    customer = fresh_customer(client, "Applied Credit Pty")
    clearing = role(client, "clearing")
    clearing_before = balance(client, clearing)
    invoice = new_invoice(customer, 100.0).save(qb=qb)
    memo = new_credit_memo(customer, 40.0).save(qb=qb)
    assert owed(client, customer) == 60

    payment = paying_with_credit(invoice, memo, applied=40.0, credit=40.0, total=0.0).save(qb=qb)
    assert (payment.TotalAmt, payment.UnappliedAmt) == (0, 0)
    assert [line.LinkedTxn[0].TxnType for line in payment.Line] == ["Invoice", "CreditMemo"]
    after_invoice, after_memo = Invoice.get(invoice.Id, qb=qb), CreditMemo.get(memo.Id, qb=qb)
    assert after_invoice.Balance == 60.0 and after_invoice.LinkedTxn[0].TxnId == payment.Id
    assert (after_memo.RemainingCredit, after_memo.Balance) == (0, 0)
    assert after_memo.LinkedTxn == [{"TxnId": payment.Id, "TxnType": "Payment"}]  # the SDK keeps them as dicts
    assert owed(client, customer) == 60 and balance(client, clearing) == clearing_before  # no money moved

    with pytest.raises(QuickbooksException) as in_use:
        CreditMemo.get(memo.Id, qb=qb).delete(qb=qb)
    assert in_use.value.error_code == 6000 and payment.Id in in_use.value.detail

    Payment.get(payment.Id, qb=qb).delete(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 100.0
    assert CreditMemo.get(memo.Id, qb=qb).RemainingCredit == 40.0
    CreditMemo.get(memo.Id, qb=qb).delete(qb=qb)
    assert owed(client, customer) == 100


def test_credit_and_cash_together_and_what_a_credit_payment_may_not_do(client: QboClient) -> None:
    qb = client.qb
    customer = fresh_customer(client, "Mixed Settlement Co")
    clearing = role(client, "clearing")
    before = balance(client, clearing)
    invoice = new_invoice(customer, 100.0).save(qb=qb)
    memo = new_credit_memo(customer, 30.0).save(qb=qb)

    with pytest.raises(QuickbooksException) as too_much_credit:
        paying_with_credit(invoice, memo, applied=50.0, credit=31.0, total=19.0).save(qb=qb)
    assert "remaining credit" in too_much_credit.value.detail
    with pytest.raises(QuickbooksException) as credit_beyond_invoices:
        paying_with_credit(invoice, memo, applied=10.0, credit=30.0, total=0.0).save(qb=qb)
    assert "more than the invoices" in credit_beyond_invoices.value.detail
    with pytest.raises(QuickbooksException) as short:
        paying_with_credit(invoice, memo, applied=100.0, credit=30.0, total=60.0).save(qb=qb)
    assert "more than the payment total" in short.value.detail

    mixed = paying_with_credit(invoice, memo, applied=100.0, credit=30.0, total=75.0)
    mixed.DepositToAccountRef = ref(clearing)
    saved = mixed.save(qb=qb)
    assert (saved.TotalAmt, saved.UnappliedAmt) == (75.0, 5.0)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 0
    assert CreditMemo.get(memo.Id, qb=qb).RemainingCredit == 0
    assert balance(client, clearing) == before + 75 and owed(client, customer) == -5

    Payment.get(saved.Id, qb=qb).void(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 100.0
    assert CreditMemo.get(memo.Id, qb=qb).RemainingCredit == 30.0
    assert balance(client, clearing) == before and owed(client, customer) == 70


# --- B3: account balances -------------------------------------------------------------------------------------------


def _transfer(client: QboClient, source: str, target: str, amount: float) -> Transfer:
    transfer = Transfer()
    transfer.FromAccountRef, transfer.ToAccountRef, transfer.Amount = ref(source), ref(target), amount
    return transfer.save(qb=client.qb)


def _fee(client: QboClient, payer: str, amount: float) -> Purchase:
    purchase = Purchase()
    purchase.PaymentType = "Cash"
    purchase.AccountRef = ref(payer)
    line = AccountBasedExpenseLine()
    line.Amount = amount
    line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    line.AccountBasedExpenseLineDetail.AccountRef = ref(role(client, "fees"))
    purchase.Line.append(line)
    return purchase.save(qb=client.qb)


def test_bank_and_clearing_balances_follow_every_write(client: QboClient) -> None:
    qb = client.qb
    clearing, bank, undeposited = role(client, "clearing"), role(client, "bank"), role(client, "undeposited")
    start = {a: balance(client, a) for a in (clearing, bank, undeposited)}

    def moved() -> dict[str, Decimal]:
        return {a: balance(client, a) - start[a] for a in start}

    invoice = new_invoice(home_customer(client), 200.0).save(qb=qb)
    payment = new_payment(invoice, 200.0, deposit_to=clearing).save(qb=qb)
    waiting = new_payment(new_invoice(home_customer(client), 30.0).save(qb=qb), 30.0).save(qb=qb)
    assert moved() == {clearing: 200, bank: 0, undeposited: 30}
    out = _transfer(client, clearing, bank, 150.0)
    fee = _fee(client, clearing, 5.0)
    back = _transfer(client, bank, clearing, 10.0)
    assert moved() == {clearing: 55, bank: 140, undeposited: 30}

    Payment.get(payment.Id, qb=qb).void(qb=qb)
    assert moved() == {clearing: -145, bank: 140, undeposited: 30}
    for record in (Transfer.get(out.Id, qb=qb), Purchase.get(fee.Id, qb=qb), Transfer.get(back.Id, qb=qb)):
        record.delete(qb=qb)
    Payment.get(waiting.Id, qb=qb).delete(qb=qb)
    assert moved() == {clearing: 0, bank: 0, undeposited: 0}


def test_a_foreign_currency_account_keeps_its_balance_in_its_own_currency(client: QboClient) -> None:
    qb = client.qb
    cad_bank = role(client, "bank_CAD")
    before = balance(client, cad_bank)
    customer = fresh_customer(client, "Maple Supplies", currency="CAD")
    invoice = new_invoice(customer, 100.0)
    invoice.ExchangeRate = 0.75
    invoice = invoice.save(qb=qb)
    payment = new_payment(invoice, 100.0, deposit_to=cad_bank)
    payment.ExchangeRate = 0.74
    saved = payment.save(qb=qb)
    assert (saved.CurrencyRef.value, saved.ExchangeRate) == ("CAD", 0.74)
    assert balance(client, cad_bank) == before + 100  # dollars of Canada, not their 74 US dollars
    assert Decimal(str(Invoice.get(invoice.Id, qb=qb).HomeBalance)) == 0


# --- B4: closed books and deposited payments ----------------------------------------------------------------------


def test_closed_books_refuse_every_write_dated_in_the_closed_period(client: QboClient) -> None:
    qb, sb = client.qb, client.sandbox
    today = sb.today(client.realm_id)
    invoice = new_invoice(home_customer(client), 80.0).save(qb=qb)
    payment = new_payment(invoice, 50.0, deposit_to=role(client, "clearing"))
    payment.TxnDate = (today - timedelta(days=3)).isoformat()
    payment = payment.save(qb=qb)

    closed = requests.post(
        f"{sb.base_url}/__sandbox/close-books",
        timeout=10,
        json={"realmId": client.realm_id, "date": (today - timedelta(days=1)).isoformat()},
    )
    assert closed.json()["BookCloseDate"] == (today - timedelta(days=1)).isoformat()
    prefs = qb.get(client.url("preferences"))["Preferences"]
    assert prefs["AccountingInfoPrefs"]["BookCloseDate"] == (today - timedelta(days=1)).isoformat()

    for attempt in (
        lambda: Payment.get(payment.Id, qb=qb).delete(qb=qb),
        lambda: Payment.get(payment.Id, qb=qb).void(qb=qb),
    ):
        with pytest.raises(QuickbooksException) as refused:
            attempt()
        assert (refused.value.error_code, refused.value.message) == (6200, "Account Period Closed")
    backdated = new_payment(invoice, 10.0)
    backdated.TxnDate = (today - timedelta(days=2)).isoformat()
    with pytest.raises(QuickbooksException) as too_old:
        backdated.save(qb=qb)
    assert too_old.value.error_code == 6200
    assert new_payment(invoice, 10.0).save(qb=qb).TxnDate == today.isoformat()  # today is still open

    requests.post(f"{sb.base_url}/__sandbox/close-books", json={"realmId": client.realm_id, "date": None}, timeout=10)
    assert "AccountingInfoPrefs" not in qb.get(client.url("preferences"))["Preferences"]
    Payment.get(payment.Id, qb=qb).delete(qb=qb)


# --- B5: minor units, home amounts -----------------------------------------------------------------------------------


def test_every_currency_is_kept_to_two_decimals_with_home_amounts(client: QboClient) -> None:
    qb, sb = client.qb, client.sandbox
    sb.enable_currency(client.realm_id, "JPY", "0.0067")
    sb.enable_currency(client.realm_id, "KWD", "3.25")
    yen = fresh_customer(client, "Tokyo Trading KK", currency="JPY")
    invoice = new_invoice(yen, 150000.0)
    invoice.ExchangeRate = None
    invoice = invoice.save(qb=qb)
    assert (invoice.TotalAmt, invoice.ExchangeRate, invoice.HomeTotalAmt) == (150000, 0.0067, 1005)
    payment = new_payment(invoice, 50000.0)
    payment.ExchangeRate = None
    assert payment.save(qb=qb).ExchangeRate == 0.0067
    after = Invoice.get(invoice.Id, qb=qb)
    assert (after.Balance, after.HomeBalance) == (100000, 670)

    dinar = new_invoice(fresh_customer(client, "Gulf Fils Co", currency="KWD"), 12.345)
    dinar.ExchangeRate = None
    dinar = dinar.save(qb=qb)
    assert (dinar.TotalAmt, dinar.HomeTotalAmt) == (12.35, 40.14)  # QBO keeps two decimals, fils included
    raw = qb.get(client.url(f"invoice/{dinar.Id}"))["Invoice"]
    assert raw["CurrencyRef"] == {"value": "KWD", "name": "Kuwaiti Dinar"}


# --- B6: CDC changedSince -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "since",
    [
        "{date}",
        "{date}T{time}",
        "{date}T{time}-08:00",
        "{date}T{time}.123-08:00",
        "{date}T{time}Z",
        "{date}T08:00-08:00",
    ],
)
def test_cdc_takes_iso_dates_and_date_times(client: QboClient, since: str) -> None:
    now = client.sandbox.clock.now() - timedelta(hours=1)
    value = since.format(date=now.strftime("%Y-%m-%d"), time=now.strftime("%H:%M:%S"))
    assert "CDCResponse" in client.qb.change_data_capture("Invoice", value)


@pytest.mark.parametrize("offset_only", [False, True])
def test_cdc_refuses_what_str_of_a_datetime_gives(client: QboClient, offset_only: bool) -> None:
    moment = (client.sandbox.clock.now() - timedelta(hours=1)).replace(microsecond=731714)
    value = moment.isoformat() if offset_only else str(moment)  # microseconds / and a space for the T
    with pytest.raises(ValidationException) as refused:
        client.qb.change_data_capture("Invoice", value)
    assert refused.value.error_code == 4001 and "changedSince" in refused.value.detail


# --- persistence -------------------------------------------------------------------------------------------------


def test_credit_unapplied_money_and_closed_books_survive_save_and_load(make_sandbox: Any, tmp_path: Any) -> None:
    path = tmp_path / "qbo.json"
    sb = make_sandbox(realms=1, invoices_per_realm=5, data=path)
    client = connect(sb)
    qb = client.qb
    customer = fresh_customer(client, "Persistent Credit Co")
    invoice = new_invoice(customer, 100.0).save(qb=qb)
    memo = new_credit_memo(customer, 25.0).save(qb=qb)
    paying_with_credit(invoice, memo, applied=60.0, credit=25.0, total=50.0).save(qb=qb)
    sb.close_books(client.realm_id, sb.today(client.realm_id) - timedelta(days=10))
    undeposited = role(client, "undeposited")
    seen = {
        kind: sb.entity(client.realm_id, kind, txn_id)
        for kind, txn_id in (("Invoice", invoice.Id), ("CreditMemo", memo.Id))
    }
    seen["Customer"] = sb.entity(client.realm_id, "Customer", customer)
    seen["Account"] = sb.entity(client.realm_id, "Account", undeposited)
    sb.stop()

    again = make_sandbox(realms=1, invoices_per_realm=5, data=path)
    for kind, document in seen.items():
        assert again.entity(client.realm_id, kind, document["Id"]) == document, kind
    assert (
        again.ledger.books(client.realm_id).company.book_close_date
        == sb.ledger.books(client.realm_id).company.book_close_date
    )
    assert again.entity(client.realm_id, "Customer", customer)["Balance"] == 25  # 40 owed less 15 unapplied
    assert again.entity(client.realm_id, "CreditMemo", memo.Id)["RemainingCredit"] == 0
