"""Create, read, update, void and delete through python-quickbooks objects for Invoice,
Payment, Deposit, Transfer, Purchase, Account and Customer: SyncToken and 5010, void and
delete semantics, balances and links recomputed, and the operations QBO does not offer."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from quickbooks.exceptions import (
    ObjectNotFoundException,
    QuickbooksException,
    UnsupportedException,
    ValidationException,
)
from quickbooks.objects import Account, Customer, Deposit, Invoice, Payment, Purchase, Transfer
from quickbooks.objects.base import EmailAddress, LinkedTxn, Ref
from quickbooks.objects.deposit import DepositLine, DepositLineDetail
from quickbooks.objects.detailline import (
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
    SalesItemLine,
    SalesItemLineDetail,
    SubtotalLine,
)
from quickbooks.objects.payment import PaymentLine

from tests.sandbox.quickbooks.conftest import QboClient, connect


def ref(value: str, name: str | None = None) -> Ref:
    r = Ref()
    r.value = value
    if name:
        r.name = name
    return r


def linked(txn_id: str, txn_type: str, line_id: Any = None) -> LinkedTxn:
    link = LinkedTxn()
    link.TxnId, link.TxnType = txn_id, txn_type
    if line_id is not None:
        link.TxnLineId = line_id
    return link


def sales_line(amount: float, description: str) -> SalesItemLine:
    """One line selling the Services item."""
    line = SalesItemLine()
    line.Amount = amount
    line.Description = description
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref("1", "Services")
    return line


def new_invoice(customer_id: str, *amounts: float) -> Invoice:
    invoice = Invoice()
    invoice.CustomerRef = ref(customer_id)
    for amount in amounts:
        invoice.Line.append(sales_line(amount, "Consulting"))
    return invoice


def new_payment(invoice: Invoice, amount: float, total: float | None = None, deposit_to: str | None = None) -> Payment:
    payment = Payment()
    payment.CustomerRef = invoice.CustomerRef
    payment.TotalAmt = total if total is not None else amount
    line = PaymentLine()
    line.Amount = amount
    line.LinkedTxn.append(linked(invoice.Id, "Invoice"))
    payment.Line.append(line)
    if deposit_to:
        payment.DepositToAccountRef = ref(deposit_to)
    return payment


def home_customer(client: QboClient) -> str:
    books = client.sandbox.ledger.books(client.realm_id)
    return next(c.id for c in books.records["Customer"].values() if c.doc["CurrencyRef"]["value"] == "USD")


def role(client: QboClient, name: str) -> str:
    return client.sandbox.ledger.books(client.realm_id).roles[name]


def balance(client: QboClient, account_id: str) -> Decimal:
    return Decimal(str(Account.get(account_id, qb=client.qb).CurrentBalance))


def test_invoice_lifecycle(client: QboClient) -> None:
    qb = client.qb
    invoice = new_invoice(home_customer(client), 120.0, 80.5).save(qb=qb)
    assert (invoice.TotalAmt, invoice.Balance, invoice.SyncToken) == (200.5, 200.5, "0")
    assert invoice.DocNumber and invoice.TxnDate and invoice.DueDate > invoice.TxnDate
    assert [line.DetailType for line in invoice.Line] == ["SalesItemLineDetail"] * 2 + ["SubTotalLineDetail"]
    assert invoice.MetaData.CreateTime.endswith("-08:00")

    read = Invoice.get(invoice.Id, qb=qb)
    read.Line[0].Amount = 100.0
    updated = read.save(qb=qb)
    assert (updated.TotalAmt, updated.SyncToken) == (180.5, "1")

    stale = Invoice.get(invoice.Id, qb=qb)
    stale.SyncToken = "0"
    with pytest.raises(QuickbooksException) as conflict:
        stale.save(qb=qb)
    assert conflict.value.error_code == 5010 and type(conflict.value) is QuickbooksException

    voided = Invoice.get(invoice.Id, qb=qb)
    answer = voided.void(qb=qb)["Invoice"]
    assert answer["TotalAmt"] == 0 and answer["Balance"] == 0 and answer["PrivateNote"] == "Voided"
    assert all(line["Amount"] == 0 for line in answer["Line"]) and answer["SyncToken"] == "2"
    assert answer["DocNumber"] == invoice.DocNumber and answer["CustomerRef"]["value"] == invoice.CustomerRef.value

    gone = Invoice.get(invoice.Id, qb=qb).delete(qb=qb)
    assert gone["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": invoice.Id}
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(invoice.Id, qb=qb)


def test_payments_recompute_balance_and_linked_txn(client: QboClient) -> None:
    qb = client.qb
    invoice = new_invoice(home_customer(client), 300.0).save(qb=qb)
    first = new_payment(invoice, 100.0).save(qb=qb)
    after_first = Invoice.get(invoice.Id, qb=qb)
    assert (after_first.Balance, after_first.SyncToken) == (200.0, "1")
    assert [(t.TxnId, t.TxnType) for t in after_first.LinkedTxn] == [(first.Id, "Payment")]
    assert first.UnappliedAmt == 0 and first.ProcessPayment is False
    assert first.DepositToAccountRef.value == role(client, "undeposited")

    second = new_payment(invoice, 200.0, total=250.0).save(qb=qb)
    assert second.UnappliedAmt == 50.0
    assert Invoice.get(invoice.Id, qb=qb).Balance == 0

    with pytest.raises(QuickbooksException) as overpaid:  # 6000 maps to the SDK's base class
        new_payment(invoice, 1.0).save(qb=qb)
    assert overpaid.value.error_code == 6000 and "open balance" in overpaid.value.detail

    voided = Payment.get(second.Id, qb=qb)
    answer = voided.void(qb=qb)["Payment"]
    assert answer["TotalAmt"] == 0 and answer["PrivateNote"] == "Voided"
    reopened = Invoice.get(invoice.Id, qb=qb)
    assert reopened.Balance == 200.0 and [t.TxnId for t in reopened.LinkedTxn] == [first.Id]

    edited = Payment.get(first.Id, qb=qb)
    edited.Line[0].Amount = 150.0
    edited.TotalAmt = 150.0
    assert edited.save(qb=qb).TotalAmt == 150.0
    assert Invoice.get(invoice.Id, qb=qb).Balance == 150.0

    Payment.get(first.Id, qb=qb).delete(qb=qb)
    untouched = Invoice.get(invoice.Id, qb=qb)
    assert untouched.Balance == 300.0 and untouched.LinkedTxn == []
    with pytest.raises(ObjectNotFoundException):
        Payment.get(first.Id, qb=qb)


def test_voiding_a_paid_invoice_leaves_the_payment_unapplied(client: QboClient) -> None:
    invoice = new_invoice(home_customer(client), 90.0).save(qb=client.qb)
    payment = new_payment(invoice, 90.0).save(qb=client.qb)
    Invoice.get(invoice.Id, qb=client.qb).void(qb=client.qb)
    after = Payment.get(payment.Id, qb=client.qb)
    assert (after.TotalAmt, after.UnappliedAmt, after.Line, after.SyncToken) == (90.0, 90.0, [], "1")


def test_customer_balance_follows_its_invoices(client: QboClient) -> None:
    qb = client.qb
    customer = Customer()
    customer.DisplayName = "Ledgerline Test Co"
    customer.PrimaryEmailAddr = EmailAddress()
    customer.PrimaryEmailAddr.Address = "ap@ledgerline.example.com"
    customer = customer.save(qb=qb)
    assert customer.Balance == 0 and customer.Active is True and customer.CurrencyRef.value == "USD"
    invoice = new_invoice(customer.Id, 100.0).save(qb=qb)
    new_payment(invoice, 40.0).save(qb=qb)
    assert Customer.get(customer.Id, qb=qb).Balance == 60.0


def test_customer_and_account_are_deactivated_not_deleted(client: QboClient) -> None:
    qb = client.qb
    customer = Customer()
    customer.DisplayName = "Short Lived Ltd"
    customer = customer.save(qb=qb)
    duplicate = Customer()
    duplicate.DisplayName = "short lived ltd"
    with pytest.raises(QuickbooksException) as clash:
        duplicate.save(qb=qb)
    assert clash.value.error_code == 6240

    edit = Customer.get(customer.Id, qb=qb)
    edit.Notes = "moved to the platform"
    assert edit.save(qb=qb).SyncToken == "1"
    edit = Customer.get(customer.Id, qb=qb)
    edit.Active = False
    hidden = edit.save(qb=qb)
    assert hidden.DisplayName == "Short Lived Ltd (deleted)" and hidden.Active is False

    with pytest.raises(UnsupportedException):
        client.qb.delete_object("Customer", json.dumps({"Id": customer.Id, "SyncToken": "2"}))
    with pytest.raises(UnsupportedException):
        client.qb.post(
            client.url("customer"), json.dumps({"Id": customer.Id, "SyncToken": "2"}), params={"operation": "void"}
        )

    account = Account()
    account.Name = "Platform Fees"
    account.AccountType = "Expense"
    account.AccountSubType = "BankCharges"
    account = account.save(qb=qb)
    assert (account.Classification, account.FullyQualifiedName) == ("Expense", "Platform Fees")
    assert account.CurrentBalance == 0
    clone = Account()
    clone.Name, clone.AccountType = "Platform Fees", "Expense"
    with pytest.raises(QuickbooksException) as same_name:
        clone.save(qb=qb)
    assert same_name.value.error_code == 6240
    read = Account.get(account.Id, qb=qb)
    read.Description = "Fees the payments platform keeps"
    read.Active = False
    closed = read.save(qb=qb)
    assert closed.Name == "Platform Fees (deleted)" and closed.SyncToken == "1"
    assert account.Id not in [a.Id for a in Account.all(max_results=1000, qb=qb)]
    with pytest.raises(UnsupportedException):
        client.qb.delete_object("Account", json.dumps({"Id": account.Id, "SyncToken": "1"}))


def _deposit_line(payment: Payment) -> DepositLine:
    line = DepositLine()
    line.Amount = payment.TotalAmt
    line.LinkedTxn.append(linked(payment.Id, "Payment", "0"))
    return line


def test_deposit_of_payments_with_a_fee_line(client: QboClient) -> None:
    qb = client.qb
    invoice = new_invoice(home_customer(client), 500.0).save(qb=qb)
    payment = new_payment(invoice, 500.0).save(qb=qb)
    bank, fees, undeposited = role(client, "bank"), role(client, "fees"), role(client, "undeposited")
    bank_before, funds_before = balance(client, bank), balance(client, undeposited)

    deposit = Deposit()
    deposit.DepositToAccountRef = ref(bank)
    deposit.Line.append(_deposit_line(payment))
    with pytest.raises(ValidationException) as sdk_default:  # DepositLine always says DepositLineDetail
        deposit.save(qb=qb)
    assert sdk_default.value.error_code == 2020 and "DepositLineDetail.AccountRef" in sdk_default.value.detail

    deposit.Line[0].DetailType = None
    fee = DepositLine()
    fee.Amount = -14.5
    fee.DepositLineDetail = DepositLineDetail()
    fee.DepositLineDetail.AccountRef = ref(fees)
    deposit.Line.append(fee)
    saved = deposit.save(qb=qb)
    assert saved.TotalAmt == 485.5 and len(saved.Line) == 2
    assert balance(client, bank) == bank_before + Decimal("485.5")
    assert balance(client, undeposited) == funds_before - 500

    again = Deposit()
    again.DepositToAccountRef = ref(bank)
    again.Line.append(_deposit_line(payment))
    again.Line[0].DetailType = None
    with pytest.raises(QuickbooksException) as twice:  # a payment is deposited once
        again.save(qb=qb)
    assert twice.value.error_code == 6000

    read = Deposit.get(saved.Id, qb=qb)
    read.PrivateNote = "Payout 2024-06-03"
    for line in read.Line:  # the SDK re-reads linked lines with its default DetailType too
        if line.LinkedTxn:
            line.DetailType = None
    assert read.save(qb=qb).SyncToken == "1"
    with pytest.raises(UnsupportedException):
        client.qb.post(
            client.url("deposit"), json.dumps({"Id": saved.Id, "SyncToken": "1"}), params={"operation": "void"}
        )
    with pytest.raises(QuickbooksException) as deposited:  # deposited payments can't be deleted
        Payment.get(payment.Id, qb=qb).delete(qb=qb)
    assert deposited.value.error_code == 6540  # "Deposited Transaction cannot be changed"
    Deposit.get(saved.Id, qb=qb).delete(qb=qb)
    assert balance(client, bank) == bank_before
    Payment.get(payment.Id, qb=qb).delete(qb=qb)  # free again


def test_transfer_lifecycle(client: QboClient) -> None:
    qb = client.qb
    clearing, bank = role(client, "clearing"), role(client, "bank")
    before = balance(client, clearing), balance(client, bank)
    transfer = Transfer()
    transfer.FromAccountRef = ref(clearing)
    transfer.ToAccountRef = ref(bank)
    transfer.Amount = 250.0
    transfer.PrivateNote = "Payout"
    saved = transfer.save(qb=qb)
    assert saved.Amount == 250.0 and saved.FromAccountRef.name == "Payments Platform Clearing"
    assert (balance(client, clearing), balance(client, bank)) == (before[0] - 250, before[1] + 250)

    read = Transfer.get(saved.Id, qb=qb)
    read.Amount = 240.0
    assert read.save(qb=qb).SyncToken == "1"
    assert balance(client, bank) == before[1] + 240
    same = Transfer()
    same.FromAccountRef, same.ToAccountRef, same.Amount = ref(bank), ref(bank), 1.0
    with pytest.raises(QuickbooksException) as same_account:
        same.save(qb=qb)
    assert same_account.value.error_code == 6000
    with pytest.raises(UnsupportedException):
        client.qb.post(
            client.url("transfer"), json.dumps({"Id": saved.Id, "SyncToken": "1"}), params={"operation": "void"}
        )
    Transfer.get(saved.Id, qb=qb).delete(qb=qb)
    assert (balance(client, clearing), balance(client, bank)) == before


def test_purchase_lifecycle(client: QboClient) -> None:
    qb = client.qb
    clearing, fees = role(client, "clearing"), role(client, "fees")
    purchase = Purchase()
    purchase.AccountRef = ref(clearing)
    line = AccountBasedExpenseLine()
    line.Amount = 7.25
    line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    line.AccountBasedExpenseLineDetail.AccountRef = ref(fees)
    purchase.Line.append(line)
    with pytest.raises(ValidationException) as no_type:  # the SDK's default PaymentType is ""
        purchase.save(qb=qb)
    assert no_type.value.error_code == 2020

    purchase.PaymentType = "Cash"
    fees_before = balance(client, fees)
    saved = purchase.save(qb=qb)
    assert saved.TotalAmt == 7.25 and saved.PrintStatus == "NeedToPrint"
    assert balance(client, fees) == fees_before + Decimal("7.25")
    read = Purchase.get(saved.Id, qb=qb)
    read.Line[0].Amount = 8.0
    assert read.save(qb=qb).TotalAmt == 8.0
    with pytest.raises(UnsupportedException):
        client.qb.post(
            client.url("purchase"), json.dumps({"Id": saved.Id, "SyncToken": "1"}), params={"operation": "void"}
        )
    Purchase.get(saved.Id, qb=qb).delete(qb=qb)
    assert balance(client, fees) == fees_before


def test_unknown_properties_are_refused_like_qbo(client: QboClient) -> None:
    body = {
        "CustomerRef": {"value": home_customer(client)},
        "Colour": "blue",
        "Line": [{"Amount": 5, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {}}],
    }
    with pytest.raises(ValidationException) as refused:
        client.qb.create_object("Invoice", json.dumps(body))
    assert refused.value.error_code == 2010 and '"Colour"' in refused.value.detail

    typo = new_invoice(home_customer(client), 10.0)
    subtotal = SubtotalLine()  # the SDK spells its detail attribute SubtotalLineDetail
    subtotal.Amount = 10.0
    subtotal.SubtotalLineDetail = {}
    typo.Line.append(subtotal)
    with pytest.raises(ValidationException) as misspelt:
        typo.save(qb=client.qb)
    assert '"SubtotalLineDetail"' in misspelt.value.detail


def test_foreign_currency_and_company_local_stamps(client: QboClient) -> None:
    books = client.sandbox.ledger.books(client.realm_id)
    cad = next(c for c in books.records["Customer"].values() if c.doc["CurrencyRef"]["value"] == "CAD")
    invoice = new_invoice(cad.id, 100.0)
    invoice.ExchangeRate = None  # the SDK sends ExchangeRate 1 unless told otherwise
    saved = invoice.save(qb=client.qb)
    assert saved.CurrencyRef.value == "CAD" and saved.ExchangeRate == 0.73 and saved.HomeTotalAmt == 73.0
    booked_at_one = new_invoice(cad.id, 100.0).save(qb=client.qb)
    assert booked_at_one.ExchangeRate == 1 and booked_at_one.HomeTotalAmt == 100.0

    au = connect(client.sandbox, client.sandbox.realm_ids[1])
    raw = au.qb.query("select * from Invoice maxresults 1")
    assert raw["time"].endswith("+10:00")
    assert raw["QueryResponse"]["Invoice"][0]["MetaData"]["LastUpdatedTime"].endswith("+10:00")


def test_company_info_and_preferences(client: QboClient) -> None:
    from quickbooks.objects import CompanyInfo, Preferences

    company = client.sandbox.realms[0]
    info = CompanyInfo.get(client.realm_id, qb=client.qb)
    assert (info.CompanyName, info.Country, info.DefaultTimeZone) == (company.name, "US", "Etc/GMT+8")
    prefs = Preferences.get(qb=client.qb)
    assert prefs.CurrencyPrefs.HomeCurrency.value == "USD" and prefs.CurrencyPrefs.MultiCurrencyEnabled is True
