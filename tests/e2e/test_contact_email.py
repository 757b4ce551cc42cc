"""The customer's email comes in with the invoice (Xero: the contact's EmailAddress; QuickBooks:
BillEmail), so customer notices have somewhere to go; a malformed one is dropped, never quarantined."""

from __future__ import annotations

from sqlalchemy import select

from connector.store.models import Invoice


def _ledger_emails(world) -> dict[str, str | None]:
    if world.provider == "quickbooks":
        records = world.qbo.ledger.books(world.realm).records["Invoice"]
        return {rid: (rec.doc.get("BillEmail") or {}).get("Address") for rid, rec in records.items()}
    tenant = world.xero.ledger.tenant(world.tenant("nz"))
    return {
        i.id: tenant.contacts[i.contact_id].email or None for i in tenant.invoices.values() if i.type == "ACCREC"
    }


def test_imported_invoices_carry_the_customers_email(any_world) -> None:
    result = any_world.sync()
    assert result.state == "succeeded"
    expected = _ledger_emails(any_world)
    with any_world.rt.sessions() as session:
        stored = {i.external_id: i.contact_email for i in session.scalars(select(Invoice)) if i.external_id in expected}
    assert stored and any(stored.values())
    assert stored == {k: expected[k] for k in stored}
