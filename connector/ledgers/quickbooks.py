"""The QuickBooks Online adapter: the real python-quickbooks and intuit-oauth SDKs, a session per connection.

What the SDKs leave to us, done here: a timeout on every request (the SDK sends none), a byte cap
on every answer (read streamed, an oversize one is a transient error), the HTTP status of every
answer (the SDK hides it: an XML 429 surfaces as "Error reading json"), query strings built through
one escaping helper (:func:`qbo_string`),
refresh under a per-connection lock with the rotated token saved before use and a new session
started after it (the SDK never refreshes), typed errors, and the shared limiter/retry policy.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import requests
import urllib3
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks import exceptions as qbx

from connector.ledgers.base import (
    MARKERS,
    CallCounter,
    NoteToPost,
    TokenStore,
    marker,
    note_with_marker,
    refresh_lease,
)
from connector.ledgers.calls import (
    CHUNK_BYTES,
    MAX_RESPONSE_BYTES,
    ByteCount,
    CallRunner,
    InexactNumber,
    RetrySettings,
    decode_json,
    raised_in,
    read_capped,
)
from connector.ledgers.errors import (
    AuthenticationError,
    LedgerError,
    NotFound,
    RateLimitError,
    ReconnectRequired,
    StaleObject,
    TransientError,
    ValidationError,
)
from connector.ledgers.limits import QUICKBOOKS_LIMITS, RateLimiter
from connector.ledgers.quickbooks_wire import parse_invoice, parse_stamp
from connector.ledgers.records import (
    InvoicePage,
    LedgerInvoice,
    LedgerPayment,
    Malformed,
    OrganisationFacts,
    PaymentResult,
    PaymentToPost,
    PayoutResult,
    PayoutToPost,
)
from connector.ledgers.validate import MAX_AMOUNT

QBO_API_URL = "https://quickbooks.api.intuit.com/v3"
MINOR_VERSION = 75
PAGE = 1000
BATCH = 30
CDC_WINDOW = timedelta(days=29)  # QBO keeps 30 days of changes; one day's margin
#: Objects one CDC answer holds at most: an answer this full may have been cut short.
CDC_MAX_OBJECTS = 1000
SECOND = timedelta(seconds=1)
CENT = Decimal("0.01")
#: QuickBooks keeps at most 4000 characters of a transaction's PrivateNote (fault 2050 beyond).
PRIVATE_NOTE_MAX = 4000
#: One note of ours, at most: the same length Xero allows, so both ledgers read the same line.
NOTE_MAX = 250
#: Below this many characters of room, a note would say nothing: it is refused instead of cut.
NOTE_MIN = 40
PREFERENCES_TTL = 6 * 3600.0  # seconds a company's Preferences are reused across adapters

#: Preferences per (API URL, realm): a sync makes a new adapter, and the home currency and zone
#: of a company hardly ever change, so a run with nothing new does not spend a call on them.
_PREFERENCES: dict[tuple[str, str], tuple[float, dict[str, Any], str | None]] = {}
_PREFERENCES_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class QuickBooksApp:
    client_id: str
    client_secret: str
    redirect_uri: str
    #: intuit-oauth's environment: "production", "sandbox", or a discovery document URL (our sandbox).
    environment: str = "production"
    api_url: str = QBO_API_URL


class _Client(QuickBooks):
    """python-quickbooks with a timeout, a byte cap on the answer and its status kept, per instance."""

    timeout: tuple[float, float] = RetrySettings().timeouts
    max_bytes: int = MAX_RESPONSE_BYTES
    bytes_read: ByteCount | None = None

    def process_request(self, request_type: str, url: str, headers: Any = "", params: Any = "", data: Any = ""):
        headers.update({"Authorization": "Bearer " + self.session.access_token})
        response = self.session.request(
            request_type, url, headers=headers, params=params, data=data, timeout=self.timeout, stream=True
        )
        try:
            body = read_capped(
                response.iter_content(CHUNK_BYTES),
                self.max_bytes,
                ledger="QuickBooks",
                declared=response.headers.get("Content-Length"),
                count=self.bytes_read,
            )
        finally:
            response.close()  # read in full, or over the cap: never drained
        # What requests would have read itself (the SDK reads .text and .json() from it).
        response._content = body
        response._content_consumed = True
        if response.status_code == 429 or (response.status_code == 403 and _throttled(response)):
            wait = response.headers.get("Retry-After")
            raise RateLimitError(
                "QuickBooks throttled this company",
                retry_after=float(wait) if wait else 60.0,
                http_status=response.status_code,
            )
        if response.status_code >= 500:
            raise TransientError("QuickBooks is unavailable", http_status=response.status_code)
        return response

    def query_page(self, select: str) -> Any:
        """``query(select)`` exactly as the SDK's ``make_request`` sends and checks it, with the answer
        decoded by orjson (fractions as floats) instead of ``json.loads(parse_float=Decimal)``: for
        invoice pages, whose amounts :func:`_invoice_records` reads exactly (or decodes again)."""
        url = f"{self.api_url}/company/{self.company_id}/query"
        return self._page("POST", url, "application/text", {"minorversion": self.minorversion}, select)

    def cdc_page(self, entities: str, changed_since: str) -> Any:
        """``change_data_capture(entities, changed_since)`` exactly as the SDK sends and checks it,
        decoded like :meth:`query_page` (its changed invoices are read by :func:`_invoice_records`)."""
        url = f"{self.api_url}/company/{self.company_id}/cdc"
        params = {"entities": entities, "changedSince": changed_since, "minorversion": self.minorversion}
        return self._page("GET", url, "application/json", params, "")

    def _page(self, method: str, url: str, content_type: str, params: dict[str, Any], data: str) -> Any:
        headers = {
            "Content-Type": content_type,
            "Accept": "application/json",
            "User-Agent": "python-quickbooks V3 library",
        }
        req = self.process_request(method, url, headers=headers, params=params, data=data)
        if req.status_code == 401:
            raise qbx.AuthorizationException(
                "Application authentication failed", error_code=req.status_code, detail=req.text
            )

        def exact() -> Any:
            return json.loads(req.text, parse_float=Decimal)

        try:
            # Bytes straight to orjson when they are UTF-8 (what requests would decode them as).
            if str(req.encoding or "utf-8").lower().replace("-", "").replace("_", "") != "utf8":
                raise ValueError("not UTF-8")
            result = decode_json(req.content)
        except Exception:
            try:
                result = exact()
            except Exception:
                raise qbx.QuickbooksException(f"Error reading json response: {req.text}", 10000) from None
        if "Fault" in result:
            self.handle_exceptions(result["Fault"])
            return None
        if req.status_code != 200:
            raise qbx.QuickbooksException(f"Error returned with status code '{req.status_code}': {req.text}", 10000)
        if isinstance(result, dict):
            result = _FastBody(result)
            result.exact = exact
        return result


class _FastBody(dict[str, Any]):
    """A page decoded by orjson, with the SDK's exact decoding of the same answer at hand."""

    exact: Callable[[], Any]


