"""A local QuickBooks Online (Intuit OAuth + Accounting API v3) for the demo, the end-to-end
tests and benchmarks.

See ``QuickBooksSandbox`` for the Python API and ``cli.serve`` for ``connector sandbox quickbooks``.
"""

from connector.sandbox.common.clock import FakeClock, SystemClock
from connector.sandbox.common.faults import FaultSpec
from connector.sandbox.common.ratelimit import RateLimits
from connector.sandbox.quickbooks.ledger import ChangeEvent, Ledger
from connector.sandbox.quickbooks.limits import QboLimits
from connector.sandbox.quickbooks.model import Record
from connector.sandbox.quickbooks.oauth import SCOPE_ACCOUNTING
from connector.sandbox.quickbooks.sandbox import QuickBooksSandbox, RealmInfo
from connector.sandbox.quickbooks.wire import QboError

__all__ = [
    "SCOPE_ACCOUNTING",
    "ChangeEvent",
    "FakeClock",
    "FaultSpec",
    "Ledger",
    "QboError",
    "QboLimits",
    "QuickBooksSandbox",
    "RateLimits",
    "RealmInfo",
    "Record",
    "SystemClock",
]
