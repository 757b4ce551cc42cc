"""The wizard's "Create Payments platform clearing" on Xero: a bank account made through
``PUT /Accounts`` (the real SDK against the sandbox, as strict as Xero on names and codes)."""

from __future__ import annotations

from connector.actions import Actor
from connector.actions.connections import CLEARING_NAME, create_clearing_account
from tests.web.setup.test_wizard import choose_all

ADMIN = Actor.person("admin")


def test_the_clearing_account_is_made_once_in_xero(admin, runtime, xero_sb) -> None:
    [cid, _] = choose_all(admin, xero_sb)
    tenant = xero_sb.ledger.tenant(xero_sb.tenant_ids[0])
    for account in tenant.accounts.values():  # a books without one: as a new organisation starts
        if account.name.lower() == CLEARING_NAME.lower():
            account.name = "Old holding account"
    made, created = create_clearing_account(runtime, cid, actor=ADMIN)
    assert created and made.code
    [ours] = [a for a in tenant.accounts.values() if a.name == CLEARING_NAME]
    assert (ours.type, ours.currency, ours.code) == ("BANK", tenant.org.base_currency, made.code)
    assert ours.bank_account_number  # Xero wants one for a bank account
    again, created_again = create_clearing_account(runtime, cid, actor=ADMIN)
    assert not created_again and again.code == made.code
    assert sum(a.name == CLEARING_NAME for a in tenant.accounts.values()) == 1
    page = admin.get(f"/setup/{cid}/accounts").get_data(as_text=True)
    assert f"{made.code} · {CLEARING_NAME}" in page


def test_the_xero_sandbox_refuses_what_xero_refuses(xero_sb) -> None:
    import requests

    token = xero_sb.issue_tokens()["access_token"]
    headers = {
        "Authorization": f"Bearer {token}",
        "xero-tenant-id": xero_sb.tenant_ids[0],
        "Accept": "application/json",
    }
    url = f"{xero_sb.accounting_url}/Accounts"
    cases = [
        ({"Name": "Sales", "Type": "REVENUE", "Code": "NEW1"}, "unique Name"),
        ({"Name": "New one", "Type": "REVENUE", "Code": "200"}, "unique Code"),
        ({"Name": "New bank", "Type": "BANK", "Code": "NB1"}, "Bank Account Number"),
        ({"Name": "Nowhere", "Type": "PLANET", "Code": "P1"}, "Account Type"),
        ({"Name": "No code", "Type": "EXPENSE"}, "Code"),
    ]
    for body, words in cases:
        answer = requests.put(url, json=body, headers=headers, timeout=10)
        assert answer.status_code == 400, body
        assert answer.json()["Type"] == "ValidationException"
        assert words in str(answer.json()["Elements"][0]["ValidationErrors"]), (body, answer.text)
