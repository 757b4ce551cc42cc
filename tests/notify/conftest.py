"""A real local SMTP server (aiosmtpd) on a free loopback port, and a runtime that mails to it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from connector.config import Config
from connector.runtime import Runtime, open_runtime
from tests.conftest import ACCOUNTS

SUPPORT = "support@connector.example"


class Inbox:
    """What the SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, r in zip(self.messages, self.recipients, strict=True) if address in r]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield box
    controller.stop()


def notify_runtime(db_url: str, smtp_port: int, **connection: object) -> Runtime:
    config = Config.model_validate(
        {
            "database": {"url": db_url},
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "starttls": False, "sender": "Connector <c@example.com>"},
            "notifications": {"support": [SUPPORT]},
            "connections": [
                {"name": "acme", "provider": "xero", "tenant_id": "t-1", "accounts": ACCOUNTS, **connection}
            ],
        }
    )
    return open_runtime(config=config)


@pytest.fixture
def notify_rt(db_url: str, smtp_port: int) -> Iterator[Runtime]:
    rt = notify_runtime(db_url, smtp_port)
    yield rt
    rt.close()
