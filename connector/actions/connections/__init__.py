"""Connecting a ledger: consent, organisations, accounts, settings, first import, reconnect, disconnect.

The one place a connection is made, changed or let go, whoever asks: the setup wizard
(``connector/web/setup.py``), ``/connections``, and ``connector connect`` in a terminal.

**Consent.** :func:`begin_consent` stores a random ``state`` (only its SHA-256), bound to the
browser that asked (a random id from its session cookie, also hashed), single use and expiring
after 10 minutes, with a PKCE verifier for Xero (S256; Intuit does not document PKCE, so none is
sent there). :func:`complete_consent` finds nothing for a forged, replayed, stolen or late
``state``, claims the request with one conditional UPDATE (so two callbacks cannot both pass),
and only then trades the code for tokens. A refusal at the provider (``access_denied``), a
failed exchange or a bad request stores no grant, connection or token.

**Grants.** One consent is one :class:`~connector.store.models.Grant` holding the token set,
encrypted; every organisation ticked in that consent becomes a connection pointing at it. Xero
issues one token pair per consent for all its tenants: two copies would rotate each other's
refresh token away.

**Config and database.** Connections made here have ``origin = "web"``. ``[[connections]]`` in
the config file are copied into the database on every start and overwrite a row of the same name
(``store/connections.py``), so the file wins on a clash; the wizard therefore refuses a name the
file uses, and leaves the settings of a file's connection to the file.

**The modules**, one step each: ``consent`` (and a reconnect's fresh tokens), ``organisations``,
``accounts``, ``settings``, ``first_import``, ``manage`` (list, brief, disconnect); ``grants``
holds the token stores, ``common`` what they share. Import the names from here.
"""

from __future__ import annotations

from connector.actions.connections.accounts import (
    AccountsView,
    chart_of_accounts,
    create_clearing_account,
    save_accounts,
)
from connector.actions.connections.common import PROVIDERS, FieldErrors
from connector.actions.connections.consent import (
    CONSENT_TTL,
    INTUIT_AUTHORIZE_URL,
    INTUIT_TOKEN_URL,
    ConsentDone,
    ConsentStart,
    begin_consent,
    complete_consent,
    oauth_client,
)
from connector.actions.connections.first_import import ImportProgress, import_progress, start_first_import
from connector.actions.connections.grants import GrantTokens, MemoryTokens
from connector.actions.connections.manage import (
    ConnectionSummary,
    DisconnectOutcome,
    connection_brief,
    disconnect,
    in_setup,
    list_connections,
)
from connector.actions.connections.organisations import (
    CHOOSE_TTL,
    NAME_PATTERN,
    Organisation,
    choose_organisations,
    consent_organisations,
)
from connector.actions.connections.settings import CUSTOMER_NOTICES, SETTINGS_DEFAULTS, current_settings, save_settings
from connector.actions.errors import InvalidInput, NotFound, RefusedAction
from connector.ledgers.chart import CLEARING_NAME

__all__ = [
    "CHOOSE_TTL",
    "CLEARING_NAME",
    "CONSENT_TTL",
    "CUSTOMER_NOTICES",
    "INTUIT_AUTHORIZE_URL",
    "INTUIT_TOKEN_URL",
    "NAME_PATTERN",
    "PROVIDERS",
    "SETTINGS_DEFAULTS",
    "AccountsView",
    "ConnectionSummary",
    "ConsentDone",
    "ConsentStart",
    "DisconnectOutcome",
    "FieldErrors",
    "GrantTokens",
    "ImportProgress",
    "InvalidInput",
    "MemoryTokens",
    "NotFound",
    "Organisation",
    "RefusedAction",
    "begin_consent",
    "chart_of_accounts",
    "choose_organisations",
    "complete_consent",
    "connection_brief",
    "consent_organisations",
    "create_clearing_account",
    "current_settings",
    "disconnect",
    "import_progress",
    "in_setup",
    "list_connections",
    "oauth_client",
    "save_accounts",
    "save_settings",
    "start_first_import",
]
