"""QuickBooks queries carry every value through one escaping helper (issue 17, #12 part).

QBO's query language quotes strings with ``'`` and escapes with ``\\``. A value holding either
used to end the literal early: the query was refused (or, worse, asked something else).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.ledgers.calls import RetrySettings
from connector.ledgers.errors import ValidationError
from connector.ledgers.quickbooks import qbo_list, qbo_string
from connector.ledgers.records import LedgerInvoice
from connector.sandbox.quickbooks import QuickBooksSandbox
from connector.sandbox.quickbooks.query import parse
from connector.sandbox.xero import RateLimits
from tests.ledger_kit import qbo_adapter

ONCE = RetrySettings(attempts=1)


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("130", "'130'"),
        ("O'Brien", "'O\\'Brien'"),
        ("back\\slash", "'back\\\\slash'"),
        ("ends with \\", "'ends with \\\\'"),
        ("\\'", "'\\\\\\''"),
        ("", "''"),
    ],
)
def test_a_value_becomes_one_quoted_literal(value, literal):
    assert qbo_string(value) == literal
    # QBO's grammar (as the sandbox parses it) reads the literal back as the same value.
    query = parse(f"SELECT * FROM Invoice WHERE DocNumber = {literal}")
    assert query.where[0].values == [value]


def test_a_list_for_in():
    assert qbo_list(["1", "it's"]) == "('1', 'it\\'s')"
    odd = ["1", "a\\b", "it's"]
    assert parse(f"SELECT * FROM Invoice WHERE Id IN {qbo_list(odd)}").where[0].values == odd


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[QuickBooksSandbox]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with QuickBooksSandbox(seed=5, realms=1, invoices_per_realm=5, limits=RateLimits.unlimited()) as sb:
        yield sb


@pytest.mark.parametrize("odd", ["1' OR Id > '0", "1\\", "\\'", "it's 1"])
def test_ids_with_quotes_and_backslashes_reach_quickbooks_whole(sandbox, odd):
    """QBO ids are numbers, so it refuses these: as values it read whole, not as a query cut short
    (before: ``OR is not supported``, or an unterminated string)."""
    ledger = qbo_adapter(sandbox, retry=ONCE)
    some = next(iter(sandbox.ledger.books(sandbox.realm_ids[0]).records["Invoice"]))
    with pytest.raises(ValidationError) as refused:
        ledger.get_invoices([some, odd])
    assert f"value {odd!r} is not valid for this property" in str(refused.value)


def test_ordinary_ids_are_found(sandbox):
    ledger = qbo_adapter(sandbox, retry=ONCE)
    ids = list(sandbox.ledger.books(sandbox.realm_ids[0]).records["Invoice"])[:3]
    assert sorted(i.external_id for i in ledger.get_invoices(ids) if isinstance(i, LedgerInvoice)) == sorted(ids)
