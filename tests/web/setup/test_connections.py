"""``/connections``: both kinds listed; reconnect keeps history; disconnect revokes at the
provider and keeps history; settings edited later; only admins manage."""

from __future__ import annotations

from sqlalchemy import func, select

from connector.actions import Actor
from connector.actions import connections as actions
from connector.actions.sync import run_sync
from connector.store.models import Connection, Grant, Invoice
from tests.web.setup import flow
from tests.web.setup.conftest import FILE_CONNECTION

ADMIN = Actor.person("admin")


def connected_xero(admin, runtime, xero_sb) -> list[int]:
    """Both organisations connected through the wizard's consent, set up and imported."""
    flow.connect(admin, "xero", tenant=xero_sb.tenant_ids)
    assert admin.post("/setup/organisations", {"tenant": xero_sb.tenant_ids}).status_code == 302
    with runtime.sessions() as session:
        ids = list(session.scalars(select(Connection.id).where(Connection.origin == "web").order_by(Connection.id)))
    for cid in ids:
        actions.save_accounts(runtime, cid, clearing="095", bank="090", fees="404", actor=ADMIN)
        actions.save_settings(runtime, cid, {}, actor=ADMIN)
        name = actions.start_first_import(runtime, cid, actor=ADMIN)
        assert run_sync(runtime, connection=name)[0].state == "succeeded"
    return ids


def invoices(runtime, cid: int) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(Invoice).where(Invoice.connection_id == cid))


def test_the_list_shows_wizard_and_file_connections_with_their_invoices(admin, viewer, runtime, xero_sb):
    ids = connected_xero(admin, runtime, xero_sb)
    page = viewer.get("/connections").get_data(as_text=True)
    assert FILE_CONNECTION in page and "Config file" in page and "Setup wizard" in page
    for summary in actions.list_connections(runtime):
        if summary.id in ids:
            assert summary.invoices == invoices(runtime, summary.id) > 0 and summary.scheduled > 0
            assert f'<td class="num">{summary.scheduled}</td>' in page
    assert "Disconnect" not in page and "Reconnect" not in page  # a viewer only looks
    assert "Reconnect" in admin.get("/connections").get_data(as_text=True)


def test_reconnect_after_invalid_grant_keeps_the_history(admin, runtime, xero_sb):
    ids = connected_xero(admin, runtime, xero_sb)
    before = {cid: invoices(runtime, cid) for cid in ids}
    for grant in xero_sb.auth.grants.values():
        grant.revoked = True  # the person removed the app in Xero: every token of the grant dies
    with runtime.transaction() as session:  # what the runner does on invalid_grant
        for cid in ids:
            row = session.get(Connection, cid)
            row.state, row.state_reason = "needs_reconnect", "Xero refused the refresh token: invalid_grant"
    page = admin.get("/connections").get_data(as_text=True)
    assert "Needs reconnect" in page
    answer = admin.post(f"/connections/{ids[0]}/reconnect", {})
    assert answer.status_code == 303
    callback = flow.decide(answer.headers["Location"], tenant=xero_sb.tenant_ids)
    assert flow.back(admin, callback).headers["Location"].endswith("/connections")
    with runtime.sessions() as session:
        rows = [session.get(Connection, cid) for cid in ids]
        assert {r.state for r in rows} == {"active"}
        assert len({r.grant_id for r in rows}) == 1
        assert session.scalar(select(func.count()).select_from(Grant).where(Grant.token_ciphertext.is_not(None))) == 1
    for cid in ids:
        assert invoices(runtime, cid) == before[cid]
    assert [r.state for r in run_sync(runtime, connection=rows[0].name)] == ["succeeded"]


def test_disconnect_removes_each_organisation_then_revokes_the_grant(admin, runtime, xero_sb):
    ids = connected_xero(admin, runtime, xero_sb)
    client_links = xero_sb.auth.connections[xero_sb.client_id]
    assert set(client_links) == set(xero_sb.tenant_ids)
    confirm = admin.get(f"/connections/{ids[0]}/disconnect").get_data(as_text=True)
    assert "history stay" in confirm
    assert admin.post(f"/connections/{ids[0]}/disconnect", {}).status_code == 302
    with runtime.sessions() as session:
        first, second = (session.get(Connection, cid) for cid in ids)
        assert first.state == "disconnected" and second.state == "active"
        tenant_gone = first.tenant_id
    assert tenant_gone not in client_links and len(client_links) == 1  # DELETE /connections/{id}
    assert not any(g.revoked for g in xero_sb.auth.grants.values())  # the other organisation still uses it
    assert run_sync(runtime, connection=second.name)[0].state == "succeeded"
    assert admin.post(f"/connections/{ids[1]}/disconnect", {}).status_code == 302
    assert any(g.revoked for g in xero_sb.auth.grants.values())  # revoked with the last one
    with runtime.sessions() as session:
        grant = session.scalars(select(Grant)).one()
        assert grant.token_ciphertext is None and grant.revoked_at is not None
    assert invoices(runtime, ids[0]) > 0 and invoices(runtime, ids[1]) > 0  # history kept
    assert run_sync(runtime, connection=first.name)[0].state == "skipped"


def test_disconnect_revokes_at_intuit(admin, runtime, qbo_sb):
    realm = qbo_sb.realm_ids[0]
    books = qbo_sb.ledger.books(realm)
    flow.connect(admin, "quickbooks", realmId=realm)
    admin.post("/setup/organisations", {})
    with runtime.sessions() as session:
        cid = session.scalars(select(Connection.id).where(Connection.origin == "web")).one()
    actions.save_accounts(
        runtime, cid, clearing=books.roles["clearing"], bank=books.roles["bank"], fees=books.roles["fees"], actor=ADMIN
    )
    assert admin.post(f"/connections/{cid}/disconnect", {}).status_code == 302
    assert [g.revoked for g in qbo_sb.auth.grants.values()] == [True]
    assert "Disconnected" in admin.get("/connections").get_data(as_text=True)


def test_settings_can_be_edited_later_but_not_for_a_file_connection(admin, runtime, xero_sb):
    ids = connected_xero(admin, runtime, xero_sb)
    answer = admin.post(f"/connections/{ids[0]}/settings", {"collection_mode": "on_demand", "lead_days": "2",
                                                            "max_attempts": "3", "intervals": "3, 5, 7",
                                                            "post_payment_at": "paid"})
    assert answer.status_code == 302
    with runtime.sessions() as session:
        assert session.get(Connection, ids[0]).collection_mode == "on_demand"
        file_id = session.scalars(select(Connection.id).where(Connection.name == FILE_CONNECTION)).one()
    answer = admin.post(f"/connections/{file_id}/settings", {})
    assert answer.status_code == 409 and "config file" in answer.get_data(as_text=True)


def test_only_admins_manage(viewer, support, admin, runtime, xero_sb):
    ids = connected_xero(admin, runtime, xero_sb)
    for client in (viewer, support):
        assert client.get(f"/connections/{ids[0]}/disconnect").status_code == 403
        assert client.post(f"/connections/{ids[0]}/disconnect", {}).status_code == 403
        assert client.post(f"/connections/{ids[0]}/reconnect", {}).status_code == 403
        assert client.post(f"/connections/{ids[0]}/settings", {}).status_code == 403
    with runtime.sessions() as session:
        assert session.get(Connection, ids[0]).state == "active"
