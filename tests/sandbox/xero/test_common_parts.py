"""The provider-neutral parts a QuickBooks sandbox will reuse, tested on their own."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from flask import Flask

from connector.sandbox.common.clock import FakeClock
from connector.sandbox.common.idempotency import IdempotencyCache, Outcome, StoredResponse
from connector.sandbox.common.persistence import load_json, save_json
from connector.sandbox.common.ratelimit import RateLimiter, RateLimits
from connector.sandbox.common.server import ServerThread
from connector.sandbox.common.wsgi import CaseInsensitivePaths


def test_fake_clock_only_moves_forward() -> None:
    clock = FakeClock(datetime(2024, 1, 1, tzinfo=UTC))
    clock.advance(minutes=2, seconds=3)
    assert clock.now() == datetime(2024, 1, 1, 0, 2, 3, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.set(datetime(2023, 1, 1, tzinfo=UTC))
    ticking = FakeClock(tick=timedelta(milliseconds=1))
    assert ticking.now() < ticking.now()


def test_fixed_windows_per_tenant() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(per_minute=2, per_day=3, concurrent=None, app_per_minute=None), clock)
    assert limiter.acquire("a").remaining == {"minute": 1, "day": 2}
    assert limiter.acquire("a").admitted
    refused = limiter.acquire("a")
    assert (refused.admitted, refused.problem, refused.retry_after) == (False, "minute", 60)
    clock.advance(seconds=45)
    assert limiter.acquire("a").retry_after == 15
    assert limiter.acquire("b").admitted  # another tenant has its own windows
    clock.advance(seconds=15)
    assert limiter.acquire("a").admitted
    day = limiter.acquire("a")
    assert (day.problem, day.retry_after) == ("day", 86400 - 60)


def test_concurrency_gate_and_app_limit() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(per_minute=None, per_day=None, concurrent=1, app_per_minute=2), clock)
    assert limiter.acquire("a").admitted
    assert limiter.acquire("a").problem == "concurrent"
    limiter.release("a")
    assert limiter.acquire("b").admitted
    assert limiter.acquire("c").problem == "appminute"


def test_idempotency_cache_replays_conflicts_and_expires() -> None:
    clock = FakeClock()
    cache = IdempotencyCache(clock)
    assert cache.begin("t", "k", "f1").outcome is Outcome.PROCEED
    cache.complete("t", "k", StoredResponse(200, b"first"))
    replay = cache.begin("t", "k", "f1")
    assert replay.outcome is Outcome.REPLAY and replay.response.body == b"first"  # type: ignore[union-attr]
    assert cache.begin("t", "k", "f2").outcome is Outcome.CONFLICT
    assert cache.begin("other", "k", "f2").outcome is Outcome.PROCEED
    clock.advance(minutes=6)
    assert cache.begin("t", "k", "f2").outcome is Outcome.PROCEED


def test_idempotency_waits_for_the_first_call_and_forgets_unreplayable_ones() -> None:
    cache = IdempotencyCache(FakeClock())
    assert cache.begin("t", "k", "f").outcome is Outcome.PROCEED
    seen: list[Outcome] = []
    waiter = threading.Thread(target=lambda: seen.append(cache.begin("t", "k", "f").outcome))
    waiter.start()
    cache.complete("t", "k", StoredResponse(200, b"ok"))
    waiter.join(300)  # generous: ends as soon as the waiter does
    assert seen == [Outcome.REPLAY]
    assert cache.begin("t", "k2", "f").outcome is Outcome.PROCEED
    cache.complete("t", "k2", None)  # e.g. a 500: a retry should run again
    assert cache.begin("t", "k2", "f").outcome is Outcome.PROCEED


def test_server_thread_and_case_insensitive_paths() -> None:
    app = Flask("t")
    app.add_url_rule("/Connections", "c", lambda: "ok")
    with ServerThread(CaseInsensitivePaths(app, {"Connections": "Connections"})) as server:
        assert requests.get(server.url + "/connections", timeout=5).text == "ok"
        assert requests.get(server.url + "/CONNECTIONS", timeout=5).text == "ok"
        port = server.port
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/connections", timeout=2)


def test_json_persistence_is_atomic(tmp_path) -> None:
    target = tmp_path / "state.json"
    assert load_json(target) is None
    save_json(target, {"a": 1})
    save_json(target, {"a": 2})
    assert load_json(target) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
