"""The client-side limiter keeps to the minute window and the concurrency gate without refusing."""

from __future__ import annotations

import threading

from connector.ledgers.limits import Limits, RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_61st_call_in_a_minute_waits_for_the_window():
    t = FakeTime()
    limiter = RateLimiter(Limits(per_minute=60, concurrent=None), clock=t.clock, sleep=t.sleep)
    for _ in range(60):
        with limiter.slot():
            t.now += 0.1
    assert t.slept == []
    with limiter.slot():
        pass
    assert len(t.slept) == 1 and 53.9 < t.slept[0] <= 60


def test_retry_after_and_the_ledgers_own_count_are_honoured():
    t = FakeTime()
    limiter = RateLimiter(Limits(per_minute=60, concurrent=None), clock=t.clock, sleep=t.sleep)
    limiter.back_off(7)
    with limiter.slot():
        pass
    assert t.slept == [7]
    limiter.observe(0)  # the ledger says the minute is spent (another process of ours?)
    with limiter.slot():
        pass
    assert t.slept[-1] == 60


def test_no_more_than_the_concurrency_limit_at_once():
    limiter = RateLimiter(Limits(per_minute=None, concurrent=2))
    inside, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def work() -> None:
        with limiter.slot():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            release.wait(0.05)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert peak[0] == 2
