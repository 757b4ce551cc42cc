"""A local Xero (identity + Accounting API) for the demo, the end-to-end tests and benchmarks.

See ``XeroSandbox`` for the Python API and ``cli.serve`` for ``connector sandbox xero``.
"""

from connector.sandbox.common.clock import FakeClock, SystemClock
from connector.sandbox.common.faults import FaultSpec
from connector.sandbox.common.ratelimit import RateLimits
from connector.sandbox.xero.sandbox import TenantInfo, XeroSandbox
from connector.sandbox.xero.state import ChangeEvent, Ledger, LedgerError, LineInput, NotFound

__all__ = [
    "ChangeEvent",
    "FakeClock",
    "FaultSpec",
    "Ledger",
    "LedgerError",
    "LineInput",
    "NotFound",
    "RateLimits",
    "SystemClock",
    "TenantInfo",
    "XeroSandbox",
]
