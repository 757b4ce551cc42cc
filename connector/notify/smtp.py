"""Sending one message by SMTP: STARTTLS and login when configured, a timeout always."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from connector.config import SmtpConfig
from connector.notify.compose import Mail


class SendFailed(Exception):
    """The mail server did not take the message; the text says why (never a password)."""


def send(config: SmtpConfig, recipient: str, mail: Mail) -> str:
    """Send ``mail`` to ``recipient``; returns its Message-ID."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = recipient
    message["Subject"] = mail.subject
    message_id = make_msgid(domain="connector.local")
    message["Message-ID"] = message_id
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout.total_seconds()) as client:
            if config.starttls:
                client.starttls(context=ssl.create_default_context(cafile=config.ca_file or None))
            if config.username():
                client.login(config.username(), config.password())
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"{config.host}:{config.port}: {type(exc).__name__}: {exc}") from None
    return message_id
