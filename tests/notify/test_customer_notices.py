"""Customer notices: stored from the activity log, mailed (text and HTML), shown in the timeline."""

from __future__ import annotations

from sqlalchemy import select

from connector.actions import Actor
from connector.actions import platform as platform_actions
from connector.actions.notices import collect, send_due
from connector.store.models import ActivityEvent, Invoice, Notification
from tests.actions.conftest import add_invoice
from tests.notify.conftest import notify_runtime

PLATFORM = Actor.platform("acme-pay")


def _with_email(rt, number: str, email: str | None = "ana@customer.example") -> int:
    invoice_id = add_invoice(rt, number)
    with rt.transaction() as session:
        session.get(Invoice, invoice_id).contact_email = email
    return invoice_id


def _timeline(rt, invoice_id: int) -> list[str]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                select(ActivityEvent.detail).where(
                    ActivityEvent.invoice_id == invoice_id, ActivityEvent.kind == "customer_notice"
                )
            )
        )


def test_payment_confirmed_reaches_the_customer(notify_rt, inbox) -> None:
    invoice_id = _with_email(notify_rt, "INV-1")
    platform_actions.record_event(notify_rt, "collection_started", ["INV-1"], actor=PLATFORM)
    platform_actions.record_event(notify_rt, "collection_confirmed", ["INV-1"], actor=PLATFORM)
    assert collect(notify_rt) == 1
    counts = send_due(notify_rt)
    assert counts.sent == 1
    [mail] = inbox.to("ana@customer.example")
    assert mail["Subject"] == "Invoice INV-1: payment received, thank you"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Hello Bayside Club" in text and "120.00 GBP" in text and "<strong>INV-1</strong>" in html
    assert _timeline(notify_rt, invoice_id) == [
        "Customer notice (payment confirmed) sent to ana@customer.example: Invoice INV-1: payment received, thank you"
    ]
    assert collect(notify_rt) == 0 and send_due(notify_rt).sent == 0  # once only


def test_a_failed_collection_says_when_it_is_retried(notify_rt, inbox) -> None:
    _with_email(notify_rt, "INV-1")
    platform_actions.record_event(notify_rt, "collection_started", ["INV-1"], actor=PLATFORM)
    platform_actions.record_event(
        notify_rt, "collection_failed", ["INV-1"], actor=PLATFORM, reason="insufficient funds"
    )
    collect(notify_rt)
    send_due(notify_rt)
    [mail] = inbox.to("ana@customer.example")
    with notify_rt.sessions() as session:
        retry_on = session.scalars(select(Invoice.collection_date)).one()
    text = mail.get_body(("plain",)).get_content()
    assert (
        "did not go through." in text and "insufficient" not in text and f"try again on {retry_on.isoformat()}" in text
    )


def test_a_kind_switched_off_is_stored_but_not_sent(db_url, smtp_port, inbox) -> None:
    rt = notify_runtime(db_url, smtp_port, customer_notices=["payment_confirmed"])
    try:
        invoice_id = _with_email(rt, "INV-1")
        platform_actions.record_event(rt, "collection_started", ["INV-1"], actor=PLATFORM)
        platform_actions.record_event(rt, "collection_failed", ["INV-1"], actor=PLATFORM)
        collect(rt)
        assert send_due(rt).sent == 0 and inbox.messages == []
        with rt.sessions() as session:
            assert session.scalars(select(Notification.state)).all() == ["off"]
        assert _timeline(rt, invoice_id) == [
            "Customer notice (collection failed) not sent: switched off for this connection"
        ]
    finally:
        rt.close()


def test_no_email_in_the_ledger_is_said_in_the_timeline(notify_rt, inbox) -> None:
    invoice_id = _with_email(notify_rt, "INV-1", None)
    platform_actions.record_event(notify_rt, "collection_started", ["INV-1"], actor=PLATFORM)
    platform_actions.record_event(notify_rt, "collection_confirmed", ["INV-1"], actor=PLATFORM)
    collect(notify_rt)
    assert send_due(notify_rt).sent == 0
    assert "no email address" in _timeline(notify_rt, invoice_id)[0]


def test_a_persons_change_with_notify_ticked_tells_the_customer_and_without_does_not(notify_rt, inbox) -> None:
    from connector.actions.invoices import set_status

    _with_email(notify_rt, "INV-1")
    _with_email(notify_rt, "INV-2", "bo@customer.example")
    person = Actor.person("sam")
    set_status(notify_rt, "INV-1", "voided", "raised twice by mistake", actor=person, notify_customer=True)
    set_status(notify_rt, "INV-2", "voided", "raised twice by mistake", actor=person, notify_customer=False)
    collect(notify_rt)
    send_due(notify_rt)
    [mail] = inbox.messages
    assert inbox.recipients == [["ana@customer.example"]]
    assert mail["Subject"] == "Invoice INV-1: an update"
    text = mail.get_body(("plain",)).get_content()
    assert "it is now voided." in text and "mistake" not in text  # the person's reason stays internal
