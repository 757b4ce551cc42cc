"""The Xero adapter: the real xero-python SDK, one API client per connection.

What the SDK leaves to us (research §8) is done here: token endpoints per connection (the SDK
keeps them as class attributes), refresh under a per-connection lock with the new token saved
(encrypted) before it is used, ``scope`` kept as a list, typed errors, retries with tenacity
(429 by ``Retry-After``, 5xx and dropped connections with backoff, never a validation error),
a client-side rate limiter per tenant, and a count of every call. Every request has a
``(connect, read)`` timeout (the SDK ignores a float one) and every answer is read up to a byte
cap (:class:`_CappedPool`); an answer the SDK cannot parse (a 200 cut short) is a transient error.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import urllib3
from xero_python.accounting import AccountingApi
from xero_python.accounting.models import (
    Account,
    BankTransaction,
    BankTransactions,
    BankTransfer,
    BankTransfers,
    Contact,
    HistoryRecord,
    HistoryRecords,
    Invoice,
    LineAmountTypes,
    LineItem,
    Payment,
    PaymentDelete,
    Payments,
)
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException, HTTPStatusException, NotFoundException, RateLimitException
from xero_python.identity import IdentityApi

from connector.ledgers.base import CallCounter, NoteToPost, TokenStore, marker, note_with_marker, refresh_lease
from connector.ledgers.calls import (
    CHUNK_BYTES,
    MAX_RESPONSE_BYTES,
    ByteCount,
    CallRunner,
    InexactNumber,
    RetrySettings,
    decode_json,
    decode_json_exact,
    raised_in,
    read_capped,
)
from connector.ledgers.errors import (
    AuthenticationError,
    DailyLimitError,
    LedgerError,
    NotFound,
    RateLimitError,
    ReconnectRequired,
    TransientError,
    ValidationError,
)
from connector.ledgers.limits import XERO_LIMITS, Limits, RateLimiter
from connector.ledgers.records import (
    InvoicePage,
    LedgerInvoice,
    Malformed,
    OrganisationFacts,
    PaymentResult,
    PaymentToPost,
    PayoutResult,
    PayoutToPost,
)
from connector.ledgers.validate import MAX_AMOUNT
from connector.ledgers.xero_wire import (
    WireError,
    bank_summary_closing,
    format_since,
    parse_invoice,
    parse_organisation,
    parse_timestamp,
    update_stamps,
)

T = TypeVar("T")

XERO_API_URL = "https://api.xero.com/api.xro/2.0"
XERO_IDENTITY_URL = "https://api.xero.com"
XERO_TOKEN_URL = "https://identity.xero.com/connect/token"
XERO_AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
SCOPES = [
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.transactions",
    "accounting.settings",
    "accounting.contacts",
    # GET /Reports/BankSummary: how account_balance() reads what clearing holds.
    "accounting.reports.read",
]
_TOKEN_KEYS = ("access_token", "scope", "expires_in", "token_type", "expires_at", "refresh_token", "id_token")
#: Xero keeps at most 250 characters of a history note's Details (a longer one is a 400).
NOTE_MAX = 250
#: Xero answers a URL with more than about 52 ids with a 404 (Xero-Java#328): stay under it.
MAX_IDS_PER_READ = 50


@dataclass(frozen=True, slots=True)
class XeroApp:
    """A registered Xero app and where its endpoints are (the real ones, or the sandbox's)."""

    client_id: str
    client_secret: str
    api_url: str = XERO_API_URL
    identity_url: str = XERO_IDENTITY_URL
    token_url: str = XERO_TOKEN_URL
    authorize_url: str = XERO_AUTHORIZE_URL


_limiters: dict[str, RateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(tenant_id: str, limits: Limits = XERO_LIMITS) -> RateLimiter:
    """One limiter per tenant per process, shared by every adapter of that tenant."""
    with _limiters_lock:
        if tenant_id not in _limiters or _limiters[tenant_id].limits != limits:
            _limiters[tenant_id] = RateLimiter(limits)
        return _limiters[tenant_id]


class _ConnectionTokenApi(TokenApi):
    """The SDK's token call, at this connection's URL, with errors we can act on."""

    def __init__(self, api_client: ApiClient, client_id: str, client_secret: str, url: str) -> None:
        super().__init__(api_client, client_id, client_secret)
        self.refresh_token_url = url

    def refresh_token(self, refresh_token: str, scope: list[str]) -> dict[str, Any]:
        try:
            response, status, _headers = self.api_client.call_api(
                self.refresh_token_url,
                "POST",
                header_params={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
                post_params={
                    "grant_type": "refresh_token",
                    "scope": " ".join(scope),
                    "refresh_token": refresh_token,
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                },
                auth_settings=None,
                _preload_content=False,
            )
        except HTTPStatusException as exc:
            body = _json_or_none(exc.body)
            error = body.get("error") if isinstance(body, dict) else None
            if exc.status in (400, 401) and error in ("invalid_grant", "invalid_client", "unauthorized_client"):
                raise ReconnectRequired(
                    f"Xero refused the refresh token: {error}", http_status=exc.status, code=error
                ) from None
            raise TransientError(f"token refresh failed: {exc.reason}", http_status=exc.status) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransientError(f"token refresh failed: {type(exc).__name__}") from None
        if status != 200:
            raise TransientError("token refresh failed", http_status=status)
        data = _json_or_none(response.data)
        if not isinstance(data, dict) or "access_token" not in data:
            raise TransientError("token refresh answered with something that is not a token")
        return data


class _ConnectionToken(OAuth2Token):
    """The SDK's token holder, refreshing under a per-connection lock and never from a stale copy."""

    def __init__(self, app: XeroApp, lock: threading.Lock, counter: CallCounter, tokens: TokenStore) -> None:
        super().__init__(client_id=app.client_id, client_secret=app.client_secret)
        self._app = app
        self._lock = lock
        self._counter = counter
        self._tokens = tokens

    def update_token(self, **token: Any) -> None:  # type: ignore[override]
        values = {k: token.get(k) for k in _TOKEN_KEYS}
        values["token_type"] = values["token_type"] or "Bearer"
        super().update_token(**values)

    def refresh_access_token(self, api_client: ApiClient) -> bool:
        # The in-process lock, then the grant's lease across processes (organisations of one Xero
        # consent share its refresh token); inside, the token is read again from the store.
        with self._lock, refresh_lease(self._tokens):
            # Another thread of this process may have refreshed while we waited: use its token.
            self.update_token(**api_client.get_oauth2_token())
            if self.is_access_token_valid():
                return True
            if not self.can_refresh_access_token():
                raise ReconnectRequired("no refresh token is stored for this connection")
            api = _ConnectionTokenApi(api_client, self.client_id, self.client_secret, self._app.token_url)
            self._counter.add("token_refresh")
            new_token = self.fetch_access_token(api)
            api_client.set_oauth2_token(new_token)  # saved, encrypted, before anything uses it
            self.update_token(**new_token)
            return True


class XeroLedger:
    """One Xero tenant behind the :class:`~connector.ledgers.base.Ledger` protocol."""

    provider = "xero"
    payment_batch_size = 50

    def __init__(
        self,
        app: XeroApp,
        tenant_id: str,
        tokens: TokenStore,
        *,
        limiter: RateLimiter | None = None,
        retry: RetrySettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = 1000,
        max_amount: Decimal = MAX_AMOUNT,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.app = app
        self.tenant_id = tenant_id
        self.calls = CallCounter()
        #: Bytes of answers read (capped at ``max_response_bytes`` per answer).
        self.bytes_read = ByteCount()
        self.limiter = limiter or limiter_for(tenant_id)
        self.retry = retry or RetrySettings()
        self.page_size = page_size
        #: Invoices with an amount above this are quarantined, never collected.
        self.max_amount = max_amount
        self.max_response_bytes = max_response_bytes
        self._sleep = sleep
        self._tokens = tokens
        self._token_lock = threading.Lock()
        self._oauth = _ConnectionToken(app, self._token_lock, self.calls, tokens)
        configuration = Configuration()
        # Configuration's metaclass hands every later call a copy of the first instance and ignores
        # the arguments: Configuration(oauth2_token=...) would give every connection the first
        # connection's token holder. Set ours on the copy.
        configuration.oauth2_token = self._oauth
        self.api_client = ApiClient(
            configuration,
            pool_threads=1,
            oauth2_token_getter=self._load_token,
            oauth2_token_saver=self._save_token,
        )
        # urllib3 would otherwise retry 429 and 503 by itself (sleeping for real on Retry-After) and
        # re-send dropped requests: calls our limiter, counter and retry policy never see. We retry.
        self.api_client.rest_client.pool_manager.connection_pool_kw["retries"] = False
        # Every request, the SDK's token refresh and identity calls included, through one cap and timeout.
        self.api_client.rest_client.pool_manager = _CappedPool(
            self.api_client.rest_client.pool_manager,
            max_bytes=max_response_bytes,
            timeout=self.retry.timeouts,
            count=self.bytes_read,
        )
        self.accounting = AccountingApi(self.api_client, base_url=app.api_url)
        self.identity = IdentityApi(self.api_client, base_url=app.identity_url)
        self.last_limits: dict[str, str] = {}
        #: Account code -> AccountID, read once: reports name accounts by id.
        self._account_ids: dict[str, str] = {}
        self._call = CallRunner(self.limiter, self.calls, self.retry, _translate, self.force_refresh, sleep)

    # --- tokens -----------------------------------------------------------------------------

    def _load_token(self) -> dict[str, Any]:
        token = self._tokens.load()
        if not token:
            raise ReconnectRequired("this connection has no stored token: connect it first")
        return token

    def _save_token(self, token: dict[str, Any]) -> None:
        token = dict(token)
        if isinstance(token.get("scope"), str):
            token["scope"] = token["scope"].split()
        self._tokens.save(token)

    def force_refresh(self) -> None:
        """After a 401: treat the access token as expired so the next call refreshes it."""
        token = dict(self._load_token())
        token["expires_at"] = 0
        self._tokens.save(token)

    # --- calling with limits, retries and counting -------------------------------------------

    def _observe_headers(self, headers: Any) -> None:
        if not headers:
            return
        wanted = ("X-MinLimit-Remaining", "X-DayLimit-Remaining", "X-AppMinLimit-Remaining")
        self.last_limits = {k: headers.get(k) for k in wanted if headers.get(k) is not None}
        minute = self.last_limits.get("X-MinLimit-Remaining")
        if minute is not None and str(minute).isdigit():
            self.limiter.observe(int(minute))

    # --- identity -----------------------------------------------------------------------------

    def connections(self) -> list[dict[str, str]]:
        """The tenants this token may reach (the wizard's "choose organisation" list)."""
        result = self._call("connections", lambda: self.identity.get_connections(_request_timeout=self.retry.timeouts))
        return [{"tenant_id": str(c.tenant_id), "name": c.tenant_name, "type": c.tenant_type} for c in result]

    # --- reading invoices -----------------------------------------------------------------------

    def _raw_invoice_page(self, since: datetime | None, page: int) -> dict[str, Any]:
        def call() -> dict[str, Any]:
            kwargs: dict[str, Any] = {
                "where": 'Type=="ACCREC"',
                "order": "UpdatedDateUTC ASC",
                "page": page,
                "page_size": self.page_size,
                "_preload_content": False,
                "_request_timeout": self.retry.timeouts,
            }
            if since is not None:
                kwargs["if_modified_since"] = since
            response = self.accounting.get_invoices(self.tenant_id, **kwargs)
            self._observe_headers(response.headers)
            return _page_body(response.data, fast=True)

        return self._call("invoices_read", call)

    def changed_invoices(self, cursor: str | None, overlap: timedelta) -> Iterator[InvoicePage]:
        """Keyset paging on UpdatedDateUTC: each page asks for changes since the last one it saw.

        Page numbers alone would skip a record when another one, changed mid-run, moves from an
        earlier page to the end; asking "since the last stamp seen" cannot skip. A full page that
        all shares one second (a bulk edit) is walked by page number within that second.
        """
        since = format_since(parse_timestamp(cursor) - overlap) if cursor else None
        page = 1
        stored = cursor
        while True:
            body = self._raw_invoice_page(since, page)
            raw = body.get("Invoices") or []
            # The records' stamps, quarantined ones' included (the cursor moves past them too); the
            # records themselves are read by whoever uses the page (see InvoicePage).
            stamps = update_stamps(raw)
            more = len(raw) >= self.page_size
            if stamps:
                last = format_since(max(stamps))
                if stored is None or last > parse_timestamp(stored):
                    stored = last.isoformat()
            yield InvoicePage.deferred(partial(_invoice_records, body, self.max_amount), more, stored)
            if not more:
                return
            last_second = format_since(max(stamps)) if stamps else since
            if since is not None and last_second is not None and last_second <= since:
                page += 1
            else:
                since, page = last_second, 1

    def get_invoices(self, external_ids: list[str]) -> list[LedgerInvoice | Malformed]:
        found: list[LedgerInvoice | Malformed] = []
        for i in range(0, len(external_ids), MAX_IDS_PER_READ):
            chunk = external_ids[i : i + MAX_IDS_PER_READ]

            def call(chunk: list[str] = chunk) -> dict[str, Any]:
                response = self.accounting.get_invoices(
                    self.tenant_id,
                    i_ds=chunk,
                    page=1,
                    page_size=len(chunk),
                    _preload_content=False,
                    _request_timeout=self.retry.timeouts,
                )
                self._observe_headers(response.headers)
                return _page_body(response.data, fast=True)

            found.extend(_invoice_records(self._call("invoices_read", call), self.max_amount))
        return found

    # --- writing -----------------------------------------------------------------------------------

    def post_payments(self, payments: list[PaymentToPost]) -> list[PaymentResult]:
        """Payments applied to invoices, then the excess of each as the customer's Overpayment.

        Both writes are checked element by element (summarizeErrors=false): one refused
        element is that payment's error, the others go through. An overpayment is only
        written for a payment Xero accepted (or for ``amount == 0``), and never twice: it is
        looked up by its reference (which carries our marker) before it is posted, since the
        Idempotency-Key only lasts six minutes.
        """
        if not payments:
            return []
        applied = [p for p in payments if p.amount > 0]
        outcome: dict[str, PaymentResult] = {p.key: PaymentResult(p.key) for p in payments}
        if applied:
            outcome.update(self._post_applied(applied))
        wanted = [p for p in payments if p.unapplied > 0 and outcome[p.key].error is None]
        if wanted:
            outcome.update(self._post_overpayments(wanted, outcome))
        return [outcome[p.key] for p in payments]

    def _post_applied(self, payments: list[PaymentToPost]) -> dict[str, PaymentResult]:
        body = Payments(
            payments=[
                Payment(
                    invoice=Invoice(invoice_id=p.invoice_external_id),
                    account=Account(code=p.account),
                    date=p.on,
                    amount=float(p.amount),  # the SDK serialises Decimals as floats anyway
                    reference=_with_marker(p.reference, p.key),
                )
                for p in payments
            ]
        )
        key = _batch_key("payments", [p.key for p in payments])
        result = self._call(
            "payments_write",
            lambda: self.accounting.create_payments(
                self.tenant_id,
                body,
                summarize_errors=False,
                idempotency_key=key,
                _request_timeout=self.retry.timeouts,
            ),
        )
        created = list(result.payments or [])
        out: dict[str, PaymentResult] = {}
        for i, p in enumerate(payments):
            element = created[i] if i < len(created) else None
            errors = _element_errors(element, "payment") if element is not None else ["Xero did not answer for it"]
            if errors or element is None or not element.payment_id:
                out[p.key] = PaymentResult(p.key, error="; ".join(errors) or "Xero refused the payment")
            else:
                out[p.key] = PaymentResult(p.key, external_id=str(element.payment_id))
        return out

    def _post_overpayments(
        self, payments: list[PaymentToPost], so_far: dict[str, PaymentResult]
    ) -> dict[str, PaymentResult]:
        """RECEIVE-OVERPAYMENTs into the clearing account, one per payment, for the invoice's contact."""
        references = {p.key: _with_marker(p.reference, p.key) for p in payments}
        existing = self._existing_overpayments(list(references.values()))
        contacts = self._contacts_of([p for p in payments if references[p.key] not in existing])
        out: dict[str, PaymentResult] = {}
        to_create: list[PaymentToPost] = []
        for p in payments:
            applied_id = so_far[p.key].external_id
            if references[p.key] in existing:
                found = existing[references[p.key]]
                out[p.key] = PaymentResult(p.key, external_id=applied_id or found, unapplied_id=found)
            elif not contacts.get(p.key):
                out[p.key] = PaymentResult(
                    p.key, external_id=applied_id, error="the invoice's contact is unknown: cannot record the excess"
                )
            else:
                to_create.append(p)
        if not to_create:
            return out
        body = BankTransactions(
            bank_transactions=[
                BankTransaction(
                    type="RECEIVE-OVERPAYMENT",
                    contact=Contact(contact_id=contacts[p.key]),
                    bank_account=Account(code=p.account),
                    line_items=[
                        LineItem(
                            description=f"Collected beyond the amount due, {references[p.key]}",
                            line_amount=float(p.unapplied),
                        )
                    ],
                    date=p.on,
                    reference=references[p.key],
                    line_amount_types=LineAmountTypes.NOTAX,
                )
                for p in to_create
            ]
        )
        result = self._call(
            "transactions_write",
            lambda: self.accounting.create_bank_transactions(
                self.tenant_id,
                body,
                summarize_errors=False,
                idempotency_key=_batch_key("overpayments", [p.key for p in to_create]),
                _request_timeout=self.retry.timeouts,
            ),
        )
        created = list(result.bank_transactions or [])
        for i, p in enumerate(to_create):
            applied_id = so_far[p.key].external_id
            element = created[i] if i < len(created) else None
            errors = _element_errors(element, "overpayment") if element is not None else ["Xero did not answer for it"]
            if errors or element is None or not element.overpayment_id:
                reason = "; ".join(errors) or "Xero refused the overpayment"
                prefix = f"payment {applied_id} posted, but " if applied_id else ""
                out[p.key] = PaymentResult(p.key, external_id=applied_id, error=f"{prefix}the overpayment: {reason}")
            else:
                overpayment_id = str(element.overpayment_id)
                out[p.key] = PaymentResult(p.key, external_id=applied_id or overpayment_id, unapplied_id=overpayment_id)
        return out

    def _existing_overpayments(self, references: list[str]) -> dict[str, str]:
        """Our earlier overpayments (reference -> OverpaymentID) that Xero has and has not voided."""
        found: dict[str, str] = {}
        for i in range(0, len(references), MAX_IDS_PER_READ):
            chunk = references[i : i + MAX_IDS_PER_READ]

            def call(chunk: list[str] = chunk) -> Any:
                return self.accounting.get_overpayments(
                    self.tenant_id, references=chunk, _request_timeout=self.retry.timeouts
                )

            for o in self._call("overpayments_read", call).overpayments or []:
                status = str(getattr(o.status, "value", o.status))
                if o.reference in chunk and status != "VOIDED" and o.overpayment_id:
                    found.setdefault(o.reference, str(o.overpayment_id))
        return found

    def _contacts_of(self, payments: list[PaymentToPost]) -> dict[str, str]:
        """The invoice's ContactID for each payment: given by the engine, else read (one call)."""
        contacts = {p.key: p.customer_id for p in payments if p.customer_id}
        missing = [p for p in payments if not p.customer_id]
        if missing:
            invoices = {
                i.external_id: i.customer_id
                for i in self.get_invoices(sorted({p.invoice_external_id for p in missing}))
                if isinstance(i, LedgerInvoice)
            }
            contacts.update({p.key: invoices.get(p.invoice_external_id, "") for p in missing})
        return contacts

    def delete_payment(self, payment_external_id: str, key: str) -> None:
        """Xero's refusal (e.g. the payment is reconciled) is a ``ValidationError`` with its message."""
        result = self._call(
            "payments_write",
            lambda: self.accounting.delete_payment(
                self.tenant_id,
                payment_external_id,
                PaymentDelete(status="DELETED"),
                idempotency_key=_batch_key("delete", [key]),
                _request_timeout=self.retry.timeouts,
            ),
        )
        for element in getattr(result, "payments", None) or []:
            if errors := _element_errors(element, "deletion"):
                raise _refuse(errors)

    def _existing(self, kind: str, reference: str) -> str | None:
        """Our earlier write with exactly this reference (it carries our marker), if the ledger has one.

        Xero's Idempotency-Key is kept for six minutes only; after a crash that lasted longer, this
        look-up is what keeps a payout from being written twice.
        """
        where = f'Reference=="{reference.replace(chr(34), "")}"'
        if kind == "transfer":
            found = self._call(
                "transfers_read",
                lambda: self.accounting.get_bank_transfers(
                    self.tenant_id, where=where, _request_timeout=self.retry.timeouts
                ),
            )
            live = [t for t in found.bank_transfers or [] if str(getattr(t, "status", "AUTHORISED")) != "DELETED"]
            return str(live[0].bank_transfer_id) if live else None
        found = self._call(
            "transactions_read",
            lambda: self.accounting.get_bank_transactions(
                self.tenant_id, where=where + ' AND Type=="SPEND"', _request_timeout=self.retry.timeouts
            ),
        )
        live = [t for t in found.bank_transactions or [] if str(getattr(t.status, "value", t.status)) != "DELETED"]
        return str(live[0].bank_transaction_id) if live else None

    def post_payout(self, payout: PayoutToPost) -> PayoutResult:
        """``net > 0`` moves clearing → bank, ``net < 0`` moves ``-net`` bank → clearing (the fee was
        more than was collected), ``net == 0`` moves nothing; a fee is spent from clearing.

        An element Xero refused raises ``ValidationError`` with Xero's message: it is never
        recorded as posted.
        """
        reference = _with_marker(payout.reference or "payout", payout.key)
        transfer_id = self._existing("transfer", reference) if payout.net != 0 else None
        if payout.net != 0 and transfer_id is None:
            transfer_id = self._transfer(payout, reference)
        fee_id = self._existing("fee", reference) if payout.fee > 0 else None
        if payout.fee > 0 and fee_id is None:
            fee_id = self._spend_fee(payout, reference)
        return PayoutResult(transfer_id=transfer_id, fee_id=fee_id)

    def _transfer(self, payout: PayoutToPost, reference: str) -> str:
        source, target = (payout.clearing_account, payout.bank_account)
        if payout.net < 0:
            source, target = target, source
        transfers = BankTransfers(
            bank_transfers=[
                BankTransfer(
                    from_bank_account=Account(code=source),
                    to_bank_account=Account(code=target),
                    amount=float(abs(payout.net)),
                    date=payout.on,
                    reference=reference,
                )
            ]
        )
        created = self._call(
            "transfers_write",
            lambda: self.accounting.create_bank_transfer(
                self.tenant_id,
                transfers,
                idempotency_key=_batch_key("transfer", [payout.key]),
                _request_timeout=self.retry.timeouts,
            ),
        )
        element = (created.bank_transfers or [None])[0]
        errors = _element_errors(element, "bank transfer") if element is not None else ["Xero did not answer"]
        if errors or element is None or not element.bank_transfer_id:
            raise _refuse(errors or ["Xero refused the bank transfer"])
        return str(element.bank_transfer_id)

    def _spend_fee(self, payout: PayoutToPost, reference: str) -> str:
        spend = BankTransactions(
            bank_transactions=[
                BankTransaction(
                    type="SPEND",
                    bank_account=Account(code=payout.clearing_account),
                    contact=Contact(name="Payments platform"),
                    line_items=[
                        LineItem(
                            description=f"Platform fees, {reference}",
                            quantity=1.0,
                            unit_amount=float(payout.fee),
                            account_code=payout.fees_account,
                        )
                    ],
                    date=payout.on,
                    reference=reference,
                    line_amount_types=LineAmountTypes.NOTAX,
                )
            ]
        )
        created = self._call(
            "transactions_write",
            lambda: self.accounting.create_bank_transactions(
                self.tenant_id,
                spend,
                summarize_errors=False,
                idempotency_key=_batch_key("fee", [payout.key]),
                _request_timeout=self.retry.timeouts,
            ),
        )
        element = (created.bank_transactions or [None])[0]
        errors = _element_errors(element, "fee") if element is not None else ["Xero did not answer"]
        if errors or element is None or not element.bank_transaction_id:
            raise _refuse(errors or ["Xero refused the fee"])
        return str(element.bank_transaction_id)

    # --- notes --------------------------------------------------------------------------------------

    def add_invoice_note(self, note: NoteToPost) -> bool:
        """A note in the invoice's History and notes (``PUT Invoices/{id}/History``), marker included.

        Xero answers a refused note with a 400 for the whole request (``ValidationError``, never
        retried); a history has no element errors. A note is read back first only when an earlier
        attempt may have landed (past the Idempotency-Key's six minutes, the marker is the proof).
        """
        details = note_with_marker(note.text, note.key, NOTE_MAX)
        if not note.first_attempt and any(marker(note.key) in d for d in self.invoice_notes(note.invoice_external_id)):
            return False
        body = HistoryRecords(history_records=[HistoryRecord(details=details)])
        self._call(
            "history_write",
            lambda: self.accounting.create_invoice_history(
                self.tenant_id,
                note.invoice_external_id,
                body,
                idempotency_key=_batch_key("note", [note.key]),
                _request_timeout=self.retry.timeouts,
            ),
        )
        return True

    def invoice_notes(self, invoice_id: str) -> list[str]:
        """The notes on an invoice's History, newest first: what an accountant reads in Xero."""
        history = self._call(
            "history_read",
            lambda: self.accounting.get_invoice_history(
                self.tenant_id, invoice_id, _request_timeout=self.retry.timeouts
            ),
        )
        return [str(r.details or "") for r in history.history_records or [] if str(r.changes or "") == "Note"]

    # --- organisation and balances -------------------------------------------------------------

    def organisation(self) -> OrganisationFacts:
        """Base currency and IANA time zone (Xero's Windows-style name mapped through CLDR)."""

        def call() -> dict[str, Any]:
            response = self.accounting.get_organisations(
                self.tenant_id, _preload_content=False, _request_timeout=self.retry.timeouts
            )
            return _page_body(response.data)

        try:
            return parse_organisation(self._call("organisation_read", call))
        except WireError as exc:
            raise TransientError(f"Xero's Organisation answer is unreadable: {exc}") from None

    def account_balance(self, account: str) -> Decimal:
        """The closing balance of a bank account by its code, from Xero's Bank Summary report.

        The report names accounts by AccountID, so the code's id is read once (``GET /Accounts``)
        and kept; each balance is then one report call. The report runs to tomorrow (UTC), which
        is today or later in every organisation's time zone, so nothing dated today is missed.
        """
        account_id = self._account_ids.get(account) or self._account_id(account)
        day = datetime.now(UTC).date() + timedelta(days=1)

        def call() -> dict[str, Any]:
            response = self.accounting.get_report_bank_summary(
                self.tenant_id,
                from_date=day,
                to_date=day,
                _preload_content=False,
                _request_timeout=self.retry.timeouts,
            )
            return _page_body(response.data)

        try:
            return bank_summary_closing(self._call("reports_read", call), account_id)
        except WireError as exc:
            raise NotFound(f"no balance for account {account}: {exc}") from None

    def _account_id(self, code: str) -> str:
        def call() -> dict[str, Any]:
            response = self.accounting.get_accounts(
                self.tenant_id,
                where=f'Code=="{code.replace(chr(34), "")}"',
                _preload_content=False,
                _request_timeout=self.retry.timeouts,
            )
            return _page_body(response.data)

        accounts = self._call("accounts_read", call).get("Accounts") or []
        if not accounts or not accounts[0].get("AccountID"):
            raise NotFound(f"Xero has no account with code {code}")
        self._account_ids[code] = str(accounts[0]["AccountID"])
        return self._account_ids[code]


class _CappedPool:
    """urllib3's pool manager, as the SDK calls it, with a byte cap and a timeout on every request.

    The body is always streamed (``preload_content=False``) and read here up to ``max_bytes``; an
    answer over the cap closes the connection and raises :class:`ResponseTooLarge` (transient).
    What the SDK gets back is a response holding the body already read, so it parses it, or
    hands it to the adapter raw (``_preload_content=False``), as before. A request the SDK sends
    without a timeout (its token refresh) gets ours.
    """

    def __init__(self, pool: Any, *, max_bytes: int, timeout: tuple[float, float], count: ByteCount) -> None:
        self._pool = pool
        self._max_bytes = max_bytes
        self._timeout = urllib3.Timeout(connect=timeout[0], read=timeout[1])
        self._count = count

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> urllib3.HTTPResponse:
        kwargs["preload_content"] = False
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        response = self._pool.request(method, url, *args, **kwargs)
        try:
            body = read_capped(
                response.stream(CHUNK_BYTES, decode_content=True),
                self._max_bytes,
                ledger="Xero",
                declared=response.headers.get("Content-Length"),
                count=self._count,
            )
        except BaseException:
            response.close()  # never drain: that reads what the cap refuses
            response.release_conn()
            raise
        response.release_conn()
        headers = urllib3.HTTPHeaderDict(response.headers)
        headers.discard("Content-Encoding")  # the body is decoded already
        return urllib3.HTTPResponse(
            body=body,
            headers=headers,
            status=response.status,
            version=response.version,
            reason=response.reason,
            preload_content=False,
            decode_content=False,
            request_method=method,
            request_url=url,
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


def _translate(exc: Exception) -> LedgerError | None:
    """An SDK or urllib3 exception as the ledger error class the caller acts on."""
    if isinstance(exc, RateLimitException):
        return _rate_limit_error(exc)
    if isinstance(exc, NotFoundException):
        return NotFound("not found in Xero", http_status=404)
    if isinstance(exc, HTTPStatusException):
        return _status_error(exc)
    if isinstance(exc, ApiException):
        return TransientError(f"Xero call failed: {exc.reason}")
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return TransientError(f"Xero did not answer in time ({type(exc).__name__})")
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return TransientError(f"connection to Xero failed: {type(exc).__name__}")
    if isinstance(exc, ValueError | TypeError | KeyError) and raised_in(exc, "xero_python.api_client.deserializer"):
        # A 200 cut short (or otherwise unreadable): the SDK falls back to the raw bytes and then
        # fails with "list or dict value expected". The ledger's answer is at fault: ask again.
        return TransientError(f"Xero answered with a body that could not be read: {str(exc)[:120]}")
    return None


def _element_errors(element: Any, what: str) -> list[str]:
    """Xero's reasons for refusing one element of a write (summarizeErrors=false answers 200
    and marks each element), or [] when it was accepted."""
    messages = [str(e.message) for e in (getattr(element, "validation_errors", None) or []) if e.message]
    if messages or (getattr(element, "status_attribute_string", None) or "OK") == "ERROR":
        return messages or [f"Xero refused the {what}"]
    return []


def _refuse(messages: list[str]) -> ValidationError:
    """A refused element as the error the engines act on (Xero answered 200 for the request)."""
    return ValidationError("; ".join(messages), messages=messages)


def _with_marker(reference: str, key: str) -> str:
    tag = marker(key)
    return f"{reference} ({tag})" if reference else tag


def _batch_key(kind: str, keys: list[str]) -> str:
    """The Idempotency-Key for one request: the same entries always give the same key."""
    return f"{kind}-" + hashlib.sha256("|".join(sorted(keys)).encode()).hexdigest()[:48]


def _json_or_none(data: Any) -> Any:
    try:
        return json.loads(data) if data else None
    except (ValueError, TypeError):
        return None


class _FastBody(dict[str, Any]):
    """A page decoded by orjson (fractions as floats), with the bytes it came from, so that
    :func:`_invoice_records` can decode it again exactly when a float could not say an amount."""

    raw: bytes


def _page_body(data: bytes, *, fast: bool = False) -> dict[str, Any]:
    """A JSON object from Xero. ``fast``: decoded by orjson, for pages read with
    :func:`_invoice_records`; otherwise every fraction is a Decimal of the digits written."""
    try:
        body = decode_json(data) if fast else decode_json_exact(data)
    except ValueError:
        raise TransientError("Xero answered with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise TransientError("Xero answered with JSON that is not an object")
    if fast:
        body = _FastBody(body)
        body.raw = data
    return body


def _invoice_records(body: dict[str, Any], max_amount: Decimal) -> list[LedgerInvoice | Malformed]:
    """The ``Invoices`` of a page, each read by :func:`parse_invoice`, amounts exact.

    A page decoded by orjson is read again from its bytes with every fraction a Decimal when an
    amount's float may not be what Xero wrote (:class:`InexactNumber`, 16+ digits), and when any
    record is quarantined, so the record kept for support (and the reason) is what it always was.
    Both are rare: an ordinary page is decoded once.
    """
    raw = body.get("Invoices") or []
    try:
        records = [parse_invoice(r, max_amount=max_amount) for r in raw]
    except InexactNumber:
        records = None
    if isinstance(body, _FastBody) and (records is None or any(isinstance(r, Malformed) for r in records)):
        exact = _page_body(body.raw)
        return [parse_invoice(r, max_amount=max_amount) for r in exact.get("Invoices") or []]
    if records is None:  # pragma: no cover - an exact body gives Decimals, never a float
        raise TransientError("Xero's page could not be read exactly")
    return records


def _retry_after(headers: Any, default: float = 60.0) -> float:
    value = headers.get("Retry-After") if headers else None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default


def _rate_limit_error(exc: RateLimitException) -> LedgerError:
    problem = (exc.rate_limit or "minute").lower()
    wait = _retry_after(exc.headers)
    if problem == "day":
        return DailyLimitError(
            "Xero's daily call limit for this organisation is spent", retry_after=wait, http_status=429
        )
    return RateLimitError(f"Xero's {problem} rate limit", retry_after=wait, problem=problem, http_status=429)


def _status_error(exc: HTTPStatusException) -> LedgerError:
    status = exc.status
    body = _json_or_none(exc.body)
    if status == 400:
        messages = _validation_messages(body)
        return ValidationError("; ".join(messages) or "Xero refused the request", messages=messages, http_status=400)
    if status == 401:
        return AuthenticationError(_detail(body) or "Xero refused the access token", http_status=401)
    if status == 403:
        return ReconnectRequired(_detail(body) or "Xero refused access to this organisation", http_status=403)
    if status is not None and (status >= 500 or status in (408, 409, 425)):
        return TransientError(f"Xero is unavailable: {exc.reason}", http_status=status)
    return LedgerError(f"Xero answered {status}: {exc.reason}", http_status=status)


def _detail(body: Any) -> str:
    return str(body.get("Detail") or body.get("Title") or "") if isinstance(body, dict) else ""


def _validation_messages(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    messages = [
        e.get("Message", "") for element in body.get("Elements") or [] for e in (element.get("ValidationErrors") or [])
    ]
    return [m for m in messages if m] or ([body["Message"]] if body.get("Message") else [])
