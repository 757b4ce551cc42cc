"""Deterministic demo companies: chart of accounts, customers, and invoices in every state.

``seed_ledger(ledger, seed=N)`` always builds the same books for the same N (relative to
the ledger clock's "now"): a US company at -08:00 (USD with CAD and EUR customers) and an
Australian one at +10:00 (AUD with NZD and USD) first, then Canadian and British ones.
Invoices are open (some overdue), partly paid, paid (by one or two payments, some
deposited or paid out through the clearing account), voided and deleted.

History is written through the ledger's own operations (so seeded records look exactly
like ones the API creates) in time order, with ``ledger.at`` standing in for the clock;
the change index is sorted once at the end.
"""

from __future__ import annotations

import gc
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from connector.sandbox.common import seeding
from connector.sandbox.quickbooks.books import Books
from connector.sandbox.quickbooks.ledger import Ledger
from connector.sandbox.quickbooks.model import Company, Record, money, to_epoch
from connector.sandbox.quickbooks.rules_base import Ctx
from connector.sandbox.quickbooks.rules_payments import complete_payment, payment_line
from connector.sandbox.quickbooks.rules_sales import DEFAULT_ITEM, complete_invoice, sales_line, subtotal_line

DAY = 86_400
BIG_SEED = 10_000  # invoices from which the seed takes its objects out of the garbage collector's sight


@dataclass(frozen=True)
class Profile:
    country: str
    currency: str
    utc_offset_minutes: int
    city: str
    rates: tuple[tuple[str, str], ...]  # foreign currency, home units per one foreign unit


PROFILES: tuple[Profile, ...] = (
    Profile("US", "USD", -8 * 60, "Portland", (("CAD", "0.73"), ("EUR", "1.09"))),
    Profile("AU", "AUD", 10 * 60, "Brisbane", (("NZD", "0.92"), ("USD", "1.52"))),
    Profile("CA", "CAD", -6 * 60, "Regina", (("USD", "1.36"),)),
    Profile("GB", "GBP", 0, "Leeds", ()),
)

# Status mix for generated invoices (cumulative thresholds over 100).
_MIX = ((22, "open"), (38, "overdue"), (51, "partial"), (85, "paid"), (93, "voided"), (100, "deleted"))

