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
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import func, select, update

from connector.actions.context import Actor
from connector.actions.errors import InvalidInput, NotFound, RefusedAction
from connector.config import Config, ConnectionConfig
from connector.ledgers.chart import CLEARING_NAME, ChartAccount
from connector.ledgers.errors import LedgerError, ReconnectRequired, TransientError, ValidationError
from connector.ledgers.oauth import OAuthClient, consent_url, exchange_code, new_code_verifier, new_state
from connector.ledgers.quickbooks import QuickBooksLedger
from connector.ledgers.scopes import scopes_for
from connector.ledgers.xero import XERO_AUTHORIZE_URL, XERO_TOKEN_URL, XeroLedger
from connector.runtime import Runtime
from connector.store.connections import settings_of
from connector.store.models import Connection, Grant, Invoice, OAuthRequest, SyncRun
from connector.store.secrets import TokenSet, token_holder
from connector.store.types import utcnow
from connector.sync.connect import ledger_for, quickbooks_app, vault_for, xero_app

log = logging.getLogger("connector.connections")

PROVIDERS = {"xero": "Xero", "quickbooks": "QuickBooks Online"}
INTUIT_AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
INTUIT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
#: How long a consent may take, from the click on "Connect" to the provider sending the person back.
CONSENT_TTL = timedelta(minutes=10)
#: How long after consent the organisations may still be chosen with that grant.
CHOOSE_TTL = timedelta(hours=1)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

_RESTART = "Start again from the setup page."


