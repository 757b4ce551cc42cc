"""The OAuth scopes the connector asks for: the least each ledger needs, overridable in the config.

Xero made granular scopes mandatory for apps created on or after 2 March 2026 (the broad
``accounting.transactions`` and ``accounting.reports.read`` are refused with ``invalid_scope``
for those apps; older apps may keep them until September 2027, and switching needs fresh consent).
So the default is the granular set, and an older app can list the broad ones in
``[ledgers.xero] scopes``. What each scope is for:

- ``offline_access``: a refresh token, so syncs run without the person;
- ``accounting.invoices``: read sales invoices, leave notes in their history;
- ``accounting.payments``: post payments and overpayments;
- ``accounting.banktransactions``: the payout's bank transfer and the fee (spend money);
- ``accounting.settings``: the organisation (currency, time zone), the chart of accounts, and
  creating the clearing account in the wizard;
- ``accounting.reports.banksummary.read``: what the clearing account holds (reconciliation).

QuickBooks has one scope for the whole accounting API.
"""

from __future__ import annotations

XERO_SCOPES: tuple[str, ...] = (
    "offline_access",
    "accounting.invoices",
    "accounting.payments",
    "accounting.banktransactions",
    "accounting.settings",
    "accounting.reports.banksummary.read",
)
#: The broad scopes of a Xero app created before 2 March 2026 (until it migrates, by September 2027).
XERO_LEGACY_SCOPES: tuple[str, ...] = (
    "offline_access",
    "accounting.transactions",
    "accounting.settings",
    "accounting.reports.read",
)
QUICKBOOKS_SCOPES: tuple[str, ...] = ("com.intuit.quickbooks.accounting",)

DEFAULT_SCOPES = {"xero": XERO_SCOPES, "quickbooks": QUICKBOOKS_SCOPES}


def scopes_for(provider: str, configured: list[str] | tuple[str, ...] = ()) -> tuple[str, ...]:
    """The configured scopes when any, else the least ``provider`` needs; ``offline_access`` is
    always added for Xero, since without it there is no refresh token and every sync would stop."""
    chosen = tuple(configured) or DEFAULT_SCOPES[provider]
    if provider == "xero" and "offline_access" not in chosen:
        chosen = ("offline_access", *chosen)
    return chosen
