"""A real cluster on this machine: PostgreSQL, RabbitMQ, Redis, worker and scheduler processes, sandboxes.

Every test run gets its own RabbitMQ virtual host, its own PostgreSQL database and its own Redis
key prefix, so runs in parallel never meet, and all three are removed afterwards. The services
must be running: without them the tests skip, except under ``CI=true``, where they fail (``.ci/run``
starts them), like the browser tests' :func:`tests.web.kit.chromium_or_skip`.

Nothing is mocked. The sandboxes run in this process (threads serving HTTP); around each one's
rate limiter sits a :class:`CountingLimiter` that records every call it admitted or refused, per
tenant, so a test can say no tenant went over its limit.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PG_ADMIN = os.environ.get("CONNECTOR_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBIT = ("127.0.0.1", 5672)
REDIS_URL = os.environ.get("CONNECTOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
XERO_ACCOUNTS = {"clearing": "095", "bank": "090", "fees": "404"}
ROOT = Path(__file__).resolve().parents[2]


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def services_or_skip() -> None:
    """PostgreSQL, RabbitMQ and Redis on loopback; a skip without them, a failure under CI.

    ``dev.py test`` runs the suite twice, on SQLite then on PostgreSQL: these tests make their own
    PostgreSQL database either way, so the second pass skips them instead of running them again.
    """
    if os.environ.get("CONNECTOR_TEST_DATABASE_URL"):
        pytest.skip("the engine's service tests ran in the first pass, on their own PostgreSQL database")
    missing = [
        name
        for name, (host, port) in {
            "PostgreSQL": ("127.0.0.1", 5432),
            "RabbitMQ": RABBIT,
            "Redis": ("127.0.0.1", 6379),
        }.items()
        if not _answers(host, port)
    ]
    if not missing:
        return
    message = f"{', '.join(missing)} not running on 127.0.0.1 (.ci/run starts them)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=120)


@contextmanager
def rabbit_vhost() -> Iterator[str]:
    """A fresh virtual host for guest, deleted afterwards (its queues and messages with it)."""
    name = f"connector-test-{uuid.uuid4().hex[:10]}"
    try:
        made = _rabbitmqctl("add_vhost", name)
    except (OSError, subprocess.SubprocessError) as exc:
        made = subprocess.CompletedProcess([], 1, "", str(exc))
    if made.returncode != 0:
        message = f"cannot add a RabbitMQ virtual host (rabbitmqctl): {made.stderr.strip()[:200]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        yield name
    finally:
        _rabbitmqctl("delete_vhost", name)


@contextmanager
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database, dropped afterwards."""
    import psycopg

    name = f"connector_engine_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A key prefix of our own in Redis, every key under it deleted afterwards."""
    import redis

    prefix = f"connector-test-{uuid.uuid4().hex[:10]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(f"{prefix}:*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i : i + 500])
        client.close()


class CountingLimiter:
    """Wraps a sandbox's limiter: counts what it admitted and refused, per tenant, and the fullest minute seen."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.admitted: Counter[str] = Counter()
        self.refused: Counter[tuple[str, str]] = Counter()
        #: The most calls any tenant had in one of the sandbox's own minute windows.
        self.fullest_minute: Counter[str] = Counter()
        self.most_at_once: Counter[str] = Counter()
        self._lock = threading.Lock()

    def acquire(self, tenant: str) -> Any:
        admission = self.inner.acquire(tenant)
        with self._lock:
            if admission.admitted:
                self.admitted[tenant] += 1
                state = self.inner._tenants[tenant]
                self.fullest_minute[tenant] = max(self.fullest_minute[tenant], state.minute.count)
                self.most_at_once[tenant] = max(self.most_at_once[tenant], state.in_flight)
            else:
                self.refused[(tenant, admission.problem or "?")] += 1
        return admission

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


LAUNCH = (
    "import sys; sys.argv[0] = 'connector'; from connector.cli.engine import app; "
    "from connector.cli.common import run_cli; run_cli(app)"
)


def engine_command(config: Path, *args: str) -> list[str]:
    """``connector <args>`` for the engine's commands, by this interpreter."""
    return [sys.executable, "-c", LAUNCH, "--config", str(config), *args]


