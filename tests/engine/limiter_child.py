"""One worker process of the limiter race: ``calls`` real calls to one Xero tenant, each through the
Redis-kept :class:`~connector.ledgers.shared_limits.SharedLimiter`, printed as one JSON line.

    python tests/engine/limiter_child.py REDIS_URL PREFIX API_URL TENANT ACCESS_TOKEN CALLS PER_MINUTE CONCURRENT WINDOW
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import requests

from connector.ledgers.limits import Limits
from connector.ledgers.shared_limits import SharedLimiter, SharedLimits


def main(argv: list[str]) -> None:
    redis_url, prefix, api_url, tenant, token, calls, per_minute, concurrent, window = argv
    limits = SharedLimits(Limits(per_minute=int(per_minute), concurrent=int(concurrent), per_day=None), None)
    limiter = SharedLimiter(redis_url, "xero", "race-app", tenant, limits=limits, prefix=prefix, window=int(window))
    statuses: Counter[int] = Counter()
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": tenant, "Accept": "application/json"}
    for _ in range(int(calls)):
        with limiter.slot():
            statuses[session.get(f"{api_url}/Organisation", headers=headers, timeout=30).status_code] += 1
    print(json.dumps({"statuses": statuses, "waited": round(limiter.waited, 2)}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
