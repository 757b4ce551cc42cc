"""Provider-neutral pieces shared by the ledger sandboxes (Xero now, QuickBooks later).

Nothing here knows a ledger's wire format: a clock tests can move, a threaded HTTP
server runner, fault injection, rate limiting, idempotency keys, signed webhooks,
deterministic seed helpers, JSON persistence and an exchange recorder.
"""

from connector.sandbox.common.clock import Clock, FakeClock, SystemClock
from connector.sandbox.common.faults import FaultInjector, FaultKind, FaultSpec, FaultSpecError
from connector.sandbox.common.idempotency import IdempotencyCache, StoredResponse
from connector.sandbox.common.ratelimit import Admission, RateLimiter, RateLimits
from connector.sandbox.common.recording import Exchange
from connector.sandbox.common.server import ServerThread
from connector.sandbox.common.webhooks import WebhookSender, sign_body, verify_signature

__all__ = [
    "Admission",
    "Clock",
    "Exchange",
    "FakeClock",
    "FaultInjector",
    "FaultKind",
    "FaultSpec",
    "FaultSpecError",
    "IdempotencyCache",
    "RateLimiter",
    "RateLimits",
    "ServerThread",
    "StoredResponse",
    "SystemClock",
    "WebhookSender",
    "sign_body",
    "verify_signature",
]
