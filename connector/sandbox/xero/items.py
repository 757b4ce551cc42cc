"""Items (``/Items``): the products and services an invoice line can name by ``ItemCode``, and
notes on any record's History.

Xero's rules kept here: a Code is required, at most 30 characters and unique in the
organisation; a Name at most 50; the sales and purchase details' account codes must be real,
active accounts a line can be coded to, and their tax types real tax rates. Items are not
tracked as inventory in the sandbox (``IsTrackedAsInventory`` is always false).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from connector.sandbox.xero.books import line_account_problem
from connector.sandbox.xero.model import HistoryRecord, Item
from connector.sandbox.xero.prepayments import PrepaymentRules
from connector.sandbox.xero.tenant import LedgerError, NotFound, Tenant

#: Xero's limit on a history note (developer.xero.com "History and Notes": "Max Length 250").
NOTE_MAX = 250


@dataclass
class ItemInput:
    """An item as a caller describes it; ``None`` leaves a field as it is on update."""

    code: str | None = None
    name: str | None = None
    description: str | None = None
    purchase_description: str | None = None
    is_sold: bool | None = None
    is_purchased: bool | None = None
    sales_unit_price: Decimal | None = None
    sales_account_code: str | None = None
    sales_tax_type: str | None = None
    purchase_unit_price: Decimal | None = None
    purchase_account_code: str | None = None
    purchase_tax_type: str | None = None


class ItemRules(PrepaymentRules):
    def check_item(self, tenant: Tenant, data: ItemInput, existing: Item | None = None) -> list[str]:
        """Why Xero would refuse to create (or, with ``existing``, update) this item."""
        errors: list[str] = []
        code = data.code if data.code is not None else (existing.code if existing else None)
        if not code or not code.strip():
            errors.append("Item code must be specified")
        elif len(code) > 30:
            errors.append("Item code must be 30 characters or less")
        else:
            clash = tenant.item(code=code)
            if clash is not None and (existing is None or clash.id != existing.id):
                errors.append(f"Item code '{code}' already exists")
        if data.name is not None and len(data.name) > 50:
            errors.append("Item name must be 50 characters or less")
        for account_code in (data.sales_account_code, data.purchase_account_code):
            if account_code:
                account = tenant.account(code=account_code)
                if account is None:
                    errors.append(f"Account code '{account_code}' is not a valid code for this document.")
                elif problem := line_account_problem(account):
                    errors.append(problem)
        for tax_type in (data.sales_tax_type, data.purchase_tax_type):
            if tax_type and tax_type not in tenant.org.tax_rates:
                errors.append(
                    f"The TaxType code {tax_type} does not exist or cannot be used for this type of transaction."
                )
        for price in (data.sales_unit_price, data.purchase_unit_price):
            if price is not None and abs(price) >= Decimal("1e12"):
                errors.append("The unit price is too large")
        return errors

    def create_item(self, tenant_id: str, data: ItemInput) -> Item:
        with self.lock:
            tenant = self.tenant(tenant_id)
            errors = self.check_item(tenant, data)
            if errors:
                raise LedgerError(*errors)
            assert data.code is not None
            item = Item(id=self.new_id(), code=data.code.strip(), name=data.name or "", updated_ms=self.now_ms())
            _apply(item, data)
            tenant.items[item.id] = item
            tenant.version += 1
            self._record("item", tenant, item.id)
            self._history(tenant, item.id, "Created", f"Item {item.code} created.")
            return item

    def update_item(self, tenant_id: str, item_id: str, data: ItemInput) -> Item:
        with self.lock:
            tenant = self.tenant(tenant_id)
            item = tenant.item(item_id=item_id)
            if item is None:
                raise NotFound("The resource you're looking for cannot be found")
            errors = self.check_item(tenant, data, item)
            if errors:
                raise LedgerError(*errors)
            _apply(item, data)
            if data.code:
                item.code = data.code.strip()
            if data.name is not None:
                item.name = data.name
            item.updated_ms = max(self.now_ms(), item.updated_ms)
            tenant.version += 1
            self._history(tenant, item.id, "Edited", f"Item {item.code} edited.")
            return item

    def delete_item(self, tenant_id: str, item_id: str) -> None:
        """Remove an item (lines that named it keep their ItemCode, as in Xero)."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            if tenant.items.pop(item_id.lower(), None) is None:
                raise NotFound("The resource you're looking for cannot be found")
            tenant.remove_history_of(item_id.lower())
            tenant.version += 1

    def add_note(self, tenant_id: str, record_id: str, details: str) -> HistoryRecord:
        """A note on a record's History and notes (the only kind of history the API can add)."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            errors = note_errors(details)
            if errors:
                raise LedgerError(*errors)
            record = self._history(tenant, record_id, "Note", details.strip())
            tenant.version += 1
            return record


def note_errors(details: str) -> list[str]:
    """Why Xero would refuse this note: Details are required, at most 250 characters."""
    text = details.strip()
    if not text:
        return ["The Details of a history note must be specified"]
    if len(text) > NOTE_MAX:
        return [f"The Details of a history note must be {NOTE_MAX} characters or less"]
    return []


def _apply(item: Item, data: ItemInput) -> None:
    for name in (
        "description",
        "purchase_description",
        "is_sold",
        "is_purchased",
        "sales_unit_price",
        "sales_account_code",
        "sales_tax_type",
        "purchase_unit_price",
        "purchase_account_code",
        "purchase_tax_type",
    ):
        value = getattr(data, name)
        if value is not None:
            setattr(item, name, value)
