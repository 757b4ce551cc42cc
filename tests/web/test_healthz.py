"""``GET /healthz``: 200 with the database reachable, 503 without."""

from __future__ import annotations

from connector.web.app import create_app


def test_healthy(anonymous) -> None:
    response = anonymous.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_database_away_is_503(runtime, monkeypatch) -> None:
    from sqlalchemy import create_engine

    app = create_app(runtime)
    runtime.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "unavailable"