class FieldErrors(InvalidInput):
    """Several inputs are wrong at once: ``errors`` maps each field to what is wrong with it,
    so a form can show every message next to its own field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        first = next(iter(self.errors))
        super().__init__("; ".join(self.errors.values()), field=first)


# --- consent -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentStart:
    """Where to send the person (the provider's consent page), and the request it belongs to."""

    url: str
    request_id: int


@dataclass(frozen=True, slots=True)
class ConsentDone:
    """A consent that came back good: what to do next depends on ``purpose``."""

    request_id: int
    provider: str
    purpose: str
    #: The reconnected connection (purpose "reconnect").
    connection_id: int | None = None


def oauth_client(config: Config, provider: str) -> OAuthClient:
    """The OAuth client of ``provider`` from ``[ledgers.<provider>]``, real endpoints by default."""
    _check_provider(provider)
    app = getattr(config.ledgers, provider)
    if not app.client_id:
        raise InvalidInput(
            f"{PROVIDERS[provider]} is not set up yet: put the app's client_id in [ledgers.{provider}] of the "
            f"config file and its secret in the variable named by client_secret_env (see docs/setup.md)",
            field="provider",
        )
    defaults = (
        (XERO_AUTHORIZE_URL, XERO_TOKEN_URL) if provider == "xero" else (INTUIT_AUTHORIZE_URL, INTUIT_TOKEN_URL)
    )
    return OAuthClient(
        client_id=app.client_id,
        client_secret=app.client_secret(),
        authorize_url=app.authorize_url or defaults[0],
        token_url=app.token_url or defaults[1],
        redirect_uri=app.redirect_uri,
        scopes=scopes_for(provider, app.scopes),
    )


def begin_consent(
    rt: Runtime,
    provider: str,
    *,
    browser: str,
    actor: Actor,
    purpose: str = "connect",
    connection_id: int | None = None,
) -> ConsentStart:
    """Remember a consent in flight and give the provider's URL to send the person to."""
    client = oauth_client(rt.config, provider)
    if purpose not in ("connect", "reconnect"):
        raise InvalidInput(f"unknown purpose {purpose!r}", field="purpose")
    if not browser:
        raise InvalidInput("this browser has no session: log in again", field="browser")
    state = new_state()
    verifier = new_code_verifier() if provider == "xero" else None  # Intuit documents no PKCE
    with rt.transaction() as session:
        if purpose == "reconnect":
            row = _connection(session, connection_id)
            if row.provider != provider:
                raise InvalidInput(f"{row.name} is a {PROVIDERS[row.provider]} connection", field="provider")
        request = OAuthRequest(
            state_hash=_digest(state),
            browser=_digest(browser),
            provider=provider,
            purpose=purpose,
            connection_id=connection_id,
            code_verifier=verifier,
            requested_by=actor.name,
            expires_at=utcnow() + CONSENT_TTL,
        )
        session.add(request)
        session.flush()
        request_id = request.id
    return ConsentStart(consent_url(client, state, code_verifier=verifier), request_id)


def complete_consent(
    rt: Runtime,
    *,
    state: str | None,
    browser: str | None,
    code: str | None = None,
    error: str | None = None,
    realm_id: str | None = None,
) -> ConsentDone:
    """Check the provider's answer and, when it is a good one, keep the tokens in a new grant.

    Raises :class:`RefusedAction` with a plain message, having stored no grant, connection or
    token, for: a ``state`` this browser did not start (forged, stolen), one already used
    (replayed), one older than 10 minutes, a refusal at the provider, and a code the provider
    will not exchange.
    """
    request = _claim(rt, state or "", browser or "")
    provider = request.provider
    name = PROVIDERS[provider]
    if error:
        if error == "access_denied":
            raise RefusedAction(
                f"You chose not to allow access in {name}, so nothing was connected. "
                f"To connect, start again and click Allow on {name}'s page."
            )
        raise RefusedAction(f"{name} did not give access ({_word(error)}), so nothing was connected. {_RESTART}")
    if not code:
        raise RefusedAction(f"{name} sent the browser back without a code, so nothing was connected. {_RESTART}")
    if provider == "quickbooks" and not realm_id:
        raise RefusedAction(f"{name} did not say which company was chosen, so nothing was connected. {_RESTART}")
    client = oauth_client(rt.config, provider)
    try:
        token = exchange_code(client, code, code_verifier=request.code_verifier)
    except ReconnectRequired as exc:
        raise RefusedAction(
            f"{name} did not accept this sign-in ({exc.code or 'refused'}), so nothing was connected. {_RESTART}"
        ) from None
    except TransientError:
        raise RefusedAction(
            f"{name} could not be reached to finish signing in, so nothing was connected. Try again in a minute."
        ) from None
    if not token.get("scope"):
        token["scope"] = list(client.scopes)  # Intuit's token answer names no scope
    if request.purpose == "reconnect":
        return _finish_reconnect(rt, request, token, realm_id)
    with rt.transaction() as session:
        grant = Grant(provider=provider, scopes=" ".join(token["scope"]), created_by=request.requested_by)
        session.add(grant)
        vault_for(rt.config).save(session, grant, TokenSet(token))
        session.flush()
        row = session.get(OAuthRequest, request.id)
        row.grant_id = grant.id
        row.realm_id = realm_id
    log.info("consent for %s completed by %s (grant #%s)", provider, request.requested_by, grant.id)
    return ConsentDone(request.id, provider, "connect")


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    provider: str
    purpose: str
    connection_id: int | None
    code_verifier: str | None
    requested_by: str


def _claim(rt: Runtime, state: str, browser: str) -> _Claimed:
    """The request this ``state`` belongs to, used up now; refused unless this browser started it."""
    unknown = RefusedAction(
        "This sign-in was not started from this browser, or it was already used, so nothing was connected. "
        + _RESTART
    )
    if not state or not browser:
        raise unknown
    with rt.transaction() as session:
        request = session.scalar(select(OAuthRequest).where(OAuthRequest.state_hash == _digest(state)))
        if request is None or not secrets.compare_digest(request.browser, _digest(browser)):
            raise unknown
        if request.used_at is not None:
            raise unknown
        if request.expires_at < utcnow():
            raise RefusedAction(
                f"The sign-in took longer than {int(CONSENT_TTL.total_seconds() // 60)} minutes, "
                f"so nothing was connected. {_RESTART}"
            )
        claimed = session.execute(
            update(OAuthRequest)
            .where(OAuthRequest.id == request.id, OAuthRequest.used_at.is_(None))
            .values(used_at=utcnow())
        )
        if claimed.rowcount != 1:
            raise unknown
        out = _Claimed(
            request.id, request.provider, request.purpose, request.connection_id,
            request.code_verifier, request.requested_by,
        )
        request.code_verifier = None  # spent either way: it is never needed again
    return out


# --- organisations -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Organisation:
    """One organisation the consent reaches, as the "choose organisation" step shows it."""

    tenant_id: str
    name: str
    suggested_name: str
    #: The connection it is already connected as (not offered again), if any.
    connected_as: str | None = None


def consent_organisations(rt: Runtime, request_id: int, browser: str) -> tuple[str, list[Organisation]]:
    """The provider and the organisations this consent reaches: Xero's tenants from
    ``GET /connections``; QuickBooks' one company, named by the callback's ``realmId``."""
    request, grant_id = _chosen_request(rt, request_id, browser)
    links = _organisations_of(rt, request.provider, grant_id, request.realm_id)
    with rt.sessions() as session:
        rows = list(session.scalars(select(Connection).where(Connection.provider == request.provider)))
    connected = {r.tenant_id: r.name for r in rows if r.state != "disconnected"}
    taken = _taken_names(rt)
    out = []
    for tenant_id, name in links:
        suggestion = _suggest(name, taken)
        taken.add(suggestion)
        out.append(Organisation(tenant_id, name, suggestion, connected.get(tenant_id)))
    return request.provider, out


def choose_organisations(
    rt: Runtime, request_id: int, browser: str, chosen: Mapping[str, str], *, actor: Actor
) -> list[int]:
    """One connection per chosen organisation (tenant id → connection name), all sharing the
    consent's grant, in state "setup" until accounts and settings are saved.

    A disconnected connection of the same organisation is taken up again, history and all.
    """
    if not chosen:
        raise FieldErrors({"tenant": "Tick at least one organisation to connect."})
    request, grant_id = _chosen_request(rt, request_id, browser)
    offered = dict(_organisations_of(rt, request.provider, grant_id, request.realm_id))
    config_names = {c.name for c in rt.config.connections}
    errors: dict[str, str] = {}
    names = {}
    for tenant_id, wanted in chosen.items():
        if tenant_id not in offered:
            raise RefusedAction("That organisation is not one this consent covers. " + _RESTART)
        names[tenant_id] = (wanted or "").strip() or _suggest(offered[tenant_id], _taken_names(rt))
        problem = _name_problem(names[tenant_id], config_names)
        if problem:
            errors[f"name-{tenant_id}"] = problem
    if len(set(names.values())) != len(names):
        errors.setdefault("tenant", "Give each organisation its own connection name.")
    if errors:
        raise FieldErrors(errors)
    made = []
    with rt.transaction() as session:
        if session.scalar(select(func.count()).select_from(Connection).where(Connection.grant_id == grant_id)):
            raise RefusedAction("These organisations were already chosen. Continue at the setup page.")
        same_provider = select(Connection).where(Connection.provider == request.provider)
        rows = {r.tenant_id: r for r in session.scalars(same_provider)}
        for tenant_id, name in names.items():
            existing = rows.get(tenant_id)
            clash = session.scalar(select(Connection).where(Connection.name == name))
            if existing is not None and existing.state != "disconnected":
                raise RefusedAction(f"{offered[tenant_id]} is already connected, as {existing.name}.")
            if clash is not None and clash is not existing:
                raise FieldErrors({f"name-{tenant_id}": f"There is already a connection named {name}."})
            row = existing or Connection(provider=request.provider, tenant_id=tenant_id, origin="web")
            if existing is None:
                session.add(row)
            row.name = name
            row.tenant_name = offered[tenant_id]
            row.state = "setup"
            row.state_reason = None
            row.paused_until = None
            row.grant_id = grant_id
            row.token_ciphertext = None
            row.settings = {**(row.settings or {}), "enabled": True, "connected_by": actor.name}
            session.flush()
            made.append(row.id)
    log.info("%s chose %d %s organisation(s)", actor.name, len(made), request.provider)
    return made


def _chosen_request(rt: Runtime, request_id: int, browser: str) -> tuple[OAuthRequest, int]:
    with rt.sessions() as session:
        request = session.get(OAuthRequest, request_id)
        if (
            request is None
            or request.grant_id is None
            or request.purpose != "connect"
            or not secrets.compare_digest(request.browser, _digest(browser or ""))
        ):
            raise NotFound("There is no finished sign-in to choose organisations from. " + _RESTART)
        if request.created_at + CHOOSE_TTL < utcnow():
            raise RefusedAction("This sign-in is more than an hour old. " + _RESTART)
        session.expunge(request)
        return request, request.grant_id


def _organisations_of(rt: Runtime, provider: str, grant_id: int, realm_id: str | None) -> list[tuple[str, str]]:
    from connector.ledgers import quickbooks_setup, xero_setup

    tokens = GrantTokens(rt, grant_id)
    try:
        if provider == "xero":
            ledger = XeroLedger(xero_app(rt.config), "", tokens)
            return [(link.tenant_id, link.name) for link in xero_setup.tenant_links(ledger)]
        assert realm_id is not None
        qbo = QuickBooksLedger(quickbooks_app(rt.config), realm_id, tokens)
        return [(realm_id, quickbooks_setup.company_name(qbo))]
    except LedgerError as exc:
        raise RefusedAction(f"{PROVIDERS[provider]} did not list the organisations: {exc}. Try again.") from None


# --- accounts ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountsView:
    """The chart of accounts for the "choose accounts" step, with what is chosen so far."""

    connection_id: int
    name: str
    provider: str
    organisation: str
    base_currency: str
    accounts: list[ChartAccount]
    chosen: dict[str, str] = field(default_factory=dict)

    def for_role(self, role: str) -> list[ChartAccount]:
        return [a for a in self.accounts if role in a.roles]


def chart_of_accounts(rt: Runtime, connection_id: int) -> AccountsView:
    """The organisation's accounts read live from the ledger, and its base currency (kept)."""
    row, ledger = _ledger(rt, connection_id)
    try:
        currency = _base_currency(rt, row, ledger)
        accounts = _chart(ledger, currency)
    except LedgerError as exc:
        raise RefusedAction(_ledger_trouble(row.provider, exc)) from None
    chosen = dict((row.settings or {}).get("accounts") or {})
    return AccountsView(row.id, row.name, row.provider, row.tenant_name or row.name, currency, accounts, chosen)


def create_clearing_account(rt: Runtime, connection_id: int, *, actor: Actor) -> tuple[ChartAccount, bool]:
    """Make a "Payments platform clearing" account in the ledger (a bank account, in the
    organisation's currency), or find the one already there; True when it was made now."""
    from connector.ledgers import quickbooks_setup, xero_setup

    row, ledger = _ledger(rt, connection_id)
    _only_setup_or_web(row)
    try:
        currency = _base_currency(rt, row, ledger)
        accounts = _chart(ledger, currency)
        same = [a for a in accounts if a.name.strip().lower() == CLEARING_NAME.lower() and "clearing" in a.roles]
        if same and not same[0].problem:
            return same[0], False
        if isinstance(ledger, XeroLedger):
            made = xero_setup.create_clearing(ledger, currency, {a.code for a in accounts if a.code})
        else:
            made = quickbooks_setup.create_clearing(ledger, currency)
    except ValidationError as exc:
        raise RefusedAction(f"{PROVIDERS[row.provider]} did not create the account: {exc}") from None
    except LedgerError as exc:
        raise RefusedAction(_ledger_trouble(row.provider, exc)) from None
    log.info("%s created the clearing account %s in %s", actor.name, made.ref, row.name)
    return made, True


def save_accounts(
    rt: Runtime, connection_id: int, *, clearing: str, bank: str, fees: str, actor: Actor
) -> dict[str, str]:
    """Check the three accounts against the live chart and keep them with the connection.

    Clearing ≠ bank; every account in the organisation's currency; the fee account an expense;
    clearing able to take payments and send the payout (Xero: a bank account with a code, as
    payments and bank transfers name accounts by code; QuickBooks: Bank or Other Current Asset).
    Every problem is returned at once, each for its own field.
    """
    chosen = {"clearing": (clearing or "").strip(), "bank": (bank or "").strip(), "fees": (fees or "").strip()}
    view = chart_of_accounts(rt, connection_id)
    _only_setup_or_web_id(rt, connection_id)
    by_ref = {a.ref: a for a in view.accounts}
    what = {
        "clearing": "the clearing account (where platform payments land)",
        "bank": "the bank account payouts arrive in",
        "fees": "the account for the platform's fees",
    }
    errors: dict[str, str] = {}
    for role, ref in chosen.items():
        account = by_ref.get(ref)
        if not ref:
            errors[role] = f"Choose {what[role]}."
        elif account is None:
            errors[role] = f"That account is not in {view.organisation}'s chart of accounts any more: choose again."
        elif role not in account.roles:
            errors[role] = _wrong_kind(view.provider, role)
        elif account.problem:
            errors[role] = f"{account.name} {account.problem}."
        elif account.currency != view.base_currency:
            errors[role] = (
                f"{account.name} is in {account.currency}, but {view.organisation} keeps its books in "
                f"{view.base_currency}: choose an account in {view.base_currency}."
            )
    if chosen["clearing"] and chosen["clearing"] == chosen["bank"] and "bank" not in errors:
        errors["bank"] = (
            "The bank account must be a different account from the clearing account: payouts move money "
            "from clearing to the bank."
        )
    if errors:
        raise FieldErrors(errors)
    with rt.transaction() as session:
        row = session.get(Connection, connection_id)
        row.settings = {**(row.settings or {}), "accounts": chosen}
    log.info("%s chose the accounts of %s", actor.name, view.name)
    return chosen


def _wrong_kind(provider: str, role: str) -> str:
    if role == "fees":
        return "The fee account must be an expense account."
    if provider == "xero":
        return (
            "Choose a bank account: Xero moves a payout from the clearing account to the bank with a bank "
            "transfer, which only works between bank accounts."
        )
    if role == "clearing":
        return "Choose a Bank or Other Current Asset account: QuickBooks deposits payments only into those."
    return "Choose a Bank account."


# --- settings ------------------------------------------------------------------------------------

#: What the settings form sends, with the defaults the wizard preselects.
#: The customer notices a connection may send (connector/config.py ``customer_notices``).
CUSTOMER_NOTICES = ("status_changed", "request_sent", "collection_failed", "payment_confirmed")
SETTINGS_DEFAULTS = {
    "collection_mode": "auto_collect",
    "lead_days": "3",
    "max_attempts": "3",
    "intervals": "3, 5, 7",
    "post_payment_at": "paid",
    #: Comma-separated kinds switched on, and "on"/"off" for notes on the ledger's invoices.
    "notices": ",".join(CUSTOMER_NOTICES),
    "ledger_notes": "on",
}
_FORM_FIELDS = {
    ("collection_mode",): "collection_mode",
    ("post_payment_at",): "post_payment_at",
    ("lead_days",): "lead_days",
    ("retry", "max_attempts"): "max_attempts",
    ("retry", "intervals"): "intervals",
}


def current_settings(rt: Runtime, connection_id: int) -> dict[str, str]:
    """The settings form's values for a connection: what it has, else the defaults."""
    with rt.sessions() as session:
        row = _connection(session, connection_id)
        settings = row.settings or {}
        if "lead_days" not in settings:
            return dict(SETTINGS_DEFAULTS)
        retry = settings.get("retry") or {}
        return {
            "collection_mode": row.collection_mode,
            "lead_days": str(settings.get("lead_days", 3)),
            "max_attempts": str(retry.get("max_attempts", 3)),
            "intervals": ", ".join(str(d) for d in retry.get("interval_days") or [3, 5, 7]),
            "post_payment_at": str(settings.get("post_payment_at", "paid")),
            "notices": ",".join(settings.get("customer_notices", CUSTOMER_NOTICES)),
            "ledger_notes": "on" if settings.get("ledger_notes", True) else "off",
        }


def save_settings(rt: Runtime, connection_id: int, form: Mapping[str, str], *, actor: Actor) -> dict[str, str]:
    """Validate the collection settings with the config file's own rules and keep them.

    The values go through :class:`~connector.config.ConnectionConfig`, so a setting made here
    obeys exactly what a ``[[connections]]`` block would. A connection from the config file
    takes its settings from the file: refused here.
    """
    values = {k: str(form.get(k, SETTINGS_DEFAULTS[k])).strip() for k in SETTINGS_DEFAULTS}
    if form.get("notices_shown"):  # the form's checkboxes: an unticked box is simply absent
        values["notices"] = ",".join(k for k in CUSTOMER_NOTICES if form.get(f"notice_{k}"))
        values["ledger_notes"] = "on" if form.get("ledger_notes") else "off"
    else:  # a form without them (a script, an older page) leaves them as they are
        kept = current_settings(rt, connection_id)
        values["notices"], values["ledger_notes"] = kept["notices"], kept["ledger_notes"]
    errors: dict[str, str] = {}
    days: list[str] = []
    for part in re.split(r"[,\s]+", values["intervals"]):
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            errors["intervals"] = "Write whole numbers of days, separated by commas, such as 3, 5, 7."
            break
        days.append(f"{int(part)}d")
    if not days and "intervals" not in errors:
        errors["intervals"] = "Give at least one number of days between tries, such as 3."
    for key in ("lead_days", "max_attempts"):
        if not re.fullmatch(r"\d{1,3}", values[key]):
            errors[key] = "Write a whole number."
    with rt.sessions() as session:
        row = _connection(session, connection_id)
        _only_setup_or_web(row)
        # Settings may come before accounts (edited later): placeholders pass the accounts' own rule.
        accounts = (row.settings or {}).get("accounts") or {"clearing": "?", "bank": "??", "fees": "?"}
        name, provider = row.name, row.provider
    # Pydantic checks every field, even next to one already found wrong (each gets its message).
    number = {k: int(values[k]) if k not in errors else SETTINGS_DEFAULTS[k] for k in ("lead_days", "max_attempts")}
    entry: ConnectionConfig | None = None
    try:
        entry = ConnectionConfig.model_validate(
            {
                "name": name,
                "provider": provider,
                "accounts": accounts,
                "collection_mode": values["collection_mode"],
                "post_payment_at": values["post_payment_at"],
                "lead_days": int(number["lead_days"]),
                "retry": {"max_attempts": int(number["max_attempts"]), "intervals": days or ["1d"]},
                "customer_notices": [k for k in values["notices"].split(",") if k],
                "ledger_notes": values["ledger_notes"] == "on",
            }
        )
    except PydanticValidationError as exc:
        for problem in exc.errors():
            key = _FORM_FIELDS.get(tuple(str(p) for p in problem["loc"][:2])) or _FORM_FIELDS.get(
                tuple(str(p) for p in problem["loc"][:1])
            )
            errors.setdefault(key or "collection_mode", _plain(key, problem))
    if errors or entry is None:
        raise FieldErrors(errors or {"collection_mode": "These settings cannot be used."})
    learned = settings_of(entry)
    learned.pop("accounts")
    with rt.transaction() as session:
        row = session.get(Connection, connection_id)
        row.collection_mode = entry.collection_mode.value
        row.settings = {**(row.settings or {}), **learned}
    log.info("%s saved the collection settings of %s", actor.name, name)
    return values


def _plain(key: str | None, problem: dict[str, Any]) -> str:
    """Pydantic's complaint, said for the person at the form."""
    plain = {
        "collection_mode": "Choose direct debit or payment request.",
        "post_payment_at": "Choose when a payment is written to your books.",
        "lead_days": "Lead days are a whole number from 0 to 60.",
        "max_attempts": "Tries are a whole number from 1 to 10.",
        "intervals": "Write whole numbers of days, separated by commas, such as 3, 5, 7.",
    }
    return plain.get(key or "", str(problem.get("msg", "not valid")).removeprefix("Value error, "))


# --- first import --------------------------------------------------------------------------------


def start_first_import(rt: Runtime, connection_id: int, *, actor: Actor) -> str:
    """Make a set-up connection active, so a sync may run; returns its name for the sync.

    The web shell runs :func:`connector.actions.sync.run_sync` for it in the background; the
    daemon picks it up on its schedule as well. Already active: nothing to change.
    """
    with rt.transaction() as session:
        row = _connection(session, connection_id)
        settings = row.settings or {}
        if row.state == "setup":
            if not settings.get("accounts"):
                raise RefusedAction("Choose the accounts first.", field="accounts")
            if "lead_days" not in settings:
                raise RefusedAction("Save the collection settings first.", field="settings")
            row.state = "active"
            row.state_reason = None
            log.info("%s started the first import of %s", actor.name, row.name)
        elif row.state == "disconnected":
            raise RefusedAction(f"{row.name} is disconnected: reconnect it first.")
        return row.name


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """How the first (or latest) import of a connection is going: for the progress bar."""

    connection_id: int
    name: str
    #: waiting (no run yet) | running | succeeded | failed | interrupted | skipped
    state: str
    fetched: int = 0
    placed: int = 0
    pages: int = 0
    invoices: int = 0
    scheduled: int = 0
    error: str | None = None
    finished_at: datetime | None = None
    next_sync_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state not in ("waiting", "running")

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "finished": self.finished,
            "fetched": self.fetched,
            "placed": self.placed,
            "pages": self.pages,
            "invoices": self.invoices,
            "scheduled": self.scheduled,
            "error": self.error,
            "next_sync_at": self.next_sync_at.isoformat(timespec="minutes") if self.next_sync_at else None,
        }