CHART: tuple[tuple[str, str, str, str], ...] = (
    # role, name, type, subtype
    ("bank", "Checking", "Bank", "Checking"),
    ("savings", "Savings", "Bank", "Savings"),
    ("clearing", "Payments Platform Clearing", "Bank", "CashOnHand"),
    ("undeposited", "Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    ("ar", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
    ("income", "Services", "Income", "ServiceFeeIncome"),
    ("fees", "Bank Charges & Fees", "Expense", "BankCharges"),
    ("card", "Visa Credit Card", "Credit Card", "CreditCard"),
)


def realm_id_for(rng: random.Random) -> str:
    return "9341" + "".join(str(rng.randint(0, 9)) for _ in range(12))


def build_company(ledger: Ledger, seed: int, index: int) -> Books:
    """A company with its chart of accounts and customers, but no transactions yet."""
    rng = random.Random(f"qbo-realm-{seed}-{index}")
    profile = PROFILES[index % len(PROFILES)]
    now = ledger.clock.now()
    name = seeding.company_name(rng)
    created = to_epoch(now - timedelta(days=3 * 365 + rng.randint(0, 300)))
    company = Company(
        realm_id=realm_id_for(rng), name=name, legal_name=f"{name} ({profile.country})", country=profile.country,
        currency=profile.currency, utc_offset_minutes=profile.utc_offset_minutes, created=created,
        email=f"accounts@{name.split()[0].lower()}.example.com", city=profile.city,
        rates={code: Decimal(rate) for code, rate in profile.rates},
    )
    books = ledger.add_realm(Books(company))
    books.bulk = True
    ledger.at = created
    ledger.seeding = True
    realm = company.realm_id
    for role, account_name, kind, subtype in CHART:
        record = ledger.create(realm, "Account", {"Name": account_name, "AccountType": kind, "AccountSubType": subtype})
        books.roles[role] = record.id
    for code, _rate in profile.rates:
        record = ledger.create(realm, "Account", {"Name": f"{code} Bank Account", "AccountType": "Bank",
                                                  "AccountSubType": "Checking", "CurrencyRef": {"value": code}})
        books.roles[f"bank_{code}"] = record.id
    return books


def _customers(ledger: Ledger, books: Books, rng: random.Random, count: int) -> list[Record]:
    realm = books.realm_id
    names: set[str] = set()
    out = []
    foreign = sorted(books.company.rates)
    for n in range(count):
        display = seeding.company_name(rng)
        while display.lower() in names:
            display = f"{display} {rng.randint(2, 99)}"
        names.add(display.lower())
        first, last = seeding.person_name(rng)
        body: dict[str, Any] = {
            "DisplayName": display, "CompanyName": display, "GivenName": first, "FamilyName": last,
            "PrimaryEmailAddr": {"Address": seeding.email_for(first, last, display)},
            "BillAddr": {"Line1": seeding.street_address(rng), "City": books.company.city,
                         "Country": books.company.country},
            "PreferredDeliveryMethod": "Email",
        }
        if foreign and n % 5 == 4:  # every fifth customer pays in a foreign currency, in turn
            body["CurrencyRef"] = {"value": foreign[(n // 5) % len(foreign)]}
        out.append(ledger.create(realm, "Customer", body))
    return out


@dataclass
class _Plan:
    """One invoice's life, decided up front so events can be replayed in time order."""

    status: str
    created: int
    customer: Record
    lines: list[tuple[seeding.Product, Decimal]]
    terms: int
    record: Record | None = None


class _History:
    def __init__(self, ledger: Ledger, books: Books, rng: random.Random, now: int) -> None:
        self.ledger, self.books, self.rng, self.now = ledger, books, rng, now
        self.realm = books.realm_id
        self.events: list[tuple[int, int, Callable[[], None]]] = []
        self.undeposited: list[Record] = []
        self.cleared: list[Record] = []
        self._order = 0
        self.ctx: Ctx | None = None
        self._ctx_day = -1

    def at(self, when: int, action: Callable[[], None]) -> None:
        self._order += 1
        heapq.heappush(self.events, (min(when, self.now - 60), self._order, action))

    def run(self) -> None:
        while self.events:
            when, _order, action = heapq.heappop(self.events)
            self.ledger.at = when
            action()

    def context(self) -> Ctx:
        """One rule context per company-local day: "today" is all a context knows about time,
        and building one per event is a measurable share of a 100,000-invoice seed."""
        day = (self.ledger.at or self.now) + self.books.company.utc_offset_minutes * 60
        day //= DAY
        if self.ctx is None or self._ctx_day != day:
            self.ctx, self._ctx_day = self.ledger.context(self.realm), day
        return self.ctx

    def plan(self, customers: list[Record], count: int) -> None:
        rng = self.rng
        catalogue = seeding.CATALOGUE
        quantities = [Decimal(n) for n in range(1, 9)]
        terms = (14, 30, 30, 45)
        draw = rng.random  # random() is several times cheaper than randint() at 100,000 invoices
        for _ in range(count):
            roll = int(draw() * 100)
            status = next(name for limit, name in _MIX if roll < limit)
            low, high = {"open": (1, 25), "overdue": (40, 170)}.get(status, (5, 170))
            created = self.now - int((low + draw() * (high - low)) * DAY)
            lines = [(catalogue[int(draw() * len(catalogue))], quantities[int(draw() * 8)])
                     for _ in range(1 + int(draw() * 3))]
            plan = _Plan(status, created, customers[int(draw() * len(customers))], lines, terms[int(draw() * 4)])
            self.at(created, partial(self._create, plan))

    def _create(self, plan: _Plan) -> None:
        """An invoice as the API would have stored it, built with the invoice rules' own helpers."""
        ctx = self.context()
        customer = plan.customer
        currency = ctx.currency_of(customer)
        rate = ctx.rate_for(currency, None)
        lines = []
        subtotal = Decimal(0)
        for number_, (product, qty) in enumerate(plan.lines, start=1):
            value = qty * product.unit_price  # whole quantities of cent prices: already exact
            detail = {"ItemRef": dict(DEFAULT_ITEM), "Qty": qty, "UnitPrice": product.unit_price}
            lines.append(sales_line(number_, value, product.description, detail))
            subtotal += value
        lines.append(subtotal_line(subtotal))
        txn_date = datetime.fromtimestamp(plan.created, UTC).astimezone(ctx.company.tz).date()
        doc: dict[str, Any] = {
            "BillEmail": dict(customer.doc["PrimaryEmailAddr"]),
            "EmailStatus": "EmailSent" if self.rng.random() < 0.7 else "NotSet",
        }
        complete_invoice(ctx, doc, customer, currency, rate, lines, money(subtotal), txn_date,
                         txn_date + timedelta(days=plan.terms))
        plan.record = self.ledger.insert(self.realm, "Invoice", doc, ctx)
        rng, remaining = self.rng, self.now - plan.created
        total = plan.record.doc["TotalAmt"]
        if plan.status == "partial":
            part = money(total * Decimal(rng.randint(20, 80)) / 100)
            self.at(plan.created + rng.randint(1, max(2, remaining)), lambda: self._pay(plan, part))
        elif plan.status == "paid":
            first_at = plan.created + rng.randint(1, max(2, remaining // 2))
            if rng.random() < 0.2:
                half = money(total / 2)
                self.at(first_at, lambda: self._pay(plan, half))
                self.at(first_at + rng.randint(1, max(2, self.now - first_at)), lambda: self._pay(plan, None))
            else:
                self.at(first_at, lambda: self._pay(plan, None))
        elif plan.status == "voided":
            self.at(plan.created + rng.randint(1, max(2, remaining)), lambda: self._void(plan))
        elif plan.status == "deleted":
            self.at(self.now - rng.randint(60, 25 * DAY), lambda: self._delete(plan))

    def _pay(self, plan: _Plan, value: Decimal | None) -> None:
        """A payment of one invoice (its whole balance by default), via the payment rules' helpers."""
        invoice = plan.record
        assert invoice is not None
        ctx = self.context()
        home = invoice.doc["CurrencyRef"]["value"] == ctx.company.currency
        to_clearing = home and self.rng.random() < 0.5
        deposit_to = self.books.account("clearing" if to_clearing else "undeposited")
        balance = invoice.doc["Balance"]
        amount = balance if value is None else min(value, balance)
        currency = invoice.doc["CurrencyRef"]["value"]
        doc: dict[str, Any] = {"PaymentRefNum": f"PMT-{self.rng.randint(10000, 99999)}"}
        complete_payment(ctx, doc, plan.customer, currency, ctx.rate_for(currency, None), amount,
                         [payment_line(invoice, amount, balance)], deposit_to, ctx.today)
        payment = self.ledger.insert(self.realm, "Payment", doc, ctx)
        if home:
            (self.cleared if to_clearing else self.undeposited).append(payment)

    def _void(self, plan: _Plan) -> None:
        assert plan.record is not None
        self.ledger.void_invoice(self.realm, plan.record.id)

    def _delete(self, plan: _Plan) -> None:
        assert plan.record is not None
        self.ledger.delete_invoice(self.realm, plan.record.id)

    def weekly(self, start: int) -> None:
        """Every week: bank the Undeposited Funds, and pay out the clearing account less a fee."""
        when = start + 7 * DAY
        while when < self.now:
            self.at(when, self._deposit)
            self.at(when + 1, self._payout)
            when += 7 * DAY

    def _deposit(self) -> None:
        ready, self.undeposited = self.undeposited[:30], self.undeposited[30:]
        if not ready:
            return
        self.ledger.create(self.realm, "Deposit", {
            "DepositToAccountRef": {"value": self.books.roles["bank"]},
            "Line": [{"Amount": p.doc["TotalAmt"], "LinkedTxn": [{"TxnId": p.id, "TxnType": "Payment",
                                                                  "TxnLineId": "0"}]} for p in ready],
        })

    def _payout(self) -> None:
        paid, self.cleared = self.cleared, []
        gross = money(sum((p.doc["TotalAmt"] for p in paid), Decimal(0)))
        if gross <= 0:
            return
        fee = money(gross * Decimal("0.029"))
        roles = self.books.roles
        self.ledger.create(self.realm, "Purchase", {
            "AccountRef": {"value": roles["clearing"]}, "PaymentType": "Cash", "PrivateNote": "Platform fees",
            "Line": [{"Amount": fee, "DetailType": "AccountBasedExpenseLineDetail",
                      "AccountBasedExpenseLineDetail": {"AccountRef": {"value": roles["fees"]}}}],
        })
        self.ledger.create(self.realm, "Transfer", {
            "FromAccountRef": {"value": roles["clearing"]}, "ToAccountRef": {"value": roles["bank"]},
            "Amount": gross - fee, "PrivateNote": "Platform payout",
        })


def seed_ledger(ledger: Ledger, seed: int = 1, realms: int = 2, invoices_per_realm: int = 60,
                customers_per_realm: int = 20) -> list[Books]:
    """Build ``realms`` companies with their history; returns their books in order."""
    out = []
    now = to_epoch(ledger.clock.now())
    big = realms * invoices_per_realm >= BIG_SEED
    collecting = gc.isenabled()
    if big:
        gc.disable()  # a big seed allocates millions of small objects and frees none of them
    try:
        for index in range(realms):
            out.append(_seed_realm(ledger, seed, index, now, invoices_per_realm, customers_per_realm))
    finally:
        if big:
            # Those books live as long as the process: keep the collector from re-scanning millions
            # of long-lived objects on every full collection (it made a sorted query take seconds).
            gc.freeze()
        if collecting:
            gc.enable()
    return out


def _seed_realm(ledger: Ledger, seed: int, index: int, now: int, invoices: int, customers: int) -> Books:
    books = build_company(ledger, seed, index)
    rng = random.Random(f"qbo-history-{seed}-{index}")
    try:
        ledger.at = now - 200 * DAY
        people = _customers(ledger, books, rng, customers)
        history = _History(ledger, books, rng, now)
        history.plan(people, invoices)
        history.weekly(now - 175 * DAY)
        history.run()
    finally:
        ledger.at = None
        ledger.seeding = False
        books.bulk = False
        books.rebuild_indexes()
    return books
