"""Money, the retry policy and fingerprints: the small values the table relies on."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from connector.domain import CollectionPolicy, Money, RetryPolicy
from connector.domain.fingerprint import fingerprint


def test_money_is_exact_and_refuses_floats_and_mixed_currencies():
    assert Money.of("0.10", "GBP") + Money.of("0.20", "GBP") == Money.of("0.30", "GBP")
    with pytest.raises(TypeError):
        Money(0.1, "GBP")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="combine"):
        Money.of("1", "GBP") + Money.of("1", "EUR")
    with pytest.raises(ValueError, match="three-letter"):
        Money.of("1", "pounds")
    assert str(Money.of("5", "NZD")) == "5.00 NZD"


def test_retry_policy_repeats_its_last_interval_and_stops_at_max():
    policy = RetryPolicy(max_attempts=5, intervals=(timedelta(days=1), timedelta(days=3)))
    start = date(2026, 1, 1)
    assert [policy.next_collection(n, start) for n in range(1, 6)] == [
        date(2026, 1, 2),
        date(2026, 1, 4),
        date(2026, 1, 4),
        date(2026, 1, 4),
        None,
    ]
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_collection_date_is_never_in_the_past():
    policy = CollectionPolicy(lead_days=2)
    today = date(2026, 5, 1)
    assert policy.collection_date(date(2026, 5, 20), today) == date(2026, 5, 20)
    assert policy.collection_date(date(2026, 4, 1), today) == date(2026, 5, 3)
    assert policy.collection_date(today, today) == date(2026, 5, 3)


def test_fingerprint_ignores_case_punctuation_and_company_suffixes():
    a = fingerprint("Ridgeway University Ltd.", "INV-0001", Decimal("250"), "gbp")
    b = fingerprint("ridgeway  university", "inv 0001", Decimal("250.00"), "GBP")
    assert a == b
    assert a != fingerprint("Ridgeway University", "INV-0001", Decimal("250.01"), "GBP")
    assert a != fingerprint("Ridgeway University", "INV-0001", Decimal("250"), "EUR")
