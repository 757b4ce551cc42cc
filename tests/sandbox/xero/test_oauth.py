"""OAuth and identity, driven through the real SDK (refresh, connections) and real HTTP."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import requests
from xero_python.exceptions import HTTPStatusException

from connector.sandbox.xero import XeroSandbox
from tests.sandbox.xero.conftest import XeroClient, XeroFor


def _claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_authorization_code_flow_returns_xeros_token_body(sandbox: XeroSandbox) -> None:
    token = sandbox.authorize()
    assert set(token) == {"id_token", "access_token", "expires_in", "token_type", "refresh_token", "scope"}
    assert token["expires_in"] == 1800
    assert token["token_type"] == "Bearer"
    assert "offline_access" in token["scope"].split()
    assert _claims(token["access_token"])["client_id"] == sandbox.client_id


def test_pkce_flow_checks_the_verifier(sandbox: XeroSandbox) -> None:
    token = sandbox.authorize(code_verifier="a" * 50)
    assert token["access_token"]
    page = requests.get(
        sandbox.authorize_url,
        params={
            "response_type": "code",
            "client_id": sandbox.client_id,
            "redirect_uri": "http://127.0.0.1/cb",
            "scope": "offline_access",
            "state": "s",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        },
        timeout=5,
    )
    assert page.status_code == 200 and "Allow access" in page.text
    consent = requests.post(
        sandbox.authorize_url,
        allow_redirects=False,
        timeout=5,
        data={
            "client_id": sandbox.client_id,
            "redirect_uri": "http://127.0.0.1/cb",
            "scope": "offline_access",
            "state": "s",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
            "decision": "allow",
        },
    )
    code = consent.headers["Location"].split("code=")[1].split("&")[0]
    wrong = requests.post(
        sandbox.token_url,
        timeout=5,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "http://127.0.0.1/cb",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "code_verifier": "b" * 50,
        },
    )
    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_grant"}


def test_consent_page_auto_submits_and_cancel_redirects_with_access_denied(sandbox: XeroSandbox) -> None:
    params = {
        "response_type": "code",
        "client_id": sandbox.client_id,
        "redirect_uri": "http://127.0.0.1/cb",
        "scope": "openid offline_access",
        "state": "xyz",
    }
    page = requests.get(sandbox.authorize_url, params=params, timeout=5)
    assert 'document.getElementById("allow").click()' in page.text
    for tenant in sandbox.tenants:
        assert tenant.name.replace("&", "&amp;") in page.text
    denied = requests.post(sandbox.authorize_url, allow_redirects=False, timeout=5, data={**params, "decision": "deny"})
    assert denied.status_code == 302
    assert denied.headers["Location"] == "http://127.0.0.1/cb?error=access_denied&state=xyz"


def test_unknown_client_gets_an_error_page_not_a_redirect(sandbox: XeroSandbox) -> None:
    page = requests.get(
        sandbox.authorize_url,
        params={"response_type": "code", "client_id": "nope", "redirect_uri": "http://evil.example/cb"},
        timeout=5,
    )
    assert page.status_code == 400


def test_code_is_single_use(sandbox: XeroSandbox) -> None:
    form = {
        "client_id": sandbox.client_id,
        "redirect_uri": "http://127.0.0.1/cb",
        "scope": "offline_access",
        "state": "s",
        "decision": "allow",
    }
    consent = requests.post(sandbox.authorize_url, data=form, allow_redirects=False, timeout=5)
    code = consent.headers["Location"].split("code=")[1].split("&")[0]
    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1/cb"}
    basic = (sandbox.client_id, sandbox.client_secret)
    assert requests.post(sandbox.token_url, data=exchange, auth=basic, timeout=5).status_code == 200
    again = requests.post(sandbox.token_url, data=exchange, auth=basic, timeout=5)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}


def test_connections_via_sdk_and_case_insensitive_path(xero: XeroClient) -> None:
    connections = xero.identity.get_connections()
    assert {c.tenant_id for c in connections} == set(xero.sandbox.tenant_ids)
    assert all(c.tenant_type == "ORGANISATION" for c in connections)
    headers = {"Authorization": f"Bearer {xero.token['access_token']}"}
    lower = requests.get(xero.sandbox.base_url + "/connections", headers=headers, timeout=5)
    upper = requests.get(xero.sandbox.base_url + "/Connections", headers=headers, timeout=5)
    assert lower.status_code == upper.status_code == 200
    assert [c["tenantId"] for c in lower.json()] == [c["tenantId"] for c in upper.json()]
    event = _claims(xero.token["access_token"])["authentication_event_id"]
    assert len(xero.identity.get_connections(auth_event_id=event)) == 2


def test_sdk_refreshes_and_rotates_the_refresh_token(xero: XeroClient) -> None:
    first = xero.token
    xero.force_refresh_next_call()
    xero.accounting.get_organisations(xero.tenant_id)
    assert len(xero.saved) == 1
    second = xero.saved[0]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]  # the SDK splits it back into a list
    old = xero.sandbox.auth.access_tokens[first["access_token"]]
    assert old.expires_ms > xero.sandbox.ledger.now_ms()  # the old access token is not revoked by refresh


def test_used_refresh_token_works_in_the_grace_window_then_invalid_grant(sandbox: XeroSandbox) -> None:
    token = sandbox.issue_tokens()
    creds = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    first = requests.post(
        sandbox.token_url,
        timeout=5,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"], **creds},
    )
    assert first.status_code == 200
    sandbox.clock.advance(minutes=29)  # the response was "lost": retry with the old token
    retry = requests.post(
        sandbox.token_url,
        timeout=5,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"], **creds},
    )
    assert retry.status_code == 200
    assert retry.json()["refresh_token"] == first.json()["refresh_token"]
    assert retry.json()["access_token"] != first.json()["access_token"]
    sandbox.clock.advance(minutes=2)  # 31 minutes after first use: the grace is over
    late = requests.post(
        sandbox.token_url,
        timeout=5,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"], **creds},
    )
    assert late.status_code == 400 and late.json() == {"error": "invalid_grant"}
    fresh = requests.post(
        sandbox.token_url,
        timeout=5,
        data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"], **creds},
    )
    assert fresh.status_code == 200


def test_sdk_sees_invalid_grant_when_the_refresh_token_is_dead(xero: XeroClient) -> None:
    xero.sandbox.clock.advance(timedelta(days=61))  # unused refresh tokens die after 60 days
    xero.force_refresh_next_call()
    # The SDK's REST layer raises before TokenApi's own "refresh token status" check runs.
    with pytest.raises(HTTPStatusException) as err:
        xero.accounting.get_organisations(xero.tenant_id)
    assert err.value.status == 400
    assert json.loads(err.value.body) == {"error": "invalid_grant"}
    assert xero.saved == []


def test_wrong_client_secret_is_invalid_client(sandbox: XeroSandbox) -> None:
    token = sandbox.issue_tokens()
    bad = requests.post(
        sandbox.token_url,
        timeout=5,
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": sandbox.client_id,
            "client_secret": "wrong",
        },
    )
    assert bad.status_code == 400 and bad.json() == {"error": "invalid_client"}
    odd = requests.post(
        sandbox.token_url,
        timeout=5,
        data={
            "grant_type": "password",
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
        },
    )
    assert odd.json() == {"error": "unsupported_grant_type"}


def test_expired_access_token_is_401_token_expired_until_the_sdk_refreshes(xero: XeroClient) -> None:
    xero.sandbox.clock.advance(minutes=31)  # the SDK's own clock still thinks the token is fine
    with pytest.raises(HTTPStatusException) as err:
        xero.accounting.get_organisations(xero.tenant_id)
    assert err.value.status == 401
    body = json.loads(err.value.body)
    assert body["Title"] == "Unauthorized" and body["Detail"].startswith("TokenExpired: token expired at ")
    xero.force_refresh_next_call()
    assert xero.accounting.get_organisations(xero.tenant_id).organisations


def test_missing_or_foreign_tenant_is_403_and_missing_token_is_401(xero: XeroClient) -> None:
    with pytest.raises(HTTPStatusException) as err:
        xero.accounting.get_invoices("00000000-0000-4000-8000-000000000000")
    assert err.value.status == 403
    assert json.loads(err.value.body)["Detail"] == "AuthenticationUnsuccessful"
    bare = requests.get(
        xero.sandbox.accounting_url + "/Invoices", timeout=5, headers={"xero-tenant-id": xero.tenant_id}
    )
    assert bare.status_code == 401 and bare.json()["Title"] == "Unauthorized"
    no_tenant = requests.get(
        xero.sandbox.accounting_url + "/Invoices",
        timeout=5,
        headers={"Authorization": f"Bearer {xero.token['access_token']}"},
    )
    assert no_tenant.status_code == 403


def test_only_consented_tenants_are_reachable(sandbox: XeroSandbox, xero_for: XeroFor) -> None:
    first, second = sandbox.tenant_ids
    client = xero_for(sandbox, sandbox.issue_tokens(tenants=[first]))
    assert client.accounting.get_organisations(first).organisations
    other = sandbox.issue_tokens(client_id=sandbox.client_id, tenants=[first])  # same app, same tenant
    assert other["access_token"]
    # Connections belong to the app: the earlier consent for both tenants is not in this sandbox yet.
    assert {c.tenant_id for c in client.identity.get_connections()} == {first}
    with pytest.raises(HTTPStatusException) as err:
        client.accounting.get_organisations(second)
    assert err.value.status == 403


def test_scopes_are_enforced(sandbox: XeroSandbox, xero_for: XeroFor) -> None:
    client = xero_for(sandbox, sandbox.issue_tokens(scopes=["offline_access", "accounting.invoices.read"]))
    assert client.accounting.get_invoices(client.tenant_id, page=1, page_size=1).invoices
    with pytest.raises(HTTPStatusException) as err:
        client.accounting.get_accounts(client.tenant_id)
    assert err.value.status == 401
    assert json.loads(err.value.body)["Detail"] == "AuthorizationUnsuccessful"


def test_revocation_ends_the_grant_and_its_connections(xero: XeroClient) -> None:
    token = xero.token
    response = requests.post(
        xero.sandbox.revocation_url,
        timeout=5,
        data={
            "token": token["refresh_token"],
            "client_id": xero.sandbox.client_id,
            "client_secret": xero.sandbox.client_secret,
        },
    )
    assert response.status_code == 200
    with pytest.raises(HTTPStatusException) as err:
        xero.accounting.get_organisations(xero.tenant_id)
    assert err.value.status == 401
    reuse = requests.post(
        xero.sandbox.token_url,
        timeout=5,
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": xero.sandbox.client_id,
            "client_secret": xero.sandbox.client_secret,
        },
    )
    assert reuse.json() == {"error": "invalid_grant"}


def test_delete_connection_disconnects_the_tenant(xero: XeroClient) -> None:
    connection = next(c for c in xero.identity.get_connections() if str(c.tenant_id) == xero.tenant_id)
    xero.identity.delete_connection(connection.id)
    with pytest.raises(HTTPStatusException) as err:
        xero.accounting.get_organisations(xero.tenant_id)
    assert err.value.status == 403