def import_progress(rt: Runtime, connection_id: int) -> ImportProgress:
    """Read from the connection's latest sync run, whose counts the runner updates every page."""
    with rt.sessions() as session:
        row = _connection(session, connection_id)
        run = session.scalar(
            select(SyncRun)
            .where(SyncRun.connection_id == connection_id, SyncRun.job == "sync")
            .order_by(SyncRun.id.desc())
            .limit(1)
        )
        counts = dict(run.counts or {}) if run else {}
        totals = dict(
            session.execute(
                select(Invoice.status, func.count())
                .where(Invoice.connection_id == connection_id, Invoice.deleted_at.is_(None))
                .group_by(Invoice.status)
            ).all()
        )
        every = int(((row.settings or {}).get("schedule_seconds") or {}).get("import_every", 900))
        finished = run.finished_at if run else None
        return ImportProgress(
            connection_id=row.id,
            name=row.name,
            state=run.state if run else "waiting",
            fetched=int(counts.get("fetched", 0)),
            placed=int(counts.get("placed", 0)),
            pages=int(counts.get("pages", 0)),
            invoices=sum(totals.values()),
            scheduled=int(totals.get("scheduled", 0)),
            error=run.error if run else None,
            finished_at=finished,
            next_sync_at=finished + timedelta(seconds=every) if finished else None,
        )


