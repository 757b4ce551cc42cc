"""Steps 4 to 7 through the Flask test client, against the sandboxes over real HTTP: organisations,
accounts (validated against the live chart), settings (the config file's rules), the first import."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from connector.store.models import Connection, Grant, Invoice
from tests.web.setup import flow
from tests.web.setup.conftest import join_imports

XERO_ACCOUNTS = {"clearing": "095", "bank": "090", "fees": "404"}


def choose_all(admin, xero_sb) -> list[int]:
    flow.connect(admin, "xero", tenant=xero_sb.tenant_ids)
    form = {"tenant": xero_sb.tenant_ids}
    answer = admin.post("/setup/organisations", form)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    with admin.client.application.extensions["connector.runtime"].sessions() as session:
        return list(session.scalars(select(Connection.id).where(Connection.origin == "web").order_by(Connection.id)))


def finish(admin, app, cid: int, accounts: dict[str, str]) -> str:
    assert admin.post(f"/setup/{cid}/accounts", accounts).status_code == 302
    assert admin.post(f"/setup/{cid}/settings", {}).headers["Location"].endswith(f"/setup/{cid}/import")
    assert "Start the first import" in admin.get(f"/setup/{cid}/import").get_data(as_text=True)
    assert admin.post(f"/setup/{cid}/import", {}).status_code == 302
    join_imports(app)
    return admin.get(f"/setup/{cid}/import").get_data(as_text=True)


def test_two_xero_organisations_share_one_grant_and_import(admin, app, runtime, xero_sb, caplog):
    caplog.set_level(logging.DEBUG)
    pages = []
    ids = choose_all(admin, xero_sb)
    assert len(ids) == 2
    with runtime.sessions() as session:
        rows = [session.get(Connection, i) for i in ids]
        assert {r.tenant_id for r in rows} == set(xero_sb.tenant_ids)
        assert len({r.grant_id for r in rows}) == 1 and rows[0].grant_id is not None
        assert all(r.state == "setup" and r.token_ciphertext is None for r in rows)
        assert session.scalar(select(func.count()).select_from(Grant)) == 1
    for cid in ids:
        pages.append(admin.get(f"/setup/{cid}/accounts").get_data(as_text=True))
        done = finish(admin, app, cid, XERO_ACCOUNTS)
        pages.append(done)
        assert "is connected" in done and "Scheduled" in done
        progress = admin.get(f"/setup/{cid}/progress.json").get_json()
        assert progress["finished"] and progress["state"] == "succeeded" and progress["invoices"] > 0
        with runtime.sessions() as session:
            mine = (Invoice.connection_id == cid, Invoice.status == "scheduled")
            scheduled = session.scalar(select(func.count()).select_from(Invoice).where(*mine))
        assert progress["scheduled"] == scheduled > 0
        assert f"<strong>{scheduled}</strong> are now" in done
    assert "Next: set up" in pages[1] and "Next: set up" not in pages[3]
    pages.append(admin.get("/connections").get_data(as_text=True))
    # Tokens never reach a page, a log line or a message.
    secrets_seen = set(xero_sb.auth.access_tokens) | set(xero_sb.auth.refresh_tokens) | set(xero_sb.auth.codes)
    assert secrets_seen
    for text in [*pages, caplog.text]:
        for secret in secrets_seen:
            assert secret not in text


def test_accounts_are_validated_next_to_their_fields(admin, runtime, xero_sb):
    cid = choose_all(admin, xero_sb)[0]
    answer = admin.post(f"/setup/{cid}/accounts", {"clearing": "090", "bank": "090", "fees": "090"})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert 'id="bank-error"' in page and "different account from the clearing account" in page
    assert 'id="fees-error"' in page and "must be an expense account" in page
    assert 'aria-invalid="true" aria-describedby="bank-error bank-hint"' in page
    foreign = next(t for t in xero_sb.tenants if t.tenant_id == xero_sb.tenant_ids[0])
    answer = admin.post(f"/setup/{cid}/accounts", {"clearing": "092", "bank": "090", "fees": "404"})
    assert "keeps its books in " + foreign.base_currency in answer.get_data(as_text=True)
    answer = admin.post(f"/setup/{cid}/accounts", {"clearing": "200", "bank": "090", "fees": "404"})
    assert "bank transfer, which only works between bank accounts" in answer.get_data(as_text=True)
    with runtime.sessions() as session:
        assert "accounts" not in (session.get(Connection, cid).settings or {})


def test_settings_are_checked_by_the_config_rules(admin, runtime, xero_sb):
    cid = choose_all(admin, xero_sb)[0]
    page = admin.get(f"/setup/{cid}/settings").get_data(as_text=True)
    assert 'value="auto_collect" checked' in page and 'value="paid" checked' in page  # defaults preselected
    answer = admin.post(
        f"/setup/{cid}/settings",
        {"collection_mode": "auto_collect", "lead_days": "99", "max_attempts": "0", "intervals": "3, x"},
    )
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    for field in ("lead_days", "max_attempts", "intervals"):
        assert f'id="{field}-error"' in page
    answer = admin.post(
        f"/setup/{cid}/settings",
        {
            "collection_mode": "on_demand",
            "lead_days": "5",
            "max_attempts": "2",
            "intervals": "4 6",
            "post_payment_at": "submitted",
        },
    )
    assert answer.status_code == 302
    with runtime.sessions() as session:
        row = session.get(Connection, cid)
        assert row.collection_mode == "on_demand"
        assert row.settings["lead_days"] == 5 and row.settings["post_payment_at"] == "submitted"
        assert row.settings["retry"] == {"max_attempts": 2, "interval_days": [4, 6]}
        assert row.state == "setup"


def test_import_waits_for_accounts_and_settings(admin, xero_sb):
    cid = choose_all(admin, xero_sb)[0]
    assert admin.post(f"/setup/{cid}/import", {}).status_code == 409


def test_quickbooks_with_a_created_clearing_account(admin, app, runtime, qbo_sb):
    realm = qbo_sb.realm_ids[0]
    books = qbo_sb.ledger.books(realm)
    _rename_seeded_clearing(qbo_sb, realm)
    flow.connect(admin, "quickbooks", realmId=realm)
    page = admin.get("/setup/organisations").get_data(as_text=True)
    assert "Connect this company" in page
    assert admin.post("/setup/organisations", {}).status_code == 302
    with runtime.sessions() as session:
        row = session.scalars(select(Connection).where(Connection.origin == "web")).one()
        cid = row.id
        assert row.tenant_id == realm and row.tenant_name == books.company.name
    before = len(books.records["Account"])
    answer = admin.post(f"/setup/{cid}/accounts/clearing", {})
    assert answer.status_code == 302 and "clearing=" in answer.headers["Location"]
    assert len(books.records["Account"]) == before + 1
    made = flow.query(answer.headers["Location"])["clearing"]
    assert books.records["Account"][made].doc["Name"] == "Payments platform clearing"
    page = admin.get(answer.headers["Location"]).get_data(as_text=True)
    assert f'<option value="{made}" selected>' in page and "Created the account" in page
    done = finish(admin, app, cid, {"clearing": made, "bank": books.roles["bank"], "fees": books.roles["fees"]})
    assert "is connected" in done


def _rename_seeded_clearing(qbo_sb, realm: str) -> None:
    """A company that has no clearing account yet (the sandbox seeds one)."""
    books = qbo_sb.ledger.books(realm)
    record = books.records["Account"][books.roles["clearing"]]
    record.doc["Name"] = record.doc["FullyQualifiedName"] = "Old platform money"


def test_customer_notices_and_ledger_notes_are_switched_per_connection(admin, app, runtime, xero_sb):
    [cid, _] = choose_all(admin, xero_sb)
    assert admin.post(f"/setup/{cid}/accounts", XERO_ACCOUNTS).status_code == 302
    page = admin.get(f"/setup/{cid}/settings").get_data(as_text=True)
    assert page.count('type="checkbox"') == 5 and page.count("checked") >= 5  # all on by default
    form = {"notices_shown": "1", "notice_payment_confirmed": "1"}  # one notice kept, notes off
    assert admin.post(f"/setup/{cid}/settings", form).status_code == 302
    with runtime.sessions() as session:
        settings = session.get(Connection, cid).settings
    assert settings["customer_notices"] == ["payment_confirmed"] and settings["ledger_notes"] is False
    assert admin.post(f"/setup/{cid}/settings", {}).status_code == 302  # a form without them keeps them
    with runtime.sessions() as session:
        assert session.get(Connection, cid).settings["customer_notices"] == ["payment_confirmed"]
