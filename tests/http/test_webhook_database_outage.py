"""A webhook that arrives while PostgreSQL drops connections: recorded once, or refused with a
503 the sender retries; never a 500, never half-recorded."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from recommendarr.http import inbox_writer
from recommendarr.shared import db
from tests.conftest import WEBHOOK_TOKEN, fixture_bytes

URL = "/api/v1/webhooks/tautulli"


def post(client: TestClient) -> Any:
    return client.post(
        URL,
        params={"token": WEBHOOK_TOKEN},
        content=fixture_bytes("tautulli/webhook_watched.json"),
        headers={"Content-Type": "application/json"},
    )


def inbox_rows(conn: db.Connection) -> int:
    row = conn.execute("SELECT count(*) AS n FROM inbox").fetchone()
    assert row is not None
    return int(row["n"])


def failing(times: int, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """write_batch raises as on a connection the server terminated, the first `times` calls."""
    real = inbox_writer.write_batch
    calls: list[int] = []

    def write_batch(*args: Any) -> Any:
        calls.append(1)
        if len(calls) <= times:
            raise psycopg.OperationalError("terminating connection due to administrator command")
        return real(*args)

    monkeypatch.setattr(inbox_writer, "write_batch", write_batch)
    return calls


def test_a_dropped_connection_is_retried_and_the_webhook_recorded_once(
    client: TestClient, conn: db.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = failing(1, monkeypatch)
    response = post(client)
    assert response.status_code == 202
    assert len(calls) == 2
    assert inbox_rows(conn) == 1


def test_a_database_that_stays_down_answers_503_with_retry_after_and_records_nothing(
    client: TestClient, conn: db.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing(2, monkeypatch)
    response = post(client)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "send it again" in response.json()["error"]["message"]
    assert inbox_rows(conn) == 0
    assert post(client).status_code == 202  # the sender's retry, once it is back
    assert inbox_rows(conn) == 1


def test_openapi_documents_the_503_and_its_retry_after(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    webhook_paths = [p for p in document["paths"] if "/webhooks/" in p]
    assert webhook_paths
    for path in webhook_paths:
        unavailable = document["paths"][path]["post"]["responses"]["503"]
        assert "Retry-After" in unavailable["headers"]
    recommendations = document["paths"]["/api/v1/users/{user_id}/recommendations"]["get"]
    assert "503" not in recommendations["responses"]