# --- reconnect and disconnect --------------------------------------------------------------------


def _finish_reconnect(rt: Runtime, request: _Claimed, token: dict[str, Any], realm_id: str | None) -> ConsentDone:
    """Fresh tokens for a connection that lost its grant: same row, so all its history stays."""
    from connector.ledgers import xero_setup

    with rt.sessions() as session:
        row = _connection(session, request.connection_id)
        tenant_id, old_grant, provider = row.tenant_id, row.grant_id, row.provider
        label = row.tenant_name or row.name
    memory = MemoryTokens(token)
    reached: set[str] = set()
    if provider == "xero":
        try:
            ledger = XeroLedger(xero_app(rt.config), "", memory)
            reached = {link.tenant_id for link in xero_setup.tenant_links(ledger)}
        except LedgerError as exc:
            raise RefusedAction(_ledger_trouble(provider, exc)) from None
        if tenant_id not in reached:
            raise RefusedAction(f"{label} was not ticked in Xero, so nothing changed. Reconnect again and tick it.")
    elif realm_id != tenant_id:
        raise RefusedAction(
            f"A different QuickBooks company was chosen, so nothing changed. Reconnect again and choose {label}."
        )
    token = memory.load() or token
    with rt.transaction() as session:
        grant = Grant(provider=provider, scopes=" ".join(token.get("scope") or []), created_by=request.requested_by)
        session.add(grant)
        vault_for(rt.config).save(session, grant, TokenSet(token))
        session.flush()
        mended = [session.get(Connection, request.connection_id)]
        if old_grant is not None and provider == "xero":  # others on the same dead grant, reached again
            mended += [
                c for c in session.scalars(select(Connection).where(Connection.grant_id == old_grant))
                if c.id != request.connection_id and c.tenant_id in reached and c.state != "disconnected"
            ]
        for row in mended:
            row.grant_id = grant.id
            row.token_ciphertext = None
            row.token_expires_at = None
            ready = bool((row.settings or {}).get("accounts")) and "lead_days" in (row.settings or {})
            row.state = "active" if ready or row.origin == "config" else "setup"
            row.state_reason = None
            row.paused_until = None
        _retire_grant(session, old_grant)
        session.get(OAuthRequest, request.id).grant_id = grant.id
    log.info("connection #%s reconnected by %s", request.connection_id, request.requested_by)
    return ConsentDone(request.id, provider, "reconnect", request.connection_id)


