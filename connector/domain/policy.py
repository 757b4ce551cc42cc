"""The per-connection rules the domain needs to decide: retry policy and when a payment is posted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum


class PostPaymentAt(StrEnum):
    """When the ledger hears of a direct-debit payment.

    ``paid`` (default) waits for the bank's confirmation; ``submitted`` posts as soon as the
    collection starts (as some platforms do for Xero) and deletes the payment if it fails.
    """

    PAID = "paid"
    SUBMITTED = "submitted"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """After a failed collection, when to try again, and how many times in all.

    ``intervals[i]`` is the wait after the (i+1)-th failure; when there are fewer intervals
    than retries the last one repeats. ``max_attempts`` counts every collection attempt,
    the first included.
    """

    max_attempts: int = 3
    intervals: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=5), timedelta(days=7))

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not self.intervals or any(i.days < 1 for i in self.intervals):
            raise ValueError("retry intervals must be whole days of at least one day")

    def next_collection(self, attempts_so_far: int, failed_on: date) -> date | None:
        """The next collection date after ``attempts_so_far`` failed attempts, or None when none is left."""
        if attempts_so_far >= self.max_attempts:
            return None
        wait = self.intervals[min(attempts_so_far, len(self.intervals)) - 1]
        return failed_on + timedelta(days=wait.days)


@dataclass(frozen=True, slots=True)
class CollectionPolicy:
    """Everything about one connection that changes what a transition does."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    post_payment_at: PostPaymentAt = PostPaymentAt.PAID
    #: An invoice already due when it is placed is collected this many days after it arrives.
    lead_days: int = 3
    #: The one currency the connection can post (the organisation's base currency, where the clearing
    #: account is). Invoices in any other currency are refused for collection with the reason: the
    #: connector posts no exchange rate, so it would misstate clearing (see docs/accounting.md).
    #: None while the ledger has not told us yet.
    currency: str | None = None

    def cannot_post(self, currency: str) -> str | None:
        """Why money in ``currency`` cannot be posted on this connection, or None when it can."""
        if self.currency is None or currency == self.currency:
            return None
        return (
            f"the invoice is in {currency} but this connection posts only {self.currency} "
            "(its base currency, where the clearing account is): foreign-currency collection is "
            "not supported, so collect it outside the platform"
        )

    def retries_used_up(self, attempts: int) -> bool:
        """Every collection attempt has been spent: only a person may re-enable collection."""
        return attempts >= self.retry.max_attempts

    def collection_date(self, due_date: date | None, today: date) -> date:
        """Collect on the due date; an invoice already due (or with none) ``lead_days`` from today."""
        if due_date is not None and due_date > today:
            return due_date
        return today + timedelta(days=self.lead_days)
