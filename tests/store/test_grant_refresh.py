"""Organisations of one Xero consent share its refresh token: two processes refresh it once.

Each adapter here has its own lock and token cache, as two processes would. Without the grant's
refresh lease both would find the access token expired and both would refresh (the second with a
refresh token the first just spent); with it, the second waits, reads the fresh token, and uses it.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from connector.store.models import Connection, Grant
from connector.store.secrets import TokenSet
from connector.sync.connect import vault_for
from tests.e2e.conftest import make_world


def test_two_processes_sharing_a_grant_refresh_it_once(xero, db_url, monkeypatch) -> None:
    world = make_world(xero, db_url, monkeypatch)
    rt = world.rt
    token = xero.issue_tokens(tenants=list(xero.tenant_ids[:2]))
    token["scope"] = token["scope"].split()
    token["expires_at"] = 0  # the access token has expired: the next call refreshes
    with rt.transaction() as session:
        grant = Grant(provider="xero", scopes=" ".join(token["scope"]))
        session.add(grant)
        session.flush()
        vault_for(rt.config).save(session, grant, TokenSet(token))
        for connection in session.scalars(select(Connection)):
            connection.grant_id, connection.token_ciphertext = grant.id, None
    with rt.sessions() as session:
        ledgers = [world.ledger(rt, c) for c in session.scalars(select(Connection).order_by(Connection.name))]
    start = threading.Barrier(len(ledgers))
    errors: list[BaseException] = []

    def call(ledger) -> None:
        start.wait()
        try:
            ledger.organisation()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(ledger,)) for ledger in ledgers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(ledger.calls.counts.get("token_refresh", 0) for ledger in ledgers) == 1
    with rt.sessions() as session:
        assert session.get(Grant, grant.id).refresh_owner is None  # the lease was given back
    rt.close()