@dataclass(frozen=True, slots=True)
class DisconnectOutcome:
    name: str
    #: What the provider confirmed: the organisation's connection removed, the grant revoked.
    removed_at_provider: bool
    revoked: bool
    note: str = ""


def disconnect(rt: Runtime, connection_id: int, *, actor: Actor) -> DisconnectOutcome:
    """Let go of a connection: revoke it at the provider, wipe its tokens, keep every invoice
    and timeline. Xero: ``DELETE /connections/{id}`` for this organisation, and the token is
    revoked when no other connection shares the grant. QuickBooks: Intuit's revoke endpoint.

    A grant the provider no longer knows (``invalid_grant``) is let go here all the same. A
    provider that does not answer changes nothing: the person tries again.
    """
    from connector.ledgers import quickbooks_setup, xero_setup

    with rt.sessions() as session:
        row = _connection(session, connection_id)
        if row.state == "disconnected":
            raise RefusedAction(f"{row.name} is already disconnected.")
        name, provider, tenant_id, grant_id = row.name, row.provider, row.tenant_id, row.grant_id
        holder = token_holder(row)
        has_token = holder.token_ciphertext is not None
        sharing = (
            session.scalar(
                select(func.count())
                .select_from(Connection)
                .where(
                    Connection.grant_id == grant_id,
                    Connection.id != connection_id,
                    Connection.state != "disconnected",
                )
            )
            if grant_id is not None
            else 0
        )
    removed = revoked = False
    note = ""
    if has_token and tenant_id:
        try:
            with rt.sessions() as session:
                ledger = ledger_for(rt, session.get(Connection, connection_id))
            if isinstance(ledger, XeroLedger):
                removed = xero_setup.disconnect_tenant(ledger, tenant_id)
                if not sharing:
                    xero_setup.revoke(ledger, str(ledger._load_token().get("refresh_token") or ""))
                    revoked = True
            elif isinstance(ledger, QuickBooksLedger) and not sharing:
                quickbooks_setup.revoke(ledger, ledger._token())
                removed = revoked = True
        except ReconnectRequired:
            note = f"{PROVIDERS[provider]} had already ended this grant."
        except LedgerError:
            raise RefusedAction(
                f"{PROVIDERS[provider]} did not answer, so nothing was changed. Try again in a minute."
            ) from None
    with rt.transaction() as session:
        row = session.get(Connection, connection_id)
        row.state = "disconnected"
        row.state_reason = f"disconnected by {actor.name} on {utcnow():%Y-%m-%d}"
        row.token_ciphertext = None
        row.token_expires_at = None
        row.lock_owner = None
        if not sharing:
            _retire_grant(session, grant_id)
    log.info("%s disconnected %s (removed at provider: %s, revoked: %s)", actor.name, name, removed, revoked)
    return DisconnectOutcome(name, removed, revoked, note)