def _query_rows(body: Any) -> list[Any]:
    """The ``Invoice`` objects of a query page."""
    return (body.get("QueryResponse") or {}).get("Invoice") or []


def _cdc_rows(body: Any) -> list[Any]:
    """Every ``Invoice`` object of a CDC answer, changed and deleted, in the order written:
    ``{"CDCResponse": [{"QueryResponse": [{"Invoice": [...], ...}, {}]}], "time": ...}`` (an entity
    with no changes is an empty item). An answer of another shape is an error, never "nothing
    changed": read as empty, it would move the cursor past changes it did not show."""
    blocks = body.get("CDCResponse") if isinstance(body, dict) else None
    if not isinstance(blocks, list):
        raise TransientError("QuickBooks answered a CDC request without a CDCResponse list")
    rows: list[Any] = []
    for block in blocks:
        responses = block.get("QueryResponse") if isinstance(block, dict) else None
        if not isinstance(block, dict) or not isinstance(responses, list | None):
            raise TransientError("QuickBooks answered a CDC request with a CDCResponse that could not be read")
        for response in responses or []:
            found = response.get("Invoice") if isinstance(response, dict) else None
            if not isinstance(response, dict) or not isinstance(found, list | None):
                raise TransientError("QuickBooks answered a CDC request with a QueryResponse that could not be read")
            rows.extend(found or [])
    return rows


def _is_tombstone(row: Any) -> bool:
    """A deleted entity in a CDC answer: ``{"status": "Deleted", "Id", "MetaData"}``."""
    return isinstance(row, dict) and str(row.get("status", "")).lower() == "deleted"


def _cdc_changed(body: Any) -> list[Any]:
    """The changed (not deleted) invoices of a CDC answer: full objects, read like a query page's."""
    return [r for r in _cdc_rows(body) if not _is_tombstone(r)]


def _invoice_records(
    body: dict[str, Any],
    currency: str,
    max_amount: Decimal,
    rows: Callable[[Any], list[Any]] = _query_rows,
) -> list[LedgerInvoice | Malformed]:
    """The ``Invoice`` records of a query page (or, with ``rows=_cdc_changed``, the changed invoices
    of a CDC answer), each read by :func:`parse_invoice`, amounts exact.

    A page decoded by orjson is decoded again exactly (every fraction a Decimal of the digits
    written) when an amount's float may not be what QuickBooks wrote (:class:`InexactNumber`) and
    when any record is quarantined, so the record kept for support is what it always was.
    """
    raw = rows(body)
    try:
        records = [parse_invoice(r, currency, max_amount=max_amount) for r in raw]
    except InexactNumber:
        records = None
    if isinstance(body, _FastBody) and (records is None or any(isinstance(r, Malformed) for r in records)):
        exact = body.exact()
        return [parse_invoice(r, currency, max_amount=max_amount) for r in rows(exact)]
    if records is None:  # pragma: no cover - an exact body gives Decimals, never a float
        raise TransientError("QuickBooks' page could not be read exactly")
    return records


