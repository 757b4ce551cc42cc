"""Support notices go out as digests: one message per kind per connection per hour, never a storm."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from connector.actions.notices import BACKOFF, collect, send_due
from connector.store.models import Connection, Notification, QuarantinedRecord
from connector.store.types import utcnow
from tests.notify.conftest import SUPPORT, free_port, notify_runtime


def _quarantine(rt, n: int, start: int = 0) -> None:
    with rt.transaction() as session:
        connection_id = session.scalars(select(Connection.id)).one()
        for i in range(start, start + n):
            session.add(
                QuarantinedRecord(
                    connection_id=connection_id,
                    stream="invoices",
                    external_id=f"bad-{i}",
                    reason="Total is not a number",
                    raw="{}",
                )
            )


def test_a_burst_is_one_digest_and_the_next_waits_an_hour(notify_rt, inbox) -> None:
    now = utcnow()
    _quarantine(notify_rt, 200)
    assert collect(notify_rt, now) == 200
    assert send_due(notify_rt, now).sent == 200
    [digest] = inbox.to(SUPPORT)
    assert digest["Subject"] == "acme: 200 ledger record(s) could not be imported"
    assert digest.get_body(("plain",)).get_content().count("quarantined: Total is not a number") == 200
    _quarantine(notify_rt, 30, start=200)
    collect(notify_rt, now + timedelta(minutes=5))
    waiting = send_due(notify_rt, now + timedelta(minutes=5))
    assert waiting.sent == 0 and waiting.waiting == 30 and len(inbox.messages) == 1
    assert send_due(notify_rt, now + timedelta(minutes=30)).sent == 0  # still within the hour
    later = send_due(notify_rt, now + timedelta(minutes=61))
    assert later.sent == 30 and len(inbox.to(SUPPORT)) == 2


def test_kinds_and_connections_are_digested_apart(notify_rt, inbox) -> None:
    _quarantine(notify_rt, 3)
    with notify_rt.transaction() as session:
        connection = session.scalars(select(Connection)).one()
        connection.state, connection.state_reason = "needs_reconnect", "invalid_grant"
    collect(notify_rt)
    send_due(notify_rt)
    subjects = sorted(m["Subject"] for m in inbox.to(SUPPORT))
    assert subjects == ["acme needs reconnecting", "acme: 3 ledger record(s) could not be imported"]
    collect(notify_rt)  # the same reconnect episode again: nothing new
    assert send_due(notify_rt).sent == 0


def test_a_mail_server_down_is_retried_with_backoff_and_loses_nothing(db_url) -> None:
    from aiosmtpd.controller import Controller

    from tests.notify.conftest import Inbox

    port = free_port()
    rt = notify_runtime(db_url, port)  # nothing listens there yet
    try:
        now = utcnow()
        _quarantine(rt, 2)
        collect(rt, now)
        first = send_due(rt, now)
        assert first.sent == 0
        with rt.sessions() as session:
            rows = list(session.scalars(select(Notification)))
        assert all(r.state == "pending" and r.attempts == 1 and r.last_error for r in rows)
        assert send_due(rt, now).sent == 0  # not due again before its backoff
        box = Inbox()
        controller = Controller(box, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            assert send_due(rt, now + BACKOFF[0]).sent == 2 and len(box.messages) == 1
        finally:
            controller.stop()
    finally:
        rt.close()


def test_starttls_with_a_login_from_the_environment(db_url, tmp_path, monkeypatch) -> None:
    """The server refuses mail before STARTTLS and without a login: the notice still arrives."""
    import datetime as dt
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from connector.config import Config
    from connector.runtime import open_runtime
    from tests.conftest import ACCOUNTS
    from tests.notify.conftest import Inbox

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)

    def check(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret-pass"
        return AuthResult(success=ok)

    port = free_port()
    box = Inbox()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=check,
        auth_required=True,
    )
    controller.start()
    monkeypatch.setenv("CONNECTOR_SMTP_USER", "mailer")
    monkeypatch.setenv("CONNECTOR_SMTP_PASSWORD", "s3cret-pass")
    config = Config.model_validate(
        {
            "database": {"url": db_url},
            "smtp": {"host": "127.0.0.1", "port": port, "starttls": True, "ca_file": str(cert_file), "timeout": "3s"},
            "notifications": {"support": [SUPPORT]},
            "connections": [{"name": "acme", "provider": "xero", "tenant_id": "t-1", "accounts": ACCOUNTS}],
        }
    )
    rt = open_runtime(config=config)
    try:
        _quarantine(rt, 1)
        collect(rt)
        assert send_due(rt).sent == 1 and len(box.messages) == 1
        monkeypatch.setenv("CONNECTOR_SMTP_PASSWORD", "wrong")
        _quarantine(rt, 1, start=1)
        collect(rt)
        later = send_due(rt, utcnow() + timedelta(hours=2))
        assert later.sent == 0 and len(box.messages) == 1  # refused login: kept for a retry, never lost
        with rt.sessions() as session:
            failing = session.scalars(select(Notification).where(Notification.state == "pending")).one()
        assert (
            failing.attempts == 1
            and "s3cret" not in (failing.last_error or "")
            and "wrong" not in (failing.last_error or "")
        )
    finally:
        controller.stop()
        rt.close()


def test_every_kind_of_support_notice(notify_rt, inbox) -> None:
    """A conflict, a reconciliation difference, a write failing for over an hour, and 80 % of the
    day's API calls used: each becomes its own digest for the connection."""
    from decimal import Decimal

    from connector.store.models import ActivityEvent, OutboxEntry, ReconciliationFinding, SyncRun
    from tests.actions.conftest import add_invoice

    invoice_id = add_invoice(notify_rt, "INV-1")
    now = utcnow()
    with notify_rt.transaction() as session:
        connection_id = session.scalars(select(Connection.id)).one()
        session.add(
            ActivityEvent(
                invoice_id=invoice_id,
                kind="ledger_amount_changed",
                outcome="conflict",
                source="ledger",
                detail="the ledger changed the amount while collecting",
            )
        )
        session.add(
            ReconciliationFinding(
                connection_id=connection_id,
                kind="payment_missing",
                subject="p-1",
                invoice_id=invoice_id,
                currency="GBP",
                amount=Decimal("120.00"),
                ledger_value="none",
                platform_value="120.00",
                explanation="our payment is not in the ledger",
                suggested_fix="re-post it",
            )
        )
        session.add(
            OutboxEntry(
                connection_id=connection_id,
                invoice_id=invoice_id,
                kind="payment",
                idempotency_key="k-1",
                payload={},
                state="pending",
                attempts=3,
                last_error="the ledger answered 503",
                created_at=now - timedelta(hours=2),
            )
        )
        session.add(
            SyncRun(
                connection_id=connection_id,
                job="sync",
                state="succeeded",
                api_calls=4100,
                started_at=now - timedelta(minutes=5),
            )
        )
    collect(notify_rt, now)
    assert send_due(notify_rt, now).sent == 4
    subjects = sorted(m["Subject"] for m in inbox.to(SUPPORT))
    assert subjects == [
        "acme: 1 difference(s) between the ledger and the platform",
        "acme: 1 invoice(s) changed in the ledger while being collected",
        "acme: 1 ledger write(s) failing for over an hour",
        "acme: the ledger's daily API limit is nearly used",
    ]
    collect(notify_rt, now + timedelta(minutes=1))  # the same facts again: nothing new
    assert send_due(notify_rt, now + timedelta(hours=2)).sent == 0