def _retire_grant(session: Any, grant_id: int | None) -> None:
    """Wipe a grant's tokens once no connection uses it (revoked, or replaced by a new consent)."""
    if grant_id is None:
        return
    users = session.scalar(
        select(func.count())
        .select_from(Connection)
        .where(Connection.grant_id == grant_id, Connection.state != "disconnected")
    )
    if users:
        return
    grant = session.get(Grant, grant_id)
    if grant is not None:
        grant.token_ciphertext = None
        grant.token_expires_at = None
        grant.revoked_at = utcnow()


# --- listing -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectionSummary:
    """One line of ``/connections``: a connection from the wizard or the config file."""

    id: int
    name: str
    provider: str
    organisation: str
    state: str
    state_reason: str | None
    origin: str
    invoices: int
    scheduled: int
    last_sync: datetime | None


def list_connections(rt: Runtime) -> list[ConnectionSummary]:
    with rt.sessions() as session:
        counts: dict[int, dict[str, int]] = {}
        for cid, status, n in session.execute(
            select(Invoice.connection_id, Invoice.status, func.count())
            .where(Invoice.deleted_at.is_(None), Invoice.connection_id.is_not(None))
            .group_by(Invoice.connection_id, Invoice.status)
        ):
            counts.setdefault(cid, {})[status] = n
        last = dict(
            session.execute(
                select(SyncRun.connection_id, func.max(SyncRun.finished_at))
                .where(SyncRun.job == "sync")
                .group_by(SyncRun.connection_id)
            ).all()
        )
        return [
            ConnectionSummary(
                c.id, c.name, c.provider, c.tenant_name or c.tenant_id or "", c.state, c.state_reason, c.origin,
                sum(counts.get(c.id, {}).values()), counts.get(c.id, {}).get("scheduled", 0), last.get(c.id),
            )
            for c in session.scalars(select(Connection).order_by(Connection.name))
        ]


