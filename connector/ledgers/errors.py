"""Errors a ledger can answer with, one class per thing the caller does differently.

Modelled on stripe-python's error classes: every error carries the HTTP status, the ledger's
own message and whether a retry can help, so the retry policy and the push engine decide on
the class, never on parsing text.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every ledger error."""

    retryable: bool = False

    def __init__(self, message: str, *, http_status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code

    def __str__(self) -> str:
        status = f" (HTTP {self.http_status})" if self.http_status else ""
        return f"{self.message}{status}"


class TransientError(LedgerError):
    """5xx, a maintenance window, a dropped connection, a timeout, a body that is not JSON: retry."""

    retryable = True


class ResponseTooLarge(TransientError):
    """The answer's body was bigger than the adapter will read; it stopped reading at the cap.

    Transient: the ledger may answer a smaller page next time, and either way the sync fails with
    this reason instead of the process running out of memory.
    """

    def __init__(self, message: str, *, limit: int, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.limit = limit


class RateLimitError(LedgerError):
    """Over the per-minute (or concurrency) limit: retry after ``retry_after`` seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float, problem: str = "minute", **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after
        self.problem = problem


class DailyLimitError(LedgerError):
    """The day's allowance is spent: this connection stops until the window opens."""

    def __init__(self, message: str, *, retry_after: float, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class AuthenticationError(LedgerError):
    """The access token was refused; one refresh may cure it."""


class ReconnectRequired(LedgerError):
    """The refresh token is dead (``invalid_grant``) or consent was withdrawn: a person must reconnect."""


class ValidationError(LedgerError):
    """The ledger refused the request as invalid. Permanent: kept with its message for support."""

    def __init__(self, message: str, *, messages: list[str] | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.messages = messages or [message]


class NotFound(LedgerError):
    """The record is not (or no longer) in the ledger."""


class StaleObject(LedgerError):
    """QuickBooks 5010: someone changed the record since we read it; re-read and retry once."""

    retryable = True
