"""Steps 1 to 3: choosing the ledger, consent at the provider, the callback; and every way it
can go wrong, each leaving nothing stored (no grant, no connection, no token)."""

from __future__ import annotations

from sqlalchemy import func, select

from connector.store.models import Connection, Grant, OAuthRequest
from tests.web.setup import flow
from tests.web.setup.conftest import FILE_CONNECTION


def counts(rt) -> tuple[int, int, int]:
    """Grants, wizard connections, and stored token ciphertexts anywhere."""
    with rt.sessions() as session:
        grants = session.scalar(select(func.count()).select_from(Grant))
        web = session.scalar(select(func.count()).select_from(Connection).where(Connection.origin == "web"))
        tokens = session.scalar(
            select(func.count()).select_from(Grant).where(Grant.token_ciphertext.is_not(None))
        ) + session.scalar(select(func.count()).select_from(Connection).where(Connection.token_ciphertext.is_not(None)))
    return grants, web, tokens


def test_the_consent_url_carries_state_pkce_and_the_least_scopes(admin, runtime, xero_sb):
    url = flow.start(admin, "xero")
    q = flow.query(url)
    assert url.startswith(xero_sb.authorize_url)
    assert q["redirect_uri"] == runtime.config.ledgers.xero.redirect_uri
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert "offline_access" in q["scope"].split()
    with runtime.sessions() as session:
        request = session.scalars(select(OAuthRequest)).one()
        assert request.state_hash != q["state"] and len(request.state_hash) == 64  # only its hash is kept
        assert request.code_verifier and request.code_verifier not in url


def test_quickbooks_gets_no_pkce(admin, qbo_sb):
    q = flow.query(flow.start(admin, "quickbooks"))
    assert "code_challenge" not in q and q["scope"] == "com.intuit.quickbooks.accounting"


def test_xero_consent_lists_both_organisations(admin, runtime, xero_sb):
    answer = flow.connect(admin, "xero", tenant=xero_sb.tenant_ids)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/setup/organisations")
    page = admin.get("/setup/organisations").get_data(as_text=True)
    for tenant in xero_sb.tenants:
        assert tenant.name in page
    assert counts(runtime) == (1, 0, 1)  # one grant with its token; no connection until chosen


def test_a_forged_state_stores_nothing(admin, runtime, xero_sb):
    callback = flow.decide(flow.start(admin, "xero"))
    forged = callback.replace(f"state={flow.query(callback)['state']}", "state=forged-by-someone")
    answer = flow.back(admin, forged)
    assert answer.status_code == 302
    page = admin.get("/setup").get_data(as_text=True)
    assert "not started from this browser" in page
    assert counts(runtime) == (0, 0, 0)


def test_a_replayed_state_stores_nothing_more(admin, runtime, xero_sb):
    callback = flow.decide(flow.start(admin, "xero"))
    flow.back(admin, callback)
    assert counts(runtime) == (1, 0, 1)
    flow.back(admin, callback)  # the same answer again
    assert "already used" in admin.get("/setup").get_data(as_text=True)
    assert counts(runtime) == (1, 0, 1)


def test_a_state_from_another_browser_stores_nothing(admin, anonymous, app, runtime, xero_sb):
    from tests.web.kit import client_for, person

    person(runtime, "other-admin", "admin")
    other = client_for(app, runtime, None)
    other.login("other-admin")
    callback = flow.decide(flow.start(admin, "xero"))
    flow.back(other, callback)  # a stolen link, opened in someone else's browser
    assert counts(runtime) == (0, 0, 0)


def test_consent_denied_stores_nothing(admin, runtime, xero_sb):
    answer = flow.back(admin, flow.decide(flow.start(admin, "xero"), decision="deny"))
    assert answer.status_code == 302
    page = admin.get("/setup").get_data(as_text=True)
    assert "You chose not to allow access in Xero" in page
    assert counts(runtime) == (0, 0, 0)


def test_a_failing_token_exchange_stores_nothing(admin, runtime, qbo_sb):
    callback = flow.decide(flow.start(admin, "quickbooks"), realmId=qbo_sb.realm_ids[0])
    qbo_sb.auth.fail_token_requests(1)  # the token endpoint is unavailable once
    flow.back(admin, callback)
    page = admin.get("/setup").get_data(as_text=True)
    assert "could not be reached to finish signing in" in page
    assert counts(runtime) == (0, 0, 0)


def test_a_code_the_provider_refuses_stores_nothing(admin, runtime, xero_sb):
    callback = flow.decide(flow.start(admin, "xero"))
    code = flow.query(callback)["code"]
    flow.back(admin, callback.replace(code, code[:-4] + "XXXX"))
    page = admin.get("/setup").get_data(as_text=True)
    assert "did not accept this sign-in (invalid_grant)" in page
    assert code[:-4] not in page  # the code is never echoed back
    assert counts(runtime) == (0, 0, 0)


def test_an_expired_consent_stores_nothing(admin, runtime, xero_sb):
    from datetime import timedelta

    from connector.store.types import utcnow

    callback = flow.decide(flow.start(admin, "xero"))
    with runtime.transaction() as session:
        session.scalars(select(OAuthRequest)).one().expires_at = utcnow() - timedelta(seconds=1)
    flow.back(admin, callback)
    assert "longer than 10 minutes" in admin.get("/setup").get_data(as_text=True)
    assert counts(runtime) == (0, 0, 0)


def test_non_admins_cannot_connect(viewer, support, runtime, xero_sb):
    for client in (viewer, support):
        assert client.get("/setup").status_code == 403
        assert client.post("/setup/consent", {"provider": "xero"}).status_code == 403
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(OAuthRequest)) == 0
    assert counts(runtime) == (0, 0, 0)


def test_anonymous_goes_to_login(anonymous):
    assert anonymous.get("/setup").headers["Location"].startswith("/login?next=")


def test_a_ledger_without_an_app_says_how_to_set_it_up(admin, runtime):
    from connector.actions import connections as actions

    rt = runtime
    plain = rt.config.model_copy(
        update={"ledgers": rt.config.ledgers.model_copy(update={"xero": type(rt.config.ledgers.xero)()})}
    )
    try:
        actions.oauth_client(plain, "xero")
    except actions.InvalidInput as exc:
        assert "client_id" in exc.message and "docs/setup.md" in exc.message
    else:
        raise AssertionError("no app, no consent")


def test_the_config_file_name_is_refused(admin, runtime, xero_sb):
    flow.connect(admin, "xero", tenant=xero_sb.tenant_ids[:1])
    tenant = xero_sb.tenant_ids[0]
    answer = admin.post("/setup/organisations", {"tenant": tenant, f"name-{tenant}": FILE_CONNECTION})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "config file already has a connection named" in page
    assert f'aria-describedby="name-{tenant}-error"' in page and 'aria-invalid="true"' in page
    assert counts(runtime) == (1, 0, 1)