def in_setup(rt: Runtime) -> list[tuple[int, str, str]]:
    """Connections whose setup is not finished: (id, name, organisation), to continue with."""
    with rt.sessions() as session:
        return [
            (c.id, c.name, c.tenant_name or c.name)
            for c in session.scalars(select(Connection).where(Connection.state == "setup").order_by(Connection.id))
        ]


def connection_brief(rt: Runtime, connection_id: int) -> dict[str, Any]:
    """Name, provider, organisation, state and origin of one connection (for page titles)."""
    with rt.sessions() as session:
        row = _connection(session, connection_id)
        return {
            "id": row.id,
            "name": row.name,
            "provider": row.provider,
            "provider_name": PROVIDERS.get(row.provider, row.provider),
            "organisation": row.tenant_name or row.name,
            "state": row.state,
            "origin": row.origin,
            "accounts": dict((row.settings or {}).get("accounts") or {}),
            "has_settings": "lead_days" in (row.settings or {}),
        }


# --- tokens kept in a grant, or in memory --------------------------------------------------------


class GrantTokens:
    """The :class:`~connector.ledgers.base.TokenStore` of a grant no connection uses yet (the
    "choose organisation" step): sealed in the grant's row, saved at once like a connection's."""

    def __init__(self, rt: Runtime, grant_id: int) -> None:
        self._rt = rt
        self._grant_id = grant_id
        self._vault = vault_for(rt.config)

    def load(self) -> dict[str, Any] | None:
        with self._rt.sessions() as session:
            grant = session.get(Grant, self._grant_id)
            token = self._vault.load(grant) if grant is not None else None
            return dict(token.data) if token else None

    def save(self, token: dict[str, Any]) -> None:
        with self._rt.transaction() as session:
            grant = session.get(Grant, self._grant_id)
            if grant is None:
                raise LookupError(f"grant #{self._grant_id} is gone")
            self._vault.save(session, grant, TokenSet(dict(token)))


