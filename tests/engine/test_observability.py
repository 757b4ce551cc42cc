"""What an operator reads: ``/metrics``, JSON log lines, and the daily API budget in ``connector status``.

These need no broker (the embedded engine's database is enough), so they run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import logging

from sqlalchemy import select

from connector import logs
from connector.config import Config
from connector.store.models import Connection, OutboxEntry, SyncRun
from connector.store.types import utcnow
from connector.web.app import create_app
from tests.ledger_kit import cli_runner


def _history(runtime) -> None:
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        session.add(SyncRun(connection_id=conn.id, job="sync", state="succeeded", counts={}, api_calls=1200))
        session.add(SyncRun(connection_id=conn.id, job="sync", state="failed", counts={}, api_calls=300, error="x"))
        session.add(
            OutboxEntry(connection_id=conn.id, kind="payment", idempotency_key="k-1", payload={}, created_at=utcnow())
        )


def test_metrics_per_connection_loopback_or_token(runtime, monkeypatch) -> None:
    _history(runtime)
    client = create_app(runtime).test_client()
    body = client.get("/metrics").get_data(as_text=True)
    assert 'connector_api_calls_24h{connection="acme"} 1500.0' in body
    assert 'connector_api_calls_daily_limit{connection="acme"} 5000.0' in body
    assert 'connector_last_sync_success{connection="acme"} 0.0' in body  # the last run failed
    assert 'connector_sync_failures_24h{connection="acme"} 1.0' in body
    assert 'connector_outbox_depth{connection="acme"} 1.0' in body
    assert "connector_outbox_oldest_age_seconds" in body and "connector_last_sync_age_seconds" in body
    assert "connector_queue_depth" not in body  # the embedded engine has no queues
    # through a proxy, or from elsewhere: not answered
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 404
    monkeypatch.setenv("CONNECTOR_METRICS_TOKEN", "s3cret-token")
    assert client.get("/metrics").status_code == 404
    ok = client.get(
        "/metrics", headers={"Authorization": "Bearer s3cret-token"}, environ_base={"REMOTE_ADDR": "10.0.0.5"}
    )
    assert ok.status_code == 200 and ok.mimetype == "text/plain"


def test_json_log_lines_carry_the_ids_and_never_a_token() -> None:
    config = Config.model_validate({"logging": {"format": "json", "level": "INFO"}})
    out = io.StringIO()
    handler = logs.configure(config, stream=out)
    try:
        with logs.context(connection="acme", task="t-1", job="import"):
            logs.bind(run=42)
            logging.getLogger("connector.test").info(
                'refreshed: {"access_token": "eyJhbGciOi.abc", "refresh_token": "r-123"} Authorization: Bearer eyJz.x'
            )
        logging.getLogger("connector.test").warning("broker amqp://guest:hunter2@mq:5672// away")
    finally:
        logging.getLogger().removeHandler(handler)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert (first["connection"], first["run"], first["task"], first["job"]) == ("acme", 42, "t-1", "import")
    assert "eyJ" not in first["message"] and "r-123" not in first["message"] and "***" in first["message"]
    assert "connection" not in second and "hunter2" not in second["message"]
    assert {"ts", "level", "logger", "host", "pid"} <= set(first)


def test_status_shows_the_days_api_budget(runtime, db_url, monkeypatch, tmp_path) -> None:
    _history(runtime)
    run = cli_runner(db_url, monkeypatch, tmp_path)
    code, out, _ = run("status")
    assert code == 0 and "API calls, last 24 h: acme 1,500/5,000 (30%)" in " ".join(out.split())
    code, out, _ = run("status", "--json")
    assert json.loads(out)["api_budget"] == [
        {"connection": "acme", "provider": "xero", "calls_24h": 1500, "daily_limit": 5000}
    ]