@dataclass
class Cluster:
    """Config, environment and the processes of one cluster; stops them all at the end."""

    config: Path
    env: dict[str, str]
    logs: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str, name: str) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the process owns it until it ends
        proc = subprocess.Popen(
            engine_command(self.config, *args),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 takes the prefork children too
            cwd=ROOT,
        )
        proc.log_path = self.logs / f"{name}.log"  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def worker(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        return self.start("worker", *args, name=name)

    def scheduler(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        return self.start("scheduler", *args, name=name)

    @staticmethod
    def kill9(proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL to the process and its children at once, as a machine that dies."""
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)

    @staticmethod
    def stop(proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            Cluster.kill9(proc)

    def stop_all(self) -> None:
        for proc in self.procs:
            self.stop(proc)

    @staticmethod
    def log_lines(proc: subprocess.Popen[bytes]) -> list[dict[str, Any]]:
        """The process's JSON log lines (others, such as Celery's banner, are left out)."""
        lines = []
        for raw in Path(proc.log_path).read_text(errors="replace").splitlines():  # type: ignore[attr-defined]
            if raw.startswith("{"):
                try:
                    lines.append(json.loads(raw))
                except ValueError:
                    continue
        return lines

    @staticmethod
    def log_text(proc: subprocess.Popen[bytes]) -> str:
        return Path(proc.log_path).read_text(errors="replace")  # type: ignore[attr-defined]


def wait_for(
    what: str, predicate: Callable[[], Any], procs: list[subprocess.Popen[bytes]] = (), polls: int = 3000
) -> Any:  # type: ignore[assignment]
    """Poll until ``predicate()`` is truthy (a hang guard of ``polls`` looks, never a timing assertion)."""
    for _ in range(polls):
        value = predicate()
        if value:
            return value
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(
                    f"a process ended (exit {proc.returncode}) before {what}:\n{Cluster.log_text(proc)[-3000:]}"
                )
        time.sleep(0.1)
    pytest.fail(f"gave up waiting for {what}")


def write_config(
    path: Path,
    *,
    database: str,
    broker: str,
    xero: Any | None,
    qbo: Any | None,
    connections: list[dict[str, Any]],
    concurrency: int = 2,
) -> Path:
    """The operator's config file, as TOML."""
    ledgers: dict[str, Any] = {}
    if xero is not None:
        ledgers["xero"] = {
            "client_id": xero.client_id,
            "client_secret_env": "XERO_SANDBOX_SECRET",
            "api_url": xero.accounting_url,
            "identity_url": xero.identity_url,
            "token_url": xero.token_url,
            "authorize_url": xero.authorize_url,
        }
    if qbo is not None:
        ledgers["quickbooks"] = {
            "client_id": qbo.client_id,
            "client_secret_env": "QBO_SANDBOX_SECRET",
            "redirect_uri": qbo.redirect_uri,
            "api_url": qbo.api_url,
            "identity_url": qbo.discovery_url,
        }
    doc = {
        "database": {"url": database},
        "engine": {
            "kind": "celery",
            "broker_url": broker,
            "redis_url": REDIS_URL,
            "concurrency": concurrency,
            "task_time_limit": "10m",
        },
        "logging": {"format": "json", "level": "INFO"},
        "ledgers": ledgers,
        "connections": connections,
    }
    path.write_text(_toml(doc))
    return path


def _toml(doc: dict[str, Any]) -> str:
    """Enough TOML for a config: tables, arrays of tables, strings, numbers, booleans, inline tables."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(str(v))

    out: list[str] = []
    for table, body in doc.items():
        if isinstance(body, list):
            for entry in body:
                out.append(f"[[{table}]]")
                out.extend(f"{k} = {value(v)}" for k, v in entry.items())
                out.append("")
            continue
        plain = {k: v for k, v in body.items() if not isinstance(v, dict) or table != "ledgers"}
        if table == "ledgers":
            for sub, fields in body.items():
                out.append(f"[ledgers.{sub}]")
                out.extend(f"{k} = {value(v)}" for k, v in fields.items())
                out.append("")
            continue
        out.append(f"[{table}]")
        out.extend(f"{k} = {value(v)}" for k, v in plain.items())
        out.append("")
    return "\n".join(out)