class MemoryTokens:
    """Tokens not stored yet (a reconnect checked before it replaces anything)."""

    def __init__(self, token: dict[str, Any]) -> None:
        self._token = dict(token)

    def load(self) -> dict[str, Any] | None:
        return dict(self._token)

    def save(self, token: dict[str, Any]) -> None:
        self._token = dict(token)


# --- helpers -------------------------------------------------------------------------------------


def _check_provider(provider: str) -> None:
    if provider not in PROVIDERS:
        raise InvalidInput("Choose Xero or QuickBooks Online.", field="provider")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _word(error: str) -> str:
    """A provider's error code, safe to show (it came in a URL anyone can type)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "", error)[:40] or "error"


def _connection(session: Any, connection_id: int | None) -> Connection:
    row = session.get(Connection, connection_id) if connection_id is not None else None
    if row is None:
        raise NotFound(f"There is no connection #{connection_id}.", field="connection")
    return row


def _only_setup_or_web(row: Connection) -> None:
    if row.origin == "config":
        raise RefusedAction(
            f"{row.name} comes from the config file, which sets its accounts and settings: "
            "change its [[connections]] block and restart."
        )


def _only_setup_or_web_id(rt: Runtime, connection_id: int) -> None:
    with rt.sessions() as session:
        _only_setup_or_web(_connection(session, connection_id))


def _ledger(rt: Runtime, connection_id: int) -> tuple[Connection, Any]:
    with rt.sessions() as session:
        row = _connection(session, connection_id)
        if row.state == "disconnected":
            raise RefusedAction(f"{row.name} is disconnected: reconnect it first.")
        try:
            ledger = ledger_for(rt, row)
        except ReconnectRequired as exc:
            raise RefusedAction(f"{row.name} needs reconnecting: {exc}") from None
        session.expunge(row)
        return row, ledger


def _base_currency(rt: Runtime, row: Connection, ledger: Any) -> str:
    known = (row.settings or {}).get("base_currency")
    if known:
        return str(known)
    currency = ledger.organisation().base_currency
    with rt.transaction() as session:
        fresh = session.get(Connection, row.id)
        fresh.settings = {**(fresh.settings or {}), "base_currency": currency}
    return currency


def _chart(ledger: Any, currency: str) -> list[ChartAccount]:
    from connector.ledgers import quickbooks_setup, xero_setup

    if isinstance(ledger, XeroLedger):
        return xero_setup.chart(ledger, currency)
    return quickbooks_setup.chart(ledger, currency)


def _ledger_trouble(provider: str, exc: LedgerError) -> str:
    if isinstance(exc, ReconnectRequired):
        return f"{PROVIDERS[provider]} no longer accepts this connection's sign-in: reconnect it."
    return f"{PROVIDERS[provider]} did not answer well enough ({exc}). Try again in a minute."


def _taken_names(rt: Runtime) -> set[str]:
    with rt.sessions() as session:
        names = set(session.scalars(select(Connection.name)))
    return names | {c.name for c in rt.config.connections}


def _name_problem(name: str, config_names: Iterable[str]) -> str | None:
    if not NAME_PATTERN.match(name):
        return "A connection name is letters, digits, dots, dashes or underscores, with no spaces."
    if name in set(config_names):
        return (
            f"The config file already has a connection named {name}, and the file would overwrite this one: "
            "choose another name."
        )
    return None


def _suggest(organisation: str, taken: set[str]) -> str:
    """A connection name from the organisation's: lower case, dashes, unique."""
    base = re.sub(r"[^a-z0-9]+", "-", organisation.lower()).strip("-")[:60] or "ledger"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name
