"""What the setup wizard asks of Xero besides syncing: organisations, the chart of accounts,
creating the clearing account, and letting go (disconnect and revoke).

Everything goes through the adapter's own SDK clients (:class:`~connector.ledgers.xero.XeroLedger`:
its ``identity`` and ``accounting`` APIs, its token handling, limiter, retries and call count), so
a wizard call refreshes a token exactly like a sync does.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from xero_python.accounting.models import Account, AccountType
from xero_python.api_client.oauth2 import TokenApi
from xero_python.exceptions import HTTPStatusException

from connector.ledgers.chart import CLEARING_NAME, ChartAccount
from connector.ledgers.errors import NotFound, ReconnectRequired, TransientError, ValidationError
from connector.ledgers.xero import XeroLedger

#: Xero's expense-side account types (class EXPENSE): where a fee can be booked.
EXPENSE_TYPES = frozenset({"EXPENSE", "OVERHEADS", "DIRECTCOSTS", "DEPRECIATN"})


@dataclass(frozen=True, slots=True)
class XeroTenantLink:
    """One organisation a grant reaches: Xero's connection id (for DELETE) and the tenant."""

    connection_id: str
    tenant_id: str
    name: str
    auth_event_id: str


def tenant_links(ledger: XeroLedger) -> list[XeroTenantLink]:
    """``GET /connections``: the organisations this token may reach, with their connection ids."""
    found = ledger._call(
        "connections", lambda: ledger.identity.get_connections(_request_timeout=ledger.retry.timeouts)
    )
    return [
        XeroTenantLink(str(c.id), str(c.tenant_id), str(c.tenant_name or ""), str(c.auth_event_id or ""))
        for c in found or []
        if str(getattr(c, "tenant_type", "ORGANISATION") or "ORGANISATION") == "ORGANISATION"
    ]


def chart(ledger: XeroLedger, base_currency: str) -> list[ChartAccount]:
    """Active accounts (with a code) and what each can be: clearing and bank need a BANK account (a bank
    transfer moves the payout, and Xero transfers only between bank accounts), fees an expense."""

    def call() -> dict[str, Any]:
        response = ledger.accounting.get_accounts(
            ledger.tenant_id, _preload_content=False, _request_timeout=ledger.retry.timeouts
        )
        return _body(response.data)

    out = []
    for raw in ledger._call("accounts_read", call).get("Accounts") or []:
        if str(raw.get("Status", "ACTIVE")) != "ACTIVE":
            continue
        kind = str(raw.get("Type", ""))
        code = str(raw.get("Code") or "")
        currency = str(raw.get("CurrencyCode") or base_currency)
        roles: set[str] = set()
        problem = None
        if kind == "BANK":
            roles |= {"clearing", "bank"}
            if not code:
                problem = "has no code in Xero: give it one (Accounting › Chart of accounts) to use it here"
        elif kind in EXPENSE_TYPES or str(raw.get("Class", "")) == "EXPENSE":
            roles.add("fees")
        if not code and not problem:
            continue  # an account the connector could never name (no code): nothing to choose
        out.append(
            ChartAccount(
                ref=code or str(raw.get("AccountID")),
                name=str(raw.get("Name", "")),
                ledger_type=kind,
                currency=currency,
                roles=frozenset(roles),
                problem=problem,
                code=code or None,
            )
        )
    return sorted(out, key=lambda a: (a.code or "", a.name))


def create_clearing(ledger: XeroLedger, base_currency: str, taken_codes: set[str]) -> ChartAccount:
    """``PUT /Accounts``: a bank account named "Payments platform clearing" in the base currency.

    Xero wants a bank account number for a BANK account; the clearing account holds money only
    between a collection and its payout, so it gets a made-up number marked as such.
    """
    candidates = [f"09{n}" for n in range(5, 10)] + [f"CLR{n}" for n in range(1, 100)]
    code = next(c for c in candidates if c not in taken_codes)
    account = Account(
        code=code,
        name=CLEARING_NAME,
        type=AccountType.BANK,  # the SDK serialises only its enum, never the bare word
        bank_account_number=f"CLEARING-{secrets.randbelow(10**6):06d}",
        description="Money the payments platform collected, until it is paid out (made by the connector's setup)",
    )
    created = ledger._call(
        "accounts_write",
        lambda: ledger.accounting.create_account(ledger.tenant_id, account, _request_timeout=ledger.retry.timeouts),
    )
    made = (getattr(created, "accounts", None) or [None])[0]
    errors = [str(e.message) for e in (getattr(made, "validation_errors", None) or []) if e.message]
    if made is None or errors:
        raise ValidationError("; ".join(errors) or "Xero did not create the account")
    return ChartAccount(code, CLEARING_NAME, "BANK", base_currency, frozenset({"clearing", "bank"}), code=code)


def disconnect_tenant(ledger: XeroLedger, tenant_id: str) -> bool:
    """``DELETE /connections/{id}`` for this organisation; False when it was no longer connected."""
    for link in tenant_links(ledger):
        if link.tenant_id == tenant_id:
            try:
                ledger._call(
                    "connections",
                    lambda gone=link.connection_id: ledger.identity.delete_connection(
                        gone, _request_timeout=ledger.retry.timeouts
                    ),
                )
            except NotFound:
                return False
            return True
    return False


def revoke(ledger: XeroLedger, refresh_token: str) -> None:
    """Revoke the grant's refresh token: Xero ends the grant and every connection it made."""
    api = TokenApi(ledger.api_client, ledger.app.client_id, ledger.app.client_secret)
    api.revoke_token_url = revocation_url(ledger.app.token_url)
    ledger.calls.add("token_revoke")
    try:
        api.revoke_token(refresh_token)  # not through the retrying runner: a 401 here is no expired token
    except HTTPStatusException as exc:
        if exc.status in (400, 401):
            raise ReconnectRequired("Xero no longer knows this grant", http_status=exc.status) from None
        raise TransientError("Xero did not revoke the token", http_status=exc.status) from None
    except Exception as exc:  # the SDK raises a bare Exception for a non-200 it did not map
        raise TransientError(f"Xero did not revoke the token ({type(exc).__name__})") from None


def revocation_url(token_url: str) -> str:
    """Xero's revocation endpoint sits next to its token endpoint (``…/connect/revocation``)."""
    return token_url.rsplit("/", 1)[0] + "/revocation"


def _body(data: bytes) -> dict[str, Any]:
    try:
        body = json.loads(data, parse_float=Decimal)
    except ValueError:
        raise TransientError("Xero answered with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise TransientError("Xero answered with JSON that is not an object")
    return body
