"""The invoice's private note, as the connector's ledger notes use it (issue 15): QuickBooks keeps
4000 characters of a PrivateNote (fault 2050 beyond, in QBO's words), a sparse update keeps every
other field, and an update from a stale SyncToken is 5010 with nothing changed. Over HTTP, raw."""

from __future__ import annotations

from typing import Any

from tests.sandbox.quickbooks.conftest import QboClient
from tests.sandbox.quickbooks.test_entities import home_customer, new_invoice
from tests.sandbox.quickbooks.test_strict import _raw


def _invoice(client: QboClient) -> dict[str, Any]:
    made = new_invoice(home_customer(client), 50.0).save(qb=client.qb)
    return client.qb.get_single_object("Invoice", made.Id)["Invoice"]


def _note_update(client: QboClient, invoice: dict[str, Any], note: str, sync: str | None = None) -> Any:
    body = {"Id": invoice["Id"], "SyncToken": sync or invoice["SyncToken"], "sparse": True, "PrivateNote": note}
    return _raw(client, "invoice", body)


def test_a_sparse_private_note_update_keeps_the_rest(client: QboClient) -> None:
    invoice = _invoice(client)
    answer = _note_update(client, invoice, "Chased by phone\nDirect debit started (cx:abcdefabcdef)")
    assert answer.status_code == 200, answer.text
    after = answer.json()["Invoice"]
    assert after["PrivateNote"].endswith("(cx:abcdefabcdef)") and after["SyncToken"] == "1"
    assert (after["TotalAmt"], after["Balance"], after["Line"]) == (
        invoice["TotalAmt"],
        invoice["Balance"],
        invoice["Line"],
    )


def test_4000_characters_are_kept_and_one_more_is_fault_2050(client: QboClient) -> None:
    invoice = _invoice(client)
    assert _note_update(client, invoice, "n" * 4000).status_code == 200
    invoice = client.qb.get_single_object("Invoice", invoice["Id"])["Invoice"]
    refused = _note_update(client, invoice, "n" * 4001)
    assert refused.status_code == 400
    [error] = refused.json()["Fault"]["Error"]
    assert error["code"] == "2050" and error["element"] == "PrivateNote"
    assert error["Message"] == "String length is either shorter or longer than supported by specification"
    assert "Max:4000 supported. Supplied length:4001" in error["Detail"]
    again = client.qb.get_single_object("Invoice", invoice["Id"])["Invoice"]
    assert (len(again["PrivateNote"]), again["SyncToken"]) == (4000, invoice["SyncToken"])  # nothing written


def test_a_note_from_a_stale_synctoken_is_5010_and_changes_nothing(client: QboClient) -> None:
    invoice = _invoice(client)
    client.sandbox.ledger.update_entity(client.realm_id, "Invoice", invoice["Id"], PrivateNote="typed in QBO")
    refused = _note_update(client, invoice, "ours (cx:abcdefabcdef)")  # the SyncToken read before the edit
    assert refused.status_code == 400
    assert refused.json()["Fault"]["Error"][0]["code"] == "5010"
    assert client.qb.get_single_object("Invoice", invoice["Id"])["Invoice"]["PrivateNote"] == "typed in QBO"
