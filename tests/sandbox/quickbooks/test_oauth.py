"""Intuit OAuth through the real intuit-oauth AuthClient: discovery, code exchange, refresh
rotation with the 24-hour grace of the previous token, invalid_grant, expiry, revocation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks.exceptions import AuthorizationException, QuickbooksException
from quickbooks.objects import CompanyInfo, Invoice

from connector.sandbox.quickbooks import QuickBooksSandbox
from tests.sandbox.quickbooks.conftest import QboClient, auth_client, connect


def _consent(sb: QuickBooksSandbox, authorize_url: str, realm_id: str) -> dict[str, list[str]]:
    """What a browser does: open the consent page, press Connect, follow nothing."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200 and realm_id in page.text
    form = {k: v[0] for k, v in parse_qs(urlparse(authorize_url).query).items() if k != "response_type"}
    answer = requests.post(
        sb.authorize_url, data={**form, "decision": "allow", "realmId": realm_id}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302
    return parse_qs(urlparse(answer.headers["Location"]).query)


def test_auth_client_takes_every_endpoint_from_the_discovery_document(sandbox: QuickBooksSandbox) -> None:
    auth = auth_client(sandbox)
    assert auth.token_endpoint == sandbox.token_url
    assert auth.auth_endpoint == sandbox.authorize_url
    assert auth.revoke_endpoint == sandbox.revoke_url
    assert auth.user_info_url == sandbox.userinfo_url


def test_authorization_code_exchange_with_intuit_oauth(sandbox: QuickBooksSandbox) -> None:
    realm = sandbox.realm_ids[1]
    auth = auth_client(sandbox)
    url = auth.get_authorization_url([Scopes.ACCOUNTING], state_token="csrf-123")
    redirect = _consent(sandbox, url, realm)
    assert redirect["state"] == ["csrf-123"] and redirect["realmId"] == [realm]

    auth.get_bearer_token(redirect["code"][0], realm_id=redirect["realmId"][0])
    assert auth.expires_in == 3600
    assert auth.x_refresh_token_expires_in == 8_726_400
    assert auth.access_token and auth.refresh_token and auth.id_token is None

    client = connect(
        sandbox, tokens={"access_token": auth.access_token, "refresh_token": auth.refresh_token, "realmId": realm}
    )
    info = CompanyInfo.get(realm, qb=client.qb)
    assert info.CompanyName == sandbox.realms[1].name and info.Country == "AU"

    with pytest.raises(AuthClientError) as reused:  # a code works once
        auth.get_bearer_token(redirect["code"][0], realm_id=realm)
    assert reused.value.status_code == 400 and reused.value.content and b"invalid_grant" in reused.value.content


def test_refresh_rotates_and_the_previous_token_works_for_24_hours(sandbox: QuickBooksSandbox) -> None:
    tokens = sandbox.authorize()
    first = tokens["refresh_token"]
    auth = auth_client(sandbox)

    auth.refresh(refresh_token=first)
    second = auth.refresh_token
    assert second != first
    assert auth.access_token != tokens["access_token"]

    sandbox.advance(hours=23)  # the client lost the answer and retries with the old token
    auth.refresh(refresh_token=first)
    assert auth.refresh_token == second, "a replaced token answers with the newest one of its chain"

    sandbox.advance(hours=1, seconds=1)  # 24 hours after it was replaced
    with pytest.raises(AuthClientError) as stale:
        auth.refresh(refresh_token=first)
    assert stale.value.status_code == 400 and stale.value.response.json() == {"error": "invalid_grant"}

    auth.refresh(refresh_token=second)
    assert auth.refresh_token not in (first, second)


def test_unknown_and_expired_refresh_tokens_are_invalid_grant(sandbox: QuickBooksSandbox) -> None:
    auth = auth_client(sandbox)
    with pytest.raises(AuthClientError) as unknown:
        auth.refresh(refresh_token="AB11-not-a-token")
    assert unknown.value.response.json() == {"error": "invalid_grant"}

    tokens = sandbox.authorize()
    sandbox.advance(seconds=tokens["x_refresh_token_expires_in"])
    with pytest.raises(AuthClientError) as expired:
        auth.refresh(refresh_token=tokens["refresh_token"])
    assert expired.value.response.json() == {"error": "invalid_grant"}


def test_wrong_client_secret_is_invalid_client(sandbox: QuickBooksSandbox) -> None:
    tokens = sandbox.authorize()
    auth = auth_client(sandbox)
    auth.client_secret = "wrong"
    with pytest.raises(AuthClientError) as refused:
        auth.refresh(refresh_token=tokens["refresh_token"])
    assert refused.value.status_code == 401 and refused.value.response.json() == {"error": "invalid_client"}


def test_access_token_lives_one_hour_then_the_lower_case_401(client: QboClient) -> None:
    Invoice.all(qb=client.qb, max_results=1)
    client.sandbox.advance(seconds=3600)
    with pytest.raises(AuthorizationException) as expired:
        Invoice.all(qb=client.qb, max_results=1)
    assert expired.value.error_code == 401

    raw = requests.get(
        client.url("invoice/100"),
        headers={"Authorization": f"Bearer {client.auth.access_token}", "Accept": "application/json"},
        timeout=10,
    )
    assert raw.status_code == 401
    assert raw.headers["WWW-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
    body = raw.json()
    assert "Fault" not in body and body["fault"]["type"] == "AUTHENTICATION"
    error = body["fault"]["error"][0]
    assert error["code"] == "3200" and error["detail"].startswith("Token expired")

    client.auth.refresh()  # the SDK never refreshes by itself
    client.reconnect()
    assert Invoice.all(qb=client.qb, max_results=1)


def test_revoking_disconnects_the_app(client: QboClient) -> None:
    refresh = client.auth.refresh_token
    assert client.auth.revoke(token=refresh) is True
    with pytest.raises(AuthorizationException):
        Invoice.all(qb=client.qb, max_results=1)
    with pytest.raises(AuthClientError) as refused:
        client.auth.refresh(refresh_token=refresh)
    assert refused.value.response.json() == {"error": "invalid_grant"}


def test_a_token_only_opens_the_company_it_was_granted_for(sandbox: QuickBooksSandbox) -> None:
    us = connect(sandbox, sandbox.realm_ids[0])
    us.qb.company_id = sandbox.realm_ids[1]
    with pytest.raises(QuickbooksException) as refused:
        Invoice.all(qb=us.qb, max_results=1)
    assert "ApplicationAuthorizationFailed" in refused.value.message


def test_userinfo_with_the_access_token(client: QboClient) -> None:
    info = client.auth.get_user_info()
    assert info.status_code == 200 and info.json()["email"] == client.sandbox.auth.user_email
