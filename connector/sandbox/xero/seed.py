"""Deterministic demo organisations: contacts, a chart of accounts, and invoices in every state.

``seed_ledger(ledger, seed=N)`` always builds the same books for the same N (relative to
the ledger clock's "now"): a New Zealand organisation (Pacific/Auckland) and a US one (America/Los_Angeles)
first, then UK and Australian ones; invoices across DRAFT/SUBMITTED/AUTHORISED/PAID/
VOIDED/DELETED with partial payments, credit notes and foreign currencies.

Generation writes records directly (no per-invoice validation) and sorts the change index
once, so 100,000 invoices take a couple of seconds.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

from connector.sandbox.common import seeding
from connector.sandbox.xero.model import (
    ONE,
    ZERO,
    Account,
    Allocation,
    Contact,
    CreditNote,
    Invoice,
    Item,
    LineItem,
    Organisation,
    Payment,
    money,
    to_ms,
)
from connector.sandbox.xero.state import Ledger, Tenant


@dataclass(frozen=True)
class OrgProfile:
    version: str
    country: str
    base_currency: str
    timezone: str  # Xero TimeZone enum
    utc_offset_minutes: int
    sales_tax_type: str
    tax_rates: tuple[tuple[str, str], ...]
    foreign: tuple[tuple[str, str], ...]  # currency, units per one base unit
    city: str


PROFILES: tuple[OrgProfile, ...] = (
    OrgProfile(
        "NZ",
        "NZ",
        "NZD",
        "NEWZEALANDSTANDARDTIME",
        13 * 60,
        "OUTPUT2",
        (
            ("OUTPUT2", "0.15"),
            ("INPUT2", "0.15"),
            ("NONE", "0"),
            ("EXEMPTOUTPUT", "0"),
            ("ZERORATEDOUTPUT", "0"),
        ),
        (("AUD", "0.930000"), ("USD", "0.610000"), ("GBP", "0.480000")),
        "Auckland",
    ),
    OrgProfile(
        "US",
        "US",
        "USD",
        "PACIFICSTANDARDTIME",
        -8 * 60,
        "NONE",
        (("NONE", "0"), ("OUTPUT", "0"), ("INPUT", "0")),
        (("CAD", "1.360000"), ("EUR", "0.920000")),
        "Portland",
    ),
    OrgProfile(
        "UK",
        "GB",
        "GBP",
        "GMTSTANDARDTIME",
        0,
        "OUTPUT2",
        (("OUTPUT2", "0.20"), ("INPUT2", "0.20"), ("NONE", "0"), ("ZERORATEDOUTPUT", "0")),
        (("EUR", "1.170000"), ("USD", "1.270000")),
        "Leeds",
    ),
    OrgProfile(
        "AU",
        "AU",
        "AUD",
        "AUSEASTERNSTANDARDTIME",
        10 * 60,
        "OUTPUT",
        (("OUTPUT", "0.10"), ("INPUT", "0.10"), ("NONE", "0"), ("EXEMPTOUTPUT", "0")),
        (("NZD", "1.080000"), ("USD", "0.660000")),
        "Brisbane",
    ),
)

# Status mix for generated invoices (cumulative thresholds over 100).
_STATUS_MIX = (
    (8, "DRAFT"),
    (12, "SUBMITTED"),
    (60, "AUTHORISED"),
    (88, "PAID"),
    (95, "VOIDED"),
    (100, "DELETED"),
)
_DAY_MS = 86_400_000
_LINE_COUNTS = (1, 1, 2, 2, 3)
_TERMS = tuple(timedelta(days=d) for d in (7, 14, 20, 30))
T = TypeVar("T")


def _chart(t_rng: random.Random, profile: OrgProfile, created_ms: int) -> list[Account]:
    def acct(code: str, name: str, kind: str, klass: str, **kw: object) -> Account:
        return Account(
            id=seeding.rng_uuid(t_rng),
            code=code,
            name=name,
            type=kind,
            account_class=klass,
            updated_ms=created_ms,
            **kw,
        )  # type: ignore[arg-type]

    foreign = profile.foreign[0][0]
    return [
        acct(
            "090",
            "Business Bank Account",
            "BANK",
            "ASSET",
            bank_account_number=f"{t_rng.randint(10**9, 10**10)}",
        ),
        acct(
            "091",
            "Business Savings Account",
            "BANK",
            "ASSET",
            bank_account_number=f"{t_rng.randint(10**9, 10**10)}",
        ),
        acct(
            "095",
            "Payments Platform Clearing",
            "BANK",
            "ASSET",
            description="Money collected by the payments platform, waiting for payout",
        ),
        acct(
            "092",
            f"{foreign} Bank Account",
            "BANK",
            "ASSET",
            currency=foreign,
            bank_account_number=f"{t_rng.randint(10**9, 10**10)}",
        ),
        acct("120", "Undeposited Funds", "CURRENT", "ASSET", enable_payments=True),
        acct("200", "Sales", "REVENUE", "REVENUE", tax_type=profile.sales_tax_type),
        acct("260", "Other Revenue", "REVENUE", "REVENUE", tax_type=profile.sales_tax_type),
        acct("404", "Bank Fees", "EXPENSE", "EXPENSE", tax_type="NONE"),
        acct("429", "General Expenses", "EXPENSE", "EXPENSE", tax_type="NONE"),
        acct("610", "Accounts Receivable", "CURRENT", "ASSET", system_account="DEBTORS"),
        acct("800", "Accounts Payable", "CURRLIAB", "LIABILITY", system_account="CREDITORS"),
        acct("820", "Sales Tax", "CURRLIAB", "LIABILITY", system_account="GST"),
    ]


def build_tenant(ledger: Ledger, seed: int, index: int, contacts: int = 25) -> Tenant:
    """An organisation with its chart of accounts and customers, but no invoices yet."""
    rng = random.Random(f"xero-tenant-{seed}-{index}")
    profile = PROFILES[index % len(PROFILES)]
    now = ledger.clock.now()
    created_ms = to_ms(now - timedelta(days=3 * 365 + rng.randint(0, 300)))
    name = seeding.company_name(rng)
    org = Organisation(
        id=seeding.rng_uuid(rng),
        name=name,
        legal_name=f"{name} ({profile.country})",
        version=profile.version,
        country=profile.country,
        base_currency=profile.base_currency,
        timezone=profile.timezone,
        utc_offset_minutes=profile.utc_offset_minutes,
        short_code=seeding.short_code(rng),
        created_ms=created_ms,
        line_of_business=name.split()[1] if len(name.split()) > 1 else "Services",
        tax_rates={code: Decimal(r) for code, r in profile.tax_rates},
        sales_tax_type=profile.sales_tax_type,
    )
    tenant = Tenant(org=org, currencies={c: Decimal(r) for c, r in profile.foreign})
    for account in _chart(rng, profile, created_ms):
        tenant.accounts[account.id] = account
    names: set[str] = set()
    for n in range(contacts):
        company = seeding.company_name(rng)
        while company in names:
            company = f"{company} {rng.randint(2, 99)}"
        names.add(company)
        first, last = seeding.person_name(rng)
        currency = rng.choice(profile.foreign)[0] if rng.random() < 0.15 else None
        contact = Contact(
            id=seeding.rng_uuid(rng),
            name=company,
            updated_ms=created_ms + rng.randint(1, 400) * _DAY_MS,
            first_name=first,
            last_name=last,
            email=seeding.email_for(first, last, company),
            number=f"CUST-{n + 1:04d}",
            default_currency=currency,
            street=seeding.street_address(rng),
            city=profile.city,
            country=profile.country,
        )
        tenant.contacts[contact.id] = contact
    supplier = Contact(
        id=seeding.rng_uuid(rng),
        name=f"{seeding.company_name(rng)} Supplies",
        updated_ms=created_ms,
        is_customer=False,
        is_supplier=True,
    )
    tenant.contacts[supplier.id] = supplier
    for item in _items(org, created_ms):
        tenant.items[item.id] = item
    return tenant


def _items(org: Organisation, created_ms: int) -> list[Item]:
    """Two products every organisation sells (ids derived from the organisation, so seeding's
    random draws, and every id seeded before, stay what they were)."""

    def make(code: str, name: str, price: str, cost: str | None) -> Item:
        return Item(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero-sandbox/{org.id}/item/{code}")),
            code=code,
            name=name,
            updated_ms=created_ms,
            description=name,
            is_purchased=cost is not None,
            sales_unit_price=Decimal(price),
            sales_account_code="200",
            sales_tax_type=org.sales_tax_type,
            purchase_unit_price=Decimal(cost) if cost is not None else None,
            purchase_account_code="429" if cost is not None else None,
            purchase_tax_type="NONE" if cost is not None else None,
        )

    return [
        make("CONSULT-HR", "Consulting (per hour)", "150.00", None),
        make("SUB-MONTHLY", "Monthly subscription", "49.0000", "12.5000"),
    ]


class _Generator:
    """Adds invoices (and their payments and credit notes) to one tenant, fast."""

    def __init__(
        self,
        ledger: Ledger,
        tenant: Tenant,
        rng: random.Random,
        days_back: int = 120,
        bulk_ms: int | None = None,
    ) -> None:
        self.ledger = ledger
        #: The bulk-import scenario: every stamp is this one instant (see :func:`add_invoices`).
        self.bulk_ms = bulk_ms
        self.t = tenant
        self.rng = rng
        self.days_back = days_back
        self.now_ms = ledger.now_ms()
        org = tenant.org
        self.offset_ms = org.utc_offset_minutes * 60_000
        self.today = org.local_date(ledger.clock.now())
        self.bank = next(a for a in tenant.accounts.values() if a.code == "090")
        self.customers = [c for c in tenant.contacts.values() if c.is_customer]
        self.suppliers = [c for c in tenant.contacts.values() if c.is_supplier]
        self.rate = org.tax_rates.get(org.sales_tax_type, ZERO)
        self.currencies = list(tenant.currencies.items())
        # Every (product, quantity) line, priced once: generation then only looks lines up.
        self.lines: list[tuple[str, Decimal, Decimal, Decimal, Decimal]] = []
        for product in seeding.CATALOGUE:
            for qty in range(1, 6):
                line_amount = money(product.unit_price * qty)
                self.lines.append(
                    (
                        product.description,
                        Decimal(qty),
                        product.unit_price,
                        line_amount,
                        money(line_amount * self.rate),
                    )
                )

    def _uuid(self) -> str:
        return seeding.rng_uuid(self.rng)

    def _stamp(self, day: date, not_after: int | None = None) -> int:
        """A working-hours instant on the organisation's ``day``, as UTC epoch ms, never in the future.

        On a day not yet over (today), the instant falls in the part of it that has passed: the
        working hours so far, or since midnight before they start. (It used to be clamped to one
        second before now, so a large organisation had a thousand invoices in that one second and
        a no-change sync re-read them: If-Modified-Since includes its second.) One draw either way,
        so past days get exactly the instants they always had.
        """
        day_start = (day - date(1970, 1, 1)).days * _DAY_MS - self.offset_ms
        low, high = day_start + 8 * 3600 * 1000, day_start + 18 * 3600 * 1000
        ceiling = min(self.now_ms - 1000, not_after if not_after is not None else self.now_ms)
        if self.bulk_ms is not None:
            self._int(0, 0)  # the draw a spread stamp takes: same world, one second
            return min(self.bulk_ms, ceiling)
        if high > ceiling:
            high = ceiling
            low = min(low, max(day_start, high - 3600 * 1000))
        return min(low + self._int(0, high - low), ceiling)

    def add(self, count: int) -> list[Invoice]:
        t = self.t
        ages = sorted((self._int(0, self.days_back) for _ in range(count)), reverse=True)
        created: list[Invoice] = []
        for age in ages:
            issued = self.today - timedelta(days=age)
            created.append(self._one(issued))
        t.rebuild_index()
        return created

    def _pick(self, items: Sequence[T]) -> T:
        """``rng.choice`` without its overhead (hundreds of thousands of calls when seeding)."""
        return items[int(self.rng.random() * len(items))]

    def _int(self, low: int, high: int) -> int:
        return low + int(self.rng.random() * (high - low + 1))

    def _one(self, issued: date) -> Invoice:
        rng, t, pick = self.rng, self.t, self._pick
        bill = rng.random() < 0.05
        contact = pick(self.suppliers if bill and self.suppliers else self.customers)
        roll = int(rng.random() * 100)
        status = next(s for limit, s in _STATUS_MIX if roll < limit)
        currency, fx = t.org.base_currency, ONE
        if rng.random() < 0.12:
            currency, fx = pick(self.currencies)
            if contact.default_currency:
                currency, fx = contact.default_currency, t.currencies[contact.default_currency]
        lines = []
        sub = tax_total = ZERO
        account, tax_type = ("429", "NONE") if bill else ("200", t.org.sales_tax_type)
        for _ in range(pick(_LINE_COUNTS)):
            desc, qty, unit, line_amount, tax = pick(self.lines)
            if bill:
                tax = ZERO
            lines.append(LineItem(self._uuid(), desc, qty, unit, account, tax_type, tax, line_amount))
            sub += line_amount
            tax_total += tax
        if bill:
            number = f"BILL-{self._int(1000, 99999)}"
        else:
            number = f"INV-{t.next_invoice_no:04d}"
            t.next_invoice_no += 1
        t.seq += 1
        inv = Invoice(
            id=self._uuid(),
            type="ACCPAY" if bill else "ACCREC",
            number=number,
            contact_id=contact.id,
            date=issued,
            due_date=issued + _TERMS[int(rng.random() * 4)],
            status=status,
            currency=currency,
            line_amount_types="Exclusive",
            lines=lines,
            sub_total=sub,
            total_tax=tax_total,
            total=sub + tax_total,
            updated_ms=self._stamp(issued),
            seq=t.seq,
            currency_rate=fx,
            reference=f"PO-{self._int(1000, 9999)}" if rng.random() < 0.4 else None,
        )
        t.invoices[inv.id] = inv
        if inv.type == "ACCREC":
            t.invoice_numbers[inv.number] = inv.id
        if status == "AUTHORISED":
            inv.sent_to_contact = rng.random() < 0.7
            roll = rng.random()
            if roll < 0.25:
                self._pay(inv, money(inv.total * Decimal(rng.randint(20, 80)) / 100))
            elif roll < 0.30 and not bill:
                self._credit(inv, money(inv.total * Decimal(rng.randint(10, 50)) / 100))
        elif status == "PAID":
            inv.status = "AUTHORISED"
            inv.sent_to_contact = True
            if rng.random() < 0.1 and not bill:
                self._credit(inv, inv.total)
            elif rng.random() < 0.3:
                first = money(inv.total * Decimal(rng.randint(30, 70)) / 100)
                self._pay(inv, first)
                self._pay(inv, inv.amount_due)
            else:
                self._pay(inv, inv.total)
        elif status == "VOIDED":
            inv.updated_ms = self._stamp(min(issued + timedelta(days=rng.randint(1, 20)), self.today))
        return inv

    def _later(self, inv: Invoice) -> date:
        return min(inv.date + timedelta(days=self.rng.randint(0, 25)), self.today)

    def _pay(self, inv: Invoice, amount: Decimal) -> None:
        if amount <= 0:
            return
        when = self._later(inv)
        stamp = max(self._stamp(when), inv.updated_ms)
        payment = Payment(
            id=self._uuid(),
            account_id=self.bank.id,
            date=when,
            amount=amount,
            payment_type="ACCRECPAYMENT" if inv.type == "ACCREC" else "ACCPAYPAYMENT",
            updated_ms=stamp,
            invoice_id=inv.id,
            currency_rate=inv.currency_rate,
            reference=f"Payment {inv.number}",
        )
        self.t.payments[payment.id] = payment
        inv.payment_ids.append(payment.id)
        inv.amount_paid += amount
        inv.updated_ms = stamp
        self._settle(inv, when)

    def _credit(self, inv: Invoice, amount: Decimal) -> None:
        t = self.t
        when = self._later(inv)
        stamp = max(self._stamp(when), inv.updated_ms)
        note = CreditNote(
            id=self._uuid(),
            type="ACCRECCREDIT",
            number=f"CN-{t.next_credit_no:04d}",
            contact_id=inv.contact_id,
            date=when,
            status="PAID",
            currency=inv.currency,
            line_amount_types="NoTax",
            lines=[LineItem(self._uuid(), f"Credit for {inv.number}", Decimal(1), amount, "200", "NONE", ZERO, amount)],
            sub_total=amount,
            total_tax=ZERO,
            total=amount,
            remaining_credit=ZERO,
            updated_ms=stamp,
            currency_rate=inv.currency_rate,
            fully_paid_on=when,
        )
        t.next_credit_no += 1
        allocation = Allocation(self._uuid(), note.id, inv.id, amount, when, stamp)
        t.credit_notes[note.id] = note
        t.allocations[allocation.id] = allocation
        note.allocation_ids.append(allocation.id)
        inv.allocation_ids.append(allocation.id)
        inv.amount_credited += amount
        inv.updated_ms = stamp
        self._settle(inv, when)

    def open_credit_notes(self, count: int) -> None:
        """Authorised credit notes with all their credit left, for tests and the demo to allocate."""
        t, rng = self.t, self.rng
        for contact in self.customers[:count]:
            amount = money(Decimal(rng.randint(2000, 15000)) / 100)
            when = self.today - timedelta(days=rng.randint(1, 30))
            note = CreditNote(
                id=self._uuid(),
                type="ACCRECCREDIT",
                number=f"CN-{t.next_credit_no:04d}",
                contact_id=contact.id,
                date=when,
                status="AUTHORISED",
                currency=t.org.base_currency,
                line_amount_types="NoTax",
                lines=[LineItem(self._uuid(), "Goodwill credit", Decimal(1), amount, "200", "NONE", ZERO, amount)],
                sub_total=amount,
                total_tax=ZERO,
                total=amount,
                remaining_credit=amount,
                updated_ms=self._stamp(when),
            )
            t.next_credit_no += 1
            t.credit_notes[note.id] = note

    @staticmethod
    def _settle(inv: Invoice, when: date) -> None:
        if inv.amount_due == 0:
            inv.status = "PAID"
            inv.fully_paid_on = when


def add_invoices(
    ledger: Ledger, tenant_id: str, count: int, seed: int = 0, days_back: int = 120, *, bulk_import: bool = False
) -> list[Invoice]:
    """Bulk-generate ``count`` more invoices in one tenant (benchmarks use 100,000).

    Update stamps are spread the way a real organisation's are: working hours over ``days_back``
    days, never in the future, a handful at most in any one second. ``bulk_import=True`` is the
    other real case, an organisation that has just bulk-imported its invoices (a CSV import or a
    conversion): every stamp falls in one second, one second before now. Xero's If-Modified-Since
    has one-second precision and includes its second, so any client re-reads that second on its
    next sync: ``ceil(count / page size)`` calls for a no-change sync instead of one. Same seed,
    same invoices either way; only the stamps differ.
    """
    with ledger.lock, seeding.paused_gc():
        tenant = ledger.tenant(tenant_id)
        rng = random.Random(f"xero-invoices-{seed}-{tenant_id}-{len(tenant.invoices)}")
        bulk_ms = ledger.now_ms() - 1000 if bulk_import else None
        created = _Generator(ledger, tenant, rng, days_back, bulk_ms).add(count)
    seeding.settle_bulk(count)
    return created


def seed_ledger(
    ledger: Ledger, seed: int, tenants: int = 2, invoices_per_tenant: int = 60, contacts_per_tenant: int = 25
) -> list[Tenant]:
    """Fill an empty ledger with ``tenants`` organisations built from ``seed``."""
    made = []
    for index in range(tenants):
        tenant = build_tenant(ledger, seed, index, contacts_per_tenant)
        ledger.add_tenant(tenant)
        if invoices_per_tenant:
            add_invoices(ledger, tenant.id, invoices_per_tenant, seed=seed)
        with ledger.lock:
            _Generator(ledger, tenant, random.Random(f"xero-credit-{seed}-{index}")).open_credit_notes(3)
        made.append(tenant)
    return made
