"""Banking rules: transfers between bank accounts (the payout) and SPEND/RECEIVE money.

A layer of the ledger's class chain (see ``books``): it uses the books' lock, lookups and
line arithmetic, and knows nothing of the layers above it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.sandbox.xero.books import Booked, Books
from connector.sandbox.xero.model import ZERO, Account, BankTransaction, BankTransfer, Contact, money
from connector.sandbox.xero.tenant import LedgerError, LineInput, NotFound, Tenant


class BankingRules(Books):
    def create_bank_transfer(
        self,
        tenant_id: str,
        *,
        amount: Decimal | str | int | None,
        from_account_id: str | None = None,
        from_code: str | None = None,
        to_account_id: str | None = None,
        to_code: str | None = None,
        date: date | None = None,
        reference: str | None = None,
        from_reconciled: bool = False,
        to_reconciled: bool = False,
    ) -> BankTransfer:
        """Move money between two bank accounts (the payout: clearing -> bank)."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            source = tenant.account(from_account_id, from_code)
            target = tenant.account(to_account_id, to_code)
            errors: list[str] = []
            if source is None:
                errors.append("The From bank account could not be found")
            if target is None:
                errors.append("The To bank account could not be found")
            if source is not None and target is not None:
                if not (source.is_bank and target.is_bank):
                    errors.append("Bank transfers can only be made between bank accounts")
                if source.id == target.id:
                    errors.append("The From and To bank accounts must be different")
                if (source.currency or tenant.org.base_currency) != (
                    target.currency or tenant.org.base_currency
                ):
                    errors.append("The sandbox only transfers between accounts of the same currency")
            value = money(amount) if amount is not None else None
            if value is None or value <= 0:
                errors.append("The Amount must be greater than zero")
            if errors:
                raise LedgerError(*errors)
            assert source is not None and target is not None and value is not None
            when = date or self.today(tenant_id)
            currency = source.currency or tenant.org.base_currency
            transfer_id = self.new_id()
            legs = []
            for kind, account, reconciled in (
                ("SPEND-TRANSFER", source, from_reconciled),
                ("RECEIVE-TRANSFER", target, to_reconciled),
            ):
                tx = BankTransaction(
                    id=self.new_id(),
                    type=kind,
                    bank_account_id=account.id,
                    date=when,
                    status="AUTHORISED",
                    currency=currency,
                    line_amount_types="NoTax",
                    lines=[],
                    sub_total=value,
                    total_tax=ZERO,
                    total=value,
                    updated_ms=self.now_ms(),
                    reference=reference,
                    is_reconciled=reconciled,
                    transfer_id=transfer_id,
                )
                tenant.bank_transactions[tx.id] = tx
                legs.append(tx)
            transfer = BankTransfer(
                id=transfer_id,
                from_account_id=source.id,
                to_account_id=target.id,
                amount=value,
                date=when,
                from_transaction_id=legs[0].id,
                to_transaction_id=legs[1].id,
                created_ms=self.now_ms(),
                reference=reference,
                from_reconciled=from_reconciled,
                to_reconciled=to_reconciled,
            )
            tenant.bank_transfers[transfer.id] = transfer
            tenant.version += 1
            self._record("bank_transfer", tenant, transfer.id)
            return transfer

    def remove_bank_transfer(self, tenant_id: str, transfer_id: str) -> BankTransfer:
        """What a person does in Xero's UI ("Remove transfer"; the API offers no delete): the
        transfer and its two bank transactions are gone, so both accounts' balances move back.
        A reconciled leg is refused, as Xero asks for it to be unreconciled first."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            transfer = tenant.bank_transfers.get(transfer_id.lower())
            if transfer is None:
                raise NotFound("The resource you're looking for cannot be found")
            if transfer.from_reconciled or transfer.to_reconciled:
                raise LedgerError("This bank transfer has been reconciled: unreconcile it before removing it")
            del tenant.bank_transfers[transfer.id]
            for leg in (transfer.from_transaction_id, transfer.to_transaction_id):
                tenant.bank_transactions.pop(leg, None)
            tenant.remove_history_of(transfer.id)
            tenant.version += 1
            return transfer

    def create_bank_transaction(
        self,
        tenant_id: str,
        *,
        type: str,
        lines: list[LineInput],
        bank_account_id: str | None = None,
        bank_account_code: str | None = None,
        contact_id: str | None = None,
        contact_name: str | None = None,
        date: date | None = None,
        reference: str | None = None,
        line_amount_types: str = "Exclusive",
        currency: str | None = None,
        currency_rate: Decimal | None = None,
        is_reconciled: bool = False,
        status: str = "AUTHORISED",
    ) -> BankTransaction:
        """A SPEND (e.g. the platform's fee) or RECEIVE money transaction on a bank account."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            account, errors = self._bank_account_checked(
                tenant, type, ("SPEND", "RECEIVE"), "bank transactions", status, bank_account_id, bank_account_code
            )
            if not lines:
                errors.append("At least one line item must be specified")
            if errors:
                raise LedgerError(*errors)
            assert account is not None
            contact = self.resolve_contact(tenant, contact_id, contact_name)
            code, rate = self._currency(tenant, currency or account.currency, currency_rate)
            built, sub, tax, total = self.build_lines(tenant, lines, line_amount_types, "NONE")
            if total <= 0:
                raise LedgerError("The total of a bank transaction must be greater than zero")
            tx = self._add_bank_transaction(
                tenant, type, account, contact, date or self.today(tenant_id), code, rate, line_amount_types,
                (built, sub, tax, total), reference=reference, is_reconciled=is_reconciled,
            )
            self._record("bank_transaction", tenant, tx.id)
            return tx

    def _bank_account_checked(
        self,
        tenant: Tenant,
        type: str,
        types: tuple[str, ...],
        noun: str,
        status: str,
        bank_account_id: str | None,
        bank_account_code: str | None,
    ) -> tuple[Account | None, list[str]]:
        """The account, and what is wrong by the checks every bank transaction the sandbox creates
        shares: one of the ``types`` it makes, created AUTHORISED, into a bank account."""
        errors: list[str] = []
        if type not in types:
            errors.append(f"The sandbox creates {' and '.join(types)} {noun}, not {type}")
        if status != "AUTHORISED":
            errors.append("Bank transactions are created AUTHORISED")
        account = tenant.account(bank_account_id, bank_account_code)
        if account is None:
            errors.append("The bank account could not be found")
        elif not account.is_bank:
            errors.append("The BankAccount must be an account of type BANK")
        return account, errors

    def _add_bank_transaction(
        self,
        tenant: Tenant,
        type: str,
        account: Account,
        contact: Contact,
        when: date,
        currency: str,
        rate: Decimal,
        line_amount_types: str,
        booked: Booked,
        *,
        reference: str | None,
        is_reconciled: bool,
        tx_id: str | None = None,
        overpayment_id: str | None = None,
        prepayment_id: str | None = None,
    ) -> BankTransaction:
        """An AUTHORISED bank transaction with a contact, put in the tenant's books (the caller
        journals it for batches)."""
        lines, sub_total, total_tax, total = booked
        tx = BankTransaction(
            id=tx_id or self.new_id(),
            type=type,
            bank_account_id=account.id,
            date=when,
            status="AUTHORISED",
            currency=currency,
            line_amount_types=line_amount_types,
            lines=lines,
            sub_total=sub_total,
            total_tax=total_tax,
            total=total,
            updated_ms=self.now_ms(),
            contact_id=contact.id,
            reference=reference,
            currency_rate=rate,
            is_reconciled=is_reconciled,
            overpayment_id=overpayment_id,
            prepayment_id=prepayment_id,
        )
        tenant.bank_transactions[tx.id] = tx
        tenant.version += 1
        return tx
