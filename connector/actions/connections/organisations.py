"""Choosing organisations: what a consent reaches, and one connection per organisation ticked.

Also the connection names: suggested from the organisation's, and refused when the config
file (which would overwrite it) or another connection already uses them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from connector.actions.connections.common import _RESTART, PROVIDERS, FieldErrors, _digest, log
from connector.actions.connections.grants import GrantTokens
from connector.actions.context import Actor
from connector.actions.errors import NotFound, RefusedAction
from connector.ledgers.errors import LedgerError
from connector.ledgers.quickbooks import QuickBooksLedger
from connector.ledgers.xero import XeroLedger
from connector.runtime import Runtime
from connector.store.models import Connection, OAuthRequest
from connector.store.types import utcnow
from connector.sync.connect import quickbooks_app, xero_app

#: How long after consent the organisations may still be chosen with that grant.
CHOOSE_TTL = timedelta(hours=1)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


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
