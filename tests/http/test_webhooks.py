from __future__ import annotations

import json

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from recommendarr.shared import db
from tests.conftest import WEBHOOK_TOKEN, admin_headers, fixture_bytes, queued, run_queued
from tests.helpers import tautulli

URL = "/api/v1/webhooks/tautulli"


def post(client: TestClient, body: bytes, token: str | None = WEBHOOK_TOKEN) -> httpx.Response:
    params = {"token": token} if token is not None else {}
    return client.post(
        URL, params=params, content=body, headers={"Content-Type": "application/json"}
    )


def test_accepts_records_and_enqueues(client: TestClient, conn: db.Connection) -> None:
    response = post(client, fixture_bytes("tautulli/webhook_watched.json"))
    assert response.status_code == 202
    body = response.json()
    row = conn.execute(
        "SELECT source, body, state FROM inbox WHERE id = %s", (body["inbox_id"],)
    ).fetchone()
    assert row is not None and row["state"] == "received"
    assert bytes(row["body"]) == fixture_bytes("tautulli/webhook_watched.json")
    assert queued()["events"] == 1
    job = client.get(f"/api/v1/jobs/{body['job_id']}", headers=admin_headers()).json()
    assert job["state"] == "queued" and job["kind"] == "webhook:tautulli"


def test_watched_posted_twice_records_one_event(client: TestClient, conn: db.Connection) -> None:
    for _ in range(2):
        assert post(client, fixture_bytes("tautulli/webhook_watched.json")).status_code == 202
    run_queued()
    row = conn.execute("SELECT count(*) AS n FROM watch_events").fetchone()
    assert row == {"n": 1}
    states = conn.execute("SELECT state FROM inbox ORDER BY id").fetchall()
    assert [s["state"] for s in states] == ["done", "done"]


def test_header_token_works(client: TestClient) -> None:
    response = client.post(
        URL,
        content=fixture_bytes("tautulli/webhook_playback_stop.json"),
        headers={"X-Recommendarr-Token": WEBHOOK_TOKEN},
    )
    assert response.status_code == 202


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_wrong_or_missing_token_is_401(
    client: TestClient, conn: db.Connection, token: str | None
) -> None:
    response = post(client, fixture_bytes("tautulli/webhook_watched.json"), token=token)
    assert response.status_code == 401
    assert "token" in response.json()["error"]["message"]
    assert conn.execute("SELECT count(*) AS n FROM inbox").fetchone() == {"n": 0}


def test_malformed_json_is_400(client: TestClient) -> None:
    response = post(client, b'{"action": "stop",')
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_non_object_is_400(client: TestClient) -> None:
    assert post(client, b"[1, 2]").status_code == 400


@pytest.mark.parametrize("field", ["action", "user_id", "rating_key", "media_type"])
def test_missing_field_is_422_naming_it(client: TestClient, field: str) -> None:
    payload = tautulli()
    del payload[field]
    response = post(client, json.dumps(payload).encode())
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith(f"{field}:")


def test_unrendered_placeholder_is_422(client: TestClient) -> None:
    response = post(client, json.dumps(tautulli(progress_percent="{progress_percent}")).encode())
    assert response.status_code == 422
    assert "progress_percent" in response.json()["error"]["message"]


def test_oversized_body_is_413(client: TestClient, conn: db.Connection) -> None:
    response = post(client, b'{"pad": "' + b"x" * 300_000 + b'"}')
    assert response.status_code == 413
    assert conn.execute("SELECT count(*) AS n FROM inbox").fetchone() == {"n": 0}


def test_job_reaches_done_through_the_worker(client: TestClient, worker: object) -> None:
    from tests.conftest import drain

    job_id = post(client, fixture_bytes("tautulli/webhook_playback_stop.json")).json()["job_id"]
    drain()
    job = client.get(f"/api/v1/jobs/{job_id}", headers=admin_headers()).json()
    assert job["state"] == "done" and job["attempts"] == 1


def test_failed_job_keeps_its_error(
    client: TestClient, conn: db.Connection, worker: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from recommendarr.shared.errors import Permanent
    from tests.conftest import drain

    module = importlib.import_module("recommendarr.functions.on_watch_event")

    def broken(*args: object, **kwargs: object) -> None:
        raise Permanent("the parser exploded")

    monkeypatch.setattr(module, "record", broken)
    job_id = post(client, fixture_bytes("tautulli/webhook_playback_stop.json")).json()["job_id"]
    with pytest.raises(Exception, match="the parser exploded"):
        drain()  # the stub broker re-raises a dead-lettered message's error on join
    job = client.get(f"/api/v1/jobs/{job_id}", headers=admin_headers()).json()
    assert job["state"] == "failed" and "the parser exploded" in job["error"]
    inbox_state = conn.execute("SELECT state FROM inbox").fetchone()
    assert inbox_state == {"state": "received"}  # kept for the reconciler and the operator
