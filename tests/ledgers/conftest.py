"""Fixtures the QuickBooks adapter tests share: XSD-checked sandboxes on a clock that starts now."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from connector.sandbox.quickbooks import FakeClock, QboLimits, QuickBooksSandbox
from tests.sandbox.factory import checked_sandboxes
from tests.sandbox.quickbooks.xsd_check import XsdChecker


@pytest.fixture(scope="session")
def xsd_checker() -> XsdChecker:
    return XsdChecker()


@pytest.fixture
def make(
    request: pytest.FixtureRequest, xsd_checker: XsdChecker, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., QuickBooksSandbox]]:
    """XSD-checked QuickBooks sandboxes on a fake clock that starts now (CDC's 30 days are counted
    from now), 15 invoices a company; a module's ``QBO_REALMS`` says how many companies (2)."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    realms = getattr(request.module, "QBO_REALMS", 2)
    yield from checked_sandboxes(
        QuickBooksSandbox,
        xsd_checker,
        lambda: {
            "seed": 11,
            "realms": realms,
            "clock": FakeClock(datetime.now(UTC).replace(microsecond=0)),
            "invoices_per_realm": 15,
            "limits": QboLimits.unlimited(),
        },
        "the QuickBooks XSD",
        shown=15,
    )