class QuickBooksLedger:
    """One QuickBooks company (realm) behind the :class:`~connector.ledgers.base.Ledger` protocol."""

    provider = "quickbooks"
    payment_batch_size = BATCH

    def __init__(
        self,
        app: QuickBooksApp,
        realm_id: str,
        tokens: TokenStore,
        *,
        limiter: RateLimiter | None = None,
        retry: RetrySettings | None = None,
        sleep: Callable[[float], None] = time.sleep,
        page_size: int = PAGE,
        max_amount: Decimal = MAX_AMOUNT,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.app = app
        self.realm_id = realm_id
        self.calls = CallCounter()
        #: Bytes of answers read (capped at ``max_response_bytes`` per answer).
        self.bytes_read = ByteCount()
        self.limiter = limiter or RateLimiter(QUICKBOOKS_LIMITS)
        self.retry = retry or RetrySettings()
        self.page_size = page_size
        #: Invoices with an amount above this are quarantined, never collected.
        self.max_amount = max_amount
        self.max_response_bytes = max_response_bytes
        self._tokens = tokens
        self._lock = threading.Lock()
        self._client: _Client | None = None
        self._home_currency: str | None = None
        #: The company's offset from UTC, learnt from its stamps: "today" and "overdue" are company-local.
        self.utc_offset_minutes: int | None = None
        self._call = CallRunner(self.limiter, self.calls, self.retry, _translate, self.force_refresh, sleep)

    # --- session and tokens ------------------------------------------------------------------------

    def _token(self) -> dict[str, Any]:
        token = self._tokens.load()
        if not token:
            raise ReconnectRequired("this connection has no stored token: connect it first")
        return token

    def _qb(self) -> _Client:
        with self._lock:
            token = self._token()
            if self._client is None or float(token.get("expires_at") or 0) < time.time() + 60:
                if float(token.get("expires_at") or 0) < time.time() + 60:
                    # Across processes too: connections sharing a grant share one refresh token. Inside
                    # the lease the token is read again: another process may just have refreshed it.
                    with refresh_lease(self._tokens):
                        token = self._token()
                        if float(token.get("expires_at") or 0) < time.time() + 60:
                            token = self._refresh(token)
                self._client = self._session(token)
            return self._client

    def _auth(self, token: dict[str, Any]) -> AuthClient:
        return AuthClient(
            self.app.client_id,
            self.app.client_secret,
            self.app.redirect_uri,
            environment=self.app.environment,
            access_token=token.get("access_token"),
            refresh_token=token.get("refresh_token"),
        )

    def _session(self, token: dict[str, Any]) -> _Client:
        client = _Client(
            auth_client=self._auth(token),
            refresh_token=token["refresh_token"],
            company_id=self.realm_id,
            minorversion=MINOR_VERSION,
            use_decimal=True,
        )
        client.api_url_v3 = self.app.api_url
        client.timeout = self.retry.timeouts
        client.max_bytes = self.max_response_bytes
        client.bytes_read = self.bytes_read
        return client

    def _refresh(self, token: dict[str, Any]) -> dict[str, Any]:
        auth = self._auth(token)
        self.calls.add("token_refresh")
        try:
            auth.refresh(refresh_token=token["refresh_token"])
        except AuthClientError as exc:
            body = _json(exc.content)
            error = body.get("error") if isinstance(body, dict) else None
            if exc.status_code in (400, 401) and error in ("invalid_grant", "invalid_client"):
                raise ReconnectRequired(
                    f"QuickBooks refused the refresh token: {error}", http_status=exc.status_code, code=error
                ) from None
            raise TransientError("token refresh failed", http_status=exc.status_code) from None
        except requests.RequestException as exc:
            raise TransientError(f"token refresh failed: {type(exc).__name__}") from None
        new = {
            **token,
            "access_token": auth.access_token,
            "refresh_token": auth.refresh_token,
            "expires_in": auth.expires_in,
            "expires_at": time.time() + float(auth.expires_in or 3600),
            "x_refresh_token_expires_in": auth.x_refresh_token_expires_in,
        }
        self._tokens.save(new)  # before anything uses it: the old refresh token is now spent
        return new

    def force_refresh(self) -> None:
        with self._lock:
            token = dict(self._token())
            token["expires_at"] = 0
            self._tokens.save(token)
            self._client = None

    # --- reading -------------------------------------------------------------------------------------

    def _query(self, sql: str, *, invoices: bool = False) -> dict[str, Any]:
        """``invoices``: a page of Invoice records, decoded by orjson (read it with
        :func:`_invoice_records`)."""
        body = self._call("query", lambda: self._qb().query_page(sql) if invoices else self._qb().query(sql))
        if not isinstance(body, dict):
            raise TransientError("QuickBooks answered a query with something that is not an object")
        return body

    def _preferences(self) -> dict[str, Any]:
        """The company's Preferences: read once, then kept with the adapter (and, for a while, for the
        next adapter of the same company), so a sync with nothing new does not read them again."""
        key = (self.app.api_url, self.realm_id)
        with _PREFERENCES_LOCK:
            cached = _PREFERENCES.get(key)
        if cached is not None and cached[0] > time.monotonic():
            prefs, answered_at = cached[1], cached[2]
        else:
            answer = self._call(
                "preferences", lambda: self._qb().get(f"{self._qb().api_url}/company/{self.realm_id}/preferences")
            )
            prefs = (answer.get("Preferences") or {}) if isinstance(answer, dict) else {}
            answered_at = answer.get("time") if isinstance(answer, dict) else None
            with _PREFERENCES_LOCK:
                _PREFERENCES[key] = (time.monotonic() + PREFERENCES_TTL, prefs, answered_at)
        if self.utc_offset_minutes is None:
            stamp = (prefs.get("MetaData") or {}).get("LastUpdatedTime") or answered_at
            self.utc_offset_minutes = _offset_minutes(stamp)
        return prefs

    def home_currency(self) -> str:
        """The company's currency, for invoices that carry no CurrencyRef (single-currency companies)."""
        if self._home_currency is None:
            home = (self._preferences().get("CurrencyPrefs") or {}).get("HomeCurrency") or {}
            self._home_currency = str(home.get("value") or "USD")
        return self._home_currency

    def organisation(self) -> OrganisationFacts:
        """Home currency from Preferences; the offset learnt from the company's own stamps (QBO
        tells no zone name through the API, only times written in the company's offset)."""
        currency = self.home_currency()
        return OrganisationFacts(base_currency=currency, utc_offset_minutes=self.utc_offset_minutes)

    def account_balance(self, account: str) -> Decimal:
        """``Account.CurrentBalance`` (one read), in the account's own currency."""
        body = self._call("account_read", lambda: self._qb().get_single_object("Account", account))
        record = body.get("Account") if isinstance(body, dict) else None
        if not isinstance(record, dict) or record.get("CurrentBalance") is None:
            raise TransientError(f"QuickBooks answered for account {account} without its balance")
        return Decimal(str(record["CurrentBalance"]))

    def changed_invoices(self, cursor: str | None, overlap: timedelta) -> Iterator[InvoicePage]:
        """Invoices changed since the cursor (less ``overlap``), and deleted ones as tombstones.

        The cursor holds two stamps: ``q``, the newest ``LastUpdatedTime`` read, and ``cdc``, where
        change data capture takes up next (deleted invoices appear only there, for 30 days).

        With a ``cdc`` stamp whose ``cdc - overlap`` is inside CDC's window, one CDC call comes
        first: it answers every invoice changed since then (the full object) and every one deleted
        (a tombstone), at most 1,000 objects. Fewer than 1,000 is the whole answer, and that one
        page is the run: a run with nothing new is one call. Otherwise (no cursor: the first
        import, which never depends on CDC; a cursor older than the window; a full CDC answer,
        perhaps cut short) the invoices are read by ``LastUpdatedTime >= q - overlap`` (keyset,
        pages of ``page_size``), then the deletions by CDC (:meth:`_deletions`).
        """
        state = json.loads(cursor) if cursor else {}
        first = None
        since = self._cdc_since(state, overlap)
        if since is not None:
            first = self._cdc(since)
            if len(_cdc_rows(first)) < CDC_MAX_OBJECTS:
                yield self._cdc_page(state, first)
                return
        yield from self._query_pages(state, overlap)
        yield self._deletions(state, overlap, first)

    def _cdc_since(self, state: dict[str, Any], overlap: timedelta) -> datetime | None:
        """``cdc - overlap``, where a CDC-first run starts; None without a ``cdc`` stamp or when it
        is older than CDC's window (QBO refuses a ``changedSince`` more than 30 days back)."""
        stamp = _stamp_or_none(state.get("cdc"))
        if stamp is None:
            return None
        since = stamp - overlap
        return since if since >= datetime.now(UTC) - CDC_WINDOW else None

    def _cdc(self, since: datetime) -> dict[str, Any]:
        """One CDC call for invoices changed or deleted since ``since``."""
        body = self._call("cdc", lambda: self._qb().cdc_page("Invoice", _qbo_stamp(since)))
        if not isinstance(body, dict):
            raise TransientError("QuickBooks answered a CDC request with something that is not an object")
        return body

    def _cdc_page(self, state: dict[str, Any], body: dict[str, Any]) -> InvoicePage:
        """A whole CDC answer as one page: the changed invoices read as a query page's are (home
        currency, ``max_amount``, the company's offset, quarantine), the deleted ones as tombstones
        (as :meth:`_deletions` reads them); ``q`` moves to the newest stamp read, ``cdc`` to the
        answer's ``time``."""
        changed = _cdc_changed(body)
        gone = [r for r in _cdc_rows(body) if _is_tombstone(r)]
        self._learn_offset(changed)
        currency = self._currency_for(changed)
        records = _invoice_records(body, currency, self.max_amount, rows=_cdc_changed)
        self._advance_q(state, [r.updated_at for r in records if r.updated_at is not None])
        answered = _stamp_or_none(body.get("time"))
        records.extend(parse_invoice(r, currency, deleted_at=answered, max_amount=self.max_amount) for r in gone)
        if answered is not None:
            state["cdc"] = body["time"]
        return InvoicePage(records=records, more=False, cursor=json.dumps(_public(state)))

    def _currency_for(self, rows: list[Any]) -> str:
        """The home currency, read only when one of ``rows`` names no currency of its own (the only
        invoices it is used for): a CDC answer whose invoices all carry their ``CurrencyRef``, like
        the overlap read again by a run with nothing new, costs no Preferences read."""
        for row in rows:
            ref = row.get("CurrencyRef") if isinstance(row, dict) else None
            if not (isinstance(ref, dict) and ref.get("value")):
                return self.home_currency()
        return self._home_currency or "USD"

    def _learn_offset(self, raw: list[Any]) -> None:
        if raw and self.utc_offset_minutes is None and isinstance(raw[0], dict):
            self.utc_offset_minutes = _offset_minutes((raw[0].get("MetaData") or {}).get("LastUpdatedTime"))

    @staticmethod
    def _advance_q(state: dict[str, Any], stamps: list[datetime]) -> None:
        """``q`` to the newest of the records' update ``stamps``, never back.

        A quarantined record whose stamp could be read counts too: the cursor moves past it."""
        if stamps:
            latest = max(stamps).replace(microsecond=0)
            if not state.get("q") or latest > parse_stamp(state["q"]):
                state["q"] = latest.isoformat()

    def _query_pages(self, state: dict[str, Any], overlap: timedelta) -> Iterator[InvoicePage]:
        """Invoices by ``LastUpdatedTime >= q - overlap``, keyset, pages of ``page_size``."""
        since = parse_stamp(state["q"]) - overlap if state.get("q") else None
        position = 1
        first_time = None
        while True:
            where = f" WHERE MetaData.LastUpdatedTime >= {qbo_string(_qbo_stamp(since))}" if since else ""
            body = self._query(
                f"SELECT * FROM Invoice{where} ORDERBY MetaData.LastUpdatedTime "
                f"STARTPOSITION {position} MAXRESULTS {self.page_size}",
                invoices=True,
            )
            first_time = first_time or body.get("time")
            raw = _query_rows(body)
            self._learn_offset(raw)
            currency = self.home_currency() if raw else "USD"
            # The records' stamps (what parse_invoice gives as updated_at, quarantined records'
            # included); the records themselves are read by whoever uses the page (see InvoicePage).
            stamps = [s for s in map(_row_stamp, raw) if s is not None]
            self._advance_q(state, stamps)
            more = len(raw) >= self.page_size
            if not more:
                # Where CDC takes up next run. With no ``cdc`` stamp no CDC is read in this run: where
                # the run began, so a deletion during the read is not missed. With one, the deletions
                # are read after this page: this page's time, not CDC's own, since the next run may
                # read changes by CDC only, and a change made while the deletions were read must
                # not fall behind it.
                state["cdc_next"] = (body.get("time") or first_time) if state.get("cdc") else first_time
            read = partial(_invoice_records, body, currency, self.max_amount)
            yield InvoicePage.deferred(read, more=True, cursor=json.dumps(_public(state)))
            if not more:
                break
            last = max(stamps).replace(microsecond=0) if stamps else since
            if since is not None and last is not None and last <= since:
                position += self.page_size
            else:
                since, position = last, 1

    def _deletions(self, state: dict[str, Any], overlap: timedelta, first: dict[str, Any] | None = None) -> InvoicePage:
        """CDC since the last run, with the same overlap as the query: tombstones of deleted invoices.

        (Voids arrive by the query too.) A tombstone seen twice changes nothing. ``first``: a full
        CDC answer from ``cdc - overlap`` already at hand (read before the query pages).

        An answer holds at most 1,000 objects, changed invoices included: a full one is followed
        by another from the newest ``LastUpdatedTime`` it holds (inclusive, for changes in the same
        second), until one is not full. That the objects a full answer leaves out are the newer
        ones is what the sandbox does and Intuit's advice ("query for shorter time periods")
        implies; which 1,000 real QBO returns is not documented (unverified).
        """
        since = state.get("cdc")
        next_cdc = state.pop("cdc_next", None)
        records: list[LedgerInvoice | Malformed] = []
        if since:
            earliest = datetime.now(UTC) - CDC_WINDOW
            changed_since = max(parse_stamp(since) - overlap, earliest)
            body = first
            while True:
                if body is None:
                    body = self._cdc(changed_since)
                rows = _cdc_rows(body)
                currency = self._home_currency or "USD"
                answered = _stamp_or_none(body.get("time"))
                for record in rows:
                    if _is_tombstone(record):
                        records.append(parse_invoice(record, currency, deleted_at=answered, max_amount=self.max_amount))
                if len(rows) < CDC_MAX_OBJECTS:
                    next_cdc = _earliest(next_cdc, body.get("time"))
                    break
                stamps = [s for s in (_row_stamp(r) for r in rows) if s is not None]
                newest = max(stamps, default=None)
                # 1,000 changes within one second cannot be told apart by changedSince: the next
                # second is the only way on (what that second held beyond the answer is not seen).
                changed_since = newest if newest is not None and newest > changed_since else changed_since + SECOND
                body = None
        if next_cdc:
            state["cdc"] = next_cdc
        return InvoicePage(records=records, more=False, cursor=json.dumps(_public(state)))

    def accounts(self) -> list[dict[str, str]]:
        """The chart of accounts (the wizard's "choose clearing, bank and fee accounts" lists)."""
        raw = self._query(f"SELECT * FROM Account MAXRESULTS {PAGE}")
        return [
            {"id": str(a["Id"]), "name": str(a.get("Name", "")), "type": str(a.get("AccountType", ""))}
            for a in (raw.get("QueryResponse") or {}).get("Account") or []
        ]

    def payouts_on(self, on: Any) -> list[dict[str, Any]]:
        """Transfers and purchases of one day, to show what a payout wrote."""
        found = []
        for entity in ("Transfer", "Purchase"):
            raw = self._query(f"SELECT * FROM {entity} WHERE TxnDate = {qbo_string(on.isoformat())} MAXRESULTS {PAGE}")
            found.extend({"kind": entity, **r} for r in (raw.get("QueryResponse") or {}).get(entity) or [])
        return found

    def get_invoices(self, external_ids: list[str]) -> list[LedgerInvoice | Malformed]:
        found: list[LedgerInvoice | Malformed] = []
        for i in range(0, len(external_ids), PAGE):
            ids = qbo_list(external_ids[i : i + PAGE])
            raw = self._query(f"SELECT * FROM Invoice WHERE Id IN {ids} MAXRESULTS {PAGE}", invoices=True)
            currency = self.home_currency()
            found.extend(_invoice_records(raw, currency, self.max_amount))
        return self._with_payment_notes(found)

    def _with_payment_notes(self, invoices: list[LedgerInvoice | Malformed]) -> list[LedgerInvoice | Malformed]:
        """Fill in each linked payment's note, where our marker is: one query for all of them."""
        ids = sorted({p.external_id for inv in invoices if isinstance(inv, LedgerInvoice) for p in inv.payments})
        if not ids:
            return invoices
        notes: dict[str, tuple[str, Any]] = {}
        for i in range(0, len(ids), PAGE):
            raw = self._query(f"SELECT * FROM Payment WHERE Id IN {qbo_list(ids[i : i + PAGE])} MAXRESULTS {PAGE}")
            for p in (raw.get("QueryResponse") or {}).get("Payment") or []:
                notes[str(p["Id"])] = (str(p.get("PrivateNote") or ""), p.get("TotalAmt"))
        out: list[LedgerInvoice | Malformed] = []
        for inv in invoices:
            if isinstance(inv, LedgerInvoice) and inv.payments:
                payments = tuple(
                    LedgerPayment(p.external_id, p.amount, p.on, notes.get(p.external_id, ("", None))[0])
                    for p in inv.payments
                )
                inv = LedgerInvoice(**{**{f: getattr(inv, f) for f in inv.__dataclass_fields__}, "payments": payments})
            out.append(inv)
        return out

    # --- writing -----------------------------------------------------------------------------------------

    def post_payments(self, payments: list[PaymentToPost]) -> list[PaymentResult]:
        """One ``/batch`` request per 30 payments, idempotent by ``requestid``; each item's Fault on its own.

        Each is one Payment holding all the money collected: ``TotalAmt = amount + unapplied``, a line
        settling ``amount`` of the invoice (none when it is 0) and QBO keeps the rest as the customer's
        ``UnappliedAmt``, all deposited to the clearing account. A payment with no line cannot be
        found through its invoice's LinkedTxn, where the push engine looks before posting again, so
        it is looked for here, by its marker, before it is written.
        """
        if not payments:
            return []
        outcome: dict[str, PaymentResult] = {}
        for p in payments:
            if not (_exact(p.amount) and _exact(p.unapplied)):
                outcome[p.key] = PaymentResult(
                    p.key,
                    error=f"QuickBooks keeps amounts to two decimal places: {p.amount + p.unapplied} "
                    f"{p.currency} can't be recorded exactly",
                )
        lineless = [p for p in payments if p.amount == 0 and p.key not in outcome]
        for key, found in self._existing_payments(lineless).items():
            outcome[key] = PaymentResult(key, external_id=found)
        to_post = [p for p in payments if p.key not in outcome]
        if to_post:
            outcome.update(self._post_batch(to_post))
        return [outcome[p.key] for p in payments]

    def _post_batch(self, payments: list[PaymentToPost]) -> dict[str, PaymentResult]:
        items = [{"bId": str(n), "operation": "create", "Payment": _payment(p)} for n, p in enumerate(payments)]
        body = self._call(
            "payments_write",
            lambda: self._post(
                "batch", {"BatchItemRequest": items}, _request_id("payments", [p.key for p in payments])
            ),
        )
        by_bid = {str(r.get("bId")): r for r in body.get("BatchItemResponse") or []}
        results = {}
        for n, p in enumerate(payments):
            answer = by_bid.get(str(n), {})
            if "Payment" in answer:
                results[p.key] = PaymentResult(p.key, external_id=str(answer["Payment"]["Id"]))
            else:
                errors = (answer.get("Fault") or {}).get("Error") or [{"Message": "no answer for this payment"}]
                results[p.key] = PaymentResult(p.key, error="; ".join(_fault_text(e) for e in errors))
        return results

    def _existing_payments(self, payments: list[PaymentToPost]) -> dict[str, str]:
        """Our earlier payments among ``payments``, found by the marker in their note (one query a day)."""
        found: dict[str, str] = {}
        wanted = {marker(p.key): p.key for p in payments}
        for on in sorted({p.on for p in payments}):
            start = 1
            while True:  # every page of the day: on a busy day a missed earlier write would be posted twice
                raw = self._query(
                    f"SELECT * FROM Payment WHERE TxnDate = {qbo_string(on.isoformat())} "
                    f"STARTPOSITION {start} MAXRESULTS {PAGE}"
                )
                records = (raw.get("QueryResponse") or {}).get("Payment") or []
                for r in records:
                    for tag in MARKERS.findall(str(r.get("PrivateNote") or "")):
                        if tag in wanted:
                            found.setdefault(wanted[tag], str(r["Id"]))
                if len(records) < PAGE:
                    break
                start += PAGE
        return found

    def _post(
        self, path: str, body: dict[str, Any], request_id: str | None, params: dict[str, str] | None = None
    ) -> Any:
        qb = self._qb()
        url = f"{qb.api_url}/company/{self.realm_id}/{path}"
        return qb.post(url, json.dumps(body, default=str), request_id=request_id, params=params or {})

    def delete_payment(self, payment_external_id: str, key: str) -> None:
        """Delete one of our payments. Gone already: ``NotFound``. Refused (the payment sits in a deposit,
        or the accountant has closed the books through its date): ``ValidationError`` with QBO's words.

        No ``requestid``: a repeated delete finds the payment gone (610, ``NotFound``, which the push
        engine takes as done), while a requestid would replay a refusal even after the accountant has
        reopened the books or emptied the deposit."""
        for attempt in (1, 2):  # a stale SyncToken is retried once, after a re-read
            current = self._call("payments_read", lambda: self._qb().get_single_object("Payment", payment_external_id))
            payment = current.get("Payment") or {}
            try:
                self._call(
                    "payments_write",
                    lambda p=payment: self._post(
                        "payment", {"Id": p["Id"], "SyncToken": p["SyncToken"]}, None, {"operation": "delete"}
                    ),
                )
                return
            except StaleObject:
                if attempt == 2:
                    raise

    def add_invoice_note(self, note: NoteToPost) -> bool:
        """Our note appended to the invoice's ``PrivateNote`` by a sparse update with its SyncToken.

        The invoice is always read first (the update needs its SyncToken and must keep the note
        there), so a note already carrying our marker is never written twice. A stale SyncToken
        (someone edited the invoice between our read and write: fault 5010) is retried once after
        a fresh read. The requestid names the entry and the SyncToken read, so a repeat of the
        same write is answered from QuickBooks' cache, and a write after a fresh read is new.
        """
        tag = marker(note.key)
        for attempt in (1, 2):
            answer = self._call(
                "invoices_read", lambda: self._qb().get_single_object("Invoice", note.invoice_external_id)
            )
            invoice = answer.get("Invoice") if isinstance(answer, dict) else None
            if not isinstance(invoice, dict) or not invoice.get("Id"):
                raise TransientError(f"QuickBooks answered for invoice {note.invoice_external_id} without it")
            existing = str(invoice.get("PrivateNote") or "")
            if tag in existing:
                return False
            body = {
                "Id": invoice["Id"],
                "SyncToken": invoice["SyncToken"],
                "sparse": True,
                "PrivateNote": appended_note(existing, note),
            }
            request_id = _request_id("note", [note.key, str(invoice["SyncToken"])])
            if self._call("invoices_write", lambda b=body, r=request_id: self._post_unless_stale("invoice", b, r)):
                return True
            if attempt == 2:
                raise StaleObject("QuickBooks: the invoice changed under our note twice (5010)", code="5010")
        return False  # pragma: no cover - the loop returns or raises

    def _post_unless_stale(self, path: str, body: dict[str, Any], request_id: str) -> bool:
        """The write, or False on 5010: a stale SyncToken needs a fresh read, not the same body again
        (the call runner would re-send it as it re-sends every retryable error)."""
        try:
            self._post(path, body, request_id)
        except qbx.QuickbooksException as exc:
            if int(exc.error_code or 0) == 5010:
                return False
            raise
        return True

    def invoice_note(self, invoice_id: str) -> str:
        """The invoice's private note, read through the API: what an accountant reads in QuickBooks."""
        answer = self._call("invoices_read", lambda: self._qb().get_single_object("Invoice", invoice_id))
        return str(((answer or {}).get("Invoice") or {}).get("PrivateNote") or "")

    def _existing(self, entity: str, reference: str, on: Any) -> str | None:
        """Our earlier transfer or fee, found by its note on that day (past requestid's window)."""
        raw = self._query(f"SELECT * FROM {entity} WHERE TxnDate = {qbo_string(on.isoformat())} MAXRESULTS {PAGE}")
        for record in (raw.get("QueryResponse") or {}).get(entity) or []:
            if str(record.get("PrivateNote") or "") == reference:
                return str(record["Id"])
        return None

    def _create(self, kind: str, entity: str, body: dict[str, Any], request_id: str) -> str:
        """One write; QBO's refusal is raised as ``ValidationError`` by the call runner."""
        created = self._call(kind, lambda: self._post(entity.lower(), body, request_id))
        record = created.get(entity) if isinstance(created, dict) else None
        if not isinstance(record, dict) or not record.get("Id"):
            raise ValidationError(f"QuickBooks did not return the {entity} it was asked to create")
        return str(record["Id"])

    def post_payout(self, payout: PayoutToPost) -> PayoutResult:
        """``net > 0``: a Transfer clearing -> bank; ``net < 0``: bank -> clearing for ``-net`` (the fee
        was more than was collected); ``fee > 0``: a Purchase paid from clearing to the fee account.
        Each is looked for by its note first, so a re-run past requestid's window writes nothing twice."""
        reference = _with_marker(payout.reference or "payout", payout.key)
        transfer_id = None
        if payout.net != 0:
            transfer_id = self._existing("Transfer", reference, payout.on)
            if transfer_id is None:
                source, target = payout.clearing_account, payout.bank_account
                if payout.net < 0:
                    source, target = target, source
                transfer_id = self._create(
                    "transfers_write",
                    "Transfer",
                    {
                        "FromAccountRef": {"value": source},
                        "ToAccountRef": {"value": target},
                        "Amount": str(abs(payout.net)),
                        "TxnDate": payout.on.isoformat(),
                        "PrivateNote": reference,
                    },
                    _request_id("transfer", [payout.key]),
                )
        fee_id = None
        if payout.fee > 0:
            fee_id = self._existing("Purchase", reference, payout.on)
            if fee_id is None:
                fee_id = self._create(
                    "purchases_write",
                    "Purchase",
                    {
                        "PaymentType": "Cash",
                        "AccountRef": {"value": payout.clearing_account},
                        "TxnDate": payout.on.isoformat(),
                        "PrivateNote": reference,
                        "Line": [
                            {
                                "Amount": str(payout.fee),
                                "DetailType": "AccountBasedExpenseLineDetail",
                                "Description": f"Platform fees, {reference}",
                                "AccountBasedExpenseLineDetail": {"AccountRef": {"value": payout.fees_account}},
                            }
                        ],
                    },
                    _request_id("fee", [payout.key]),
                )
        return PayoutResult(transfer_id=transfer_id, fee_id=fee_id)


def appended_note(existing: str, note: NoteToPost) -> str:
    """The invoice's private note with ours added on a new line, what was there kept as it was.

    QuickBooks keeps 4000 characters: when ours does not fit, its own end is cut (the marker
    stays, so it is still recognised as ours); with no useful room left it is refused, since the
    only other way would be to cut what the accountant wrote.
    """
    separator = "\n" if existing else ""
    room = min(NOTE_MAX, PRIVATE_NOTE_MAX - len(existing) - len(separator))
    if room < NOTE_MIN:
        raise ValidationError(
            f"the invoice's private note has no room for ours ({len(existing)} of QuickBooks' "
            f"{PRIVATE_NOTE_MAX} characters used): the note was not added, what is there is kept"
        )
    return existing + separator + note_with_marker(note.text, note.key, room)


def qbo_string(value: object) -> str:
    """``value`` as a quoted string literal of QBO's query language: every value a query carries goes
    through here. A backslash escapes the next character, so backslashes are doubled and quotes
    escaped (``O'Brien`` → ``'O\\'Brien'``); nothing a value holds can end the literal early."""
    text = str(value)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def qbo_list(values: Iterable[object]) -> str:
    """A parenthesised list of quoted literals, for ``IN``."""
    return "(" + ", ".join(qbo_string(v) for v in values) + ")"


def _payment(p: PaymentToPost) -> dict[str, Any]:
    """The Payment for one collection: all the money, the invoice line only when some is applied."""
    body: dict[str, Any] = {
        "CustomerRef": {"value": p.customer_id},
        "TotalAmt": str(p.amount + p.unapplied),
        "TxnDate": p.on.isoformat(),
        "DepositToAccountRef": {"value": p.account},
        "PaymentRefNum": (p.reference or "")[:21],
        "PrivateNote": _with_marker(p.reference, p.key),
    }
    if p.currency:
        body["CurrencyRef"] = {"value": p.currency}  # a mismatch is refused, never converted
    if p.amount > 0:
        link = {"TxnId": p.invoice_external_id, "TxnType": "Invoice"}
        body["Line"] = [{"Amount": str(p.amount), "LinkedTxn": [link]}]
    return body


def _exact(amount: Decimal) -> bool:
    """QBO holds every amount to the cent, in every currency (JPY whole units are exact too)."""
    return amount == amount.quantize(CENT)


def _fault_text(error: dict[str, Any]) -> str:
    return f"{error.get('Message')}: {error.get('Detail', '')}".rstrip(": ")


def _throttled(response: Any) -> bool:
    """QBO's XML ``ThrottleExceeded`` (code 3001) page: sometimes sent with 403 instead of 429."""
    text = response.text if isinstance(getattr(response, "text", None), str) else ""
    return "ThrottleExceeded" in text or 'code="3001"' in text


def _stamp_or_none(value: Any) -> datetime | None:
    try:
        return parse_stamp(value)
    except ValueError:
        return None


def _row_stamp(row: Any) -> datetime | None:
    """A CDC object's ``MetaData.LastUpdatedTime`` (a tombstone's: when it was deleted)."""
    meta = row.get("MetaData") if isinstance(row, dict) else None
    return _stamp_or_none(meta.get("LastUpdatedTime")) if isinstance(meta, dict) else None


def _earliest(*stamps: Any) -> str | None:
    """The earliest of some QBO stamps (as written), those that cannot be read left out."""
    readable = [(at, str(s)) for s in stamps if s and (at := _stamp_or_none(s)) is not None]
    return min(readable)[1] if readable else None


def _offset_minutes(stamp: Any) -> int | None:
    try:
        parsed = datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    offset = parsed.utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else None


def _public(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k in ("q", "cdc")}


def _qbo_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _with_marker(reference: str, key: str) -> str:
    tag = marker(key)
    return f"{reference} ({tag})" if reference else tag


def _request_id(kind: str, keys: list[str]) -> str:
    """QBO's requestid (36 characters at most for a batch): the same entries, the same id."""
    return hashlib.sha256(("|".join([kind, *sorted(keys)])).encode()).hexdigest()[:32]


def _json(data: Any) -> Any:
    try:
        return json.loads(data) if data else None
    except (ValueError, TypeError):
        return None


def _translate(exc: Exception) -> LedgerError | None:
    if isinstance(exc, qbx.AuthorizationException):
        return AuthenticationError(str(exc.message), http_status=401)
    if isinstance(exc, qbx.ObjectNotFoundException):
        return NotFound(str(exc.message))
    if isinstance(exc, qbx.SevereException):
        return TransientError(f"QuickBooks failed: {exc.message}")
    if isinstance(exc, qbx.QuickbooksException):
        code = int(exc.error_code or 0)
        if code == 5010:
            return StaleObject(f"{exc.message}: {exc.detail}", code="5010")
        if code == 10000:  # a body that is not JSON (an XML throttle page, a cut-off answer)
            return TransientError(f"QuickBooks answered with an unreadable body: {str(exc.message)[:120]}")
        return ValidationError(f"{exc.message}: {exc.detail}".rstrip(": "), code=str(code))
    if isinstance(exc, requests.Timeout) or (
        isinstance(exc, requests.ConnectionError)
        and any(isinstance(a, urllib3.exceptions.TimeoutError) for a in exc.args)
    ):  # a read that timed out while the body streamed in arrives as a ConnectionError
        return TransientError(f"QuickBooks did not answer in time ({type(exc).__name__})")
    if isinstance(exc, requests.RequestException):
        return TransientError(f"connection to QuickBooks failed: {type(exc).__name__}")
    if isinstance(exc, ValueError | TypeError | KeyError) and raised_in(exc, "quickbooks.client", innermost=True):
        # The SDK choking on an answer it parsed (a 200 that is JSON but not an object): ask again.
        return TransientError(f"QuickBooks answered with a body that could not be read: {str(exc)[:120]}")
    return None
