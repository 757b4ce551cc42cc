"""What the setup wizard asks of QuickBooks Online besides syncing: the company's name, the chart
of accounts, creating the clearing account, and revoking the grant on disconnect.

Through the adapter's own clients (:class:`~connector.ledgers.quickbooks.QuickBooksLedger`: its
python-quickbooks session, intuit-oauth ``AuthClient``, limiter, retries and call count).
Intuit does not document PKCE, so none of this (nor the consent) sends a code verifier.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from intuitlib.exceptions import AuthClientError

from connector.ledgers.chart import CLEARING_NAME, ChartAccount
from connector.ledgers.errors import ReconnectRequired, TransientError, ValidationError
from connector.ledgers.quickbooks import QuickBooksLedger, qbo_string

#: Where platform payments can land: a Bank account, or an Other Current Asset (like Undeposited Funds).
CLEARING_TYPES = frozenset({"Bank", "Other Current Asset"})
FEE_TYPES = frozenset({"Expense", "Other Expense"})


def company_name(ledger: QuickBooksLedger) -> str:
    """``GET /companyinfo/{realmId}``: the name the person knows the company by."""
    body = ledger._call("companyinfo", lambda: ledger._qb().get_single_object("CompanyInfo", ledger.realm_id))
    info = body.get("CompanyInfo") if isinstance(body, dict) else None
    if not isinstance(info, dict):
        raise TransientError("QuickBooks answered CompanyInfo without the company")
    return str(info.get("CompanyName") or info.get("LegalName") or ledger.realm_id)


def chart(ledger: QuickBooksLedger, home_currency: str) -> list[ChartAccount]:
    """Active accounts with the roles each can take (clearing: Bank or Other Current Asset)."""
    out = []
    position = 1
    while True:
        body = ledger._query(f"SELECT * FROM Account WHERE Active = true STARTPOSITION {position} MAXRESULTS 1000")
        rows = (body.get("QueryResponse") or {}).get("Account") or []
        for raw in rows:
            kind = str(raw.get("AccountType", ""))
            roles: set[str] = set()
            if kind in CLEARING_TYPES:
                roles.add("clearing")
            if kind == "Bank":
                roles.add("bank")
            if kind in FEE_TYPES:
                roles.add("fees")
            currency = str((raw.get("CurrencyRef") or {}).get("value") or home_currency)
            name = str(raw.get("FullyQualifiedName") or raw.get("Name") or "")
            out.append(ChartAccount(str(raw["Id"]), name, kind, currency, frozenset(roles)))
        if len(rows) < 1000:
            break
        position += 1000
    return sorted(out, key=lambda a: a.name.lower())


def create_clearing(ledger: QuickBooksLedger, home_currency: str) -> ChartAccount:
    """``POST /account``: a Bank account named "Payments platform clearing" in the home currency."""
    body = {
        "Name": CLEARING_NAME,
        "AccountType": "Bank",
        "AccountSubType": "CashOnHand",
        "Description": "Money the payments platform collected, until it is paid out (made by the connector's setup)",
        "CurrencyRef": {"value": home_currency},
    }
    try:
        answer = ledger._call("account_write", lambda: ledger._qb().create_object("Account", json.dumps(body)))
    except ValidationError as exc:
        raise ValidationError(f"QuickBooks did not create the account: {exc}") from None
    made = answer.get("Account") if isinstance(answer, dict) else None
    if not isinstance(made, dict) or not made.get("Id"):
        raise ValidationError("QuickBooks did not create the account")
    return ChartAccount(str(made["Id"]), str(made.get("Name") or CLEARING_NAME), "Bank", home_currency,
                        frozenset({"clearing", "bank"}))


def find_by_name(ledger: QuickBooksLedger, name: str) -> str | None:
    """The id of the active account named ``name``, if there is one (QBO names are unique)."""
    body = ledger._query(f"SELECT * FROM Account WHERE Name = {qbo_string(name)}")
    rows = (body.get("QueryResponse") or {}).get("Account") or []
    return str(rows[0]["Id"]) if rows else None


def revoke(ledger: QuickBooksLedger, token: dict[str, Any]) -> None:
    """Intuit's revoke endpoint with the refresh token: the app is disconnected from the company."""
    auth = ledger._auth(token)
    ledger.calls.add("token_revoke")
    try:
        auth.revoke(token=token.get("refresh_token") or token.get("access_token"))
    except AuthClientError as exc:
        if exc.status_code in (400, 401):
            raise ReconnectRequired("Intuit no longer knows this grant", http_status=exc.status_code) from None
        raise TransientError("Intuit did not revoke the token", http_status=exc.status_code) from None
    except requests.RequestException as exc:
        raise TransientError(f"Intuit's revoke endpoint did not answer ({type(exc).__name__})") from None
