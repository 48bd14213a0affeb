"""POST /setup/integrations/test: admin only, validated, a job whose answer the endpoint waits for,
and a key that shows up in no answer, job, message or log line."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from starlette.testclient import TestClient

from recommendarr.broker import broker
from recommendarr.http.app import create_app
from recommendarr.http.auth import SecretHashes
from recommendarr.runtime import Runtime
from recommendarr.settings import Settings
from recommendarr.shared import db, resources
from recommendarr.shared.store import secrets, users
from tests.conftest import ADMIN_TOKEN, WEBHOOK_TOKEN, admin_headers, drain, queued
from tests.fake_media_servers import TAUTULLI_KEY, FakeTautulli
from tests.fake_tmdb import API_KEY as TMDB_KEY
from tests.fake_tmdb import serve_fake_tmdb

ENDPOINT = "/api/v1/setup/integrations/test"
SECRET_LOOKING_KEY = "zz-this-key-must-never-be-echoed-0123"


@pytest.fixture
def tautulli() -> Iterator[FakeTautulli]:
    with FakeTautulli().running() as server:
        yield server


def count(conn: db.Connection, table: str) -> int:
    row = conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()
    assert row is not None
    return int(row["n"])


def user_headers(conn: db.Connection) -> dict[str, str]:
    uid = users.upsert_plex_user(conn, "31690025", "bob_p", "Bob")
    _, token = secrets.issue_user_token(conn, uid, "test")
    conn.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_admin_gets_the_answer_within_the_wait(
    client: TestClient, tautulli: FakeTautulli, worker: dramatiq.Worker, conn: db.Connection
) -> None:
    body = {"type": "tautulli", "url": tautulli.url, "key": TAUTULLI_KEY}
    response = client.post(f"{ENDPOINT}?wait=10", json=body, headers=admin_headers())
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer == {
        "job_id": answer["job_id"],
        "ok": True,
        "type": "tautulli",
        "message": "Tautulli reachable; it tracks 2 libraries (Movies, TV Shows)",
    }
    job = client.get(f"/api/v1/jobs/{answer['job_id']}", headers=admin_headers()).json()
    assert (job["kind"], job["state"], job["attempts"]) == ("check_integration", "done", 1)
    assert job["result"] == {k: answer[k] for k in ("ok", "type", "message")}
    assert count(conn, "integration_checks") == 0


def test_a_failed_connection_is_an_answer_not_an_error(
    client: TestClient, tautulli: FakeTautulli, worker: dramatiq.Worker
) -> None:
    body = {"type": "tautulli", "url": tautulli.url, "key": SECRET_LOOKING_KEY}
    response = client.post(f"{ENDPOINT}?wait=10", json=body, headers=admin_headers())
    assert response.status_code == 200
    assert response.json()["ok"] is False
    assert response.json()["message"] == (
        f"the API key was rejected (HTTP 401) by Tautulli at {tautulli.url}"
    )


def test_without_waiting_it_is_a_job_to_read_later(
    client: TestClient,
    tautulli: FakeTautulli,
    conn: db.Connection,
    request: pytest.FixtureRequest,
) -> None:
    body = {"type": "tautulli", "url": tautulli.url, "key": TAUTULLI_KEY}
    response = client.post(f"{ENDPOINT}?wait=0", json=body, headers=admin_headers())
    assert response.status_code == 202
    job_id = response.json()["job_id"]
    assert response.json() == {"job_id": job_id, "inbox_id": None, "state": "queued"}
    assert queued()["events"] == 1
    # The message carries the job id only; the key waits in Postgres for the job.
    [raw] = list(broker.queues["events"].queue)
    message = dramatiq.Message.decode(raw)
    assert (message.actor_name, message.args) == ("check_integration", (job_id,))
    assert TAUTULLI_KEY.encode() not in raw
    assert count(conn, "integration_checks") == 1
    conn.commit()
    assert not tautulli.seen  # the endpoint never calls the service itself

    request.getfixturevalue("worker")
    drain()
    job = client.get(f"/api/v1/jobs/{job_id}", headers=admin_headers()).json()
    assert job["state"] == "done" and job["result"]["ok"] is True
    assert count(conn, "integration_checks") == 0


def test_only_the_admin_may_test(
    client: TestClient, tautulli: FakeTautulli, conn: db.Connection
) -> None:
    body = {"type": "tautulli", "url": tautulli.url, "key": TAUTULLI_KEY}
    as_user = client.post(ENDPOINT, json=body, headers=user_headers(conn))
    assert as_user.status_code == 403
    assert client.post(ENDPOINT, json=body).status_code == 401
    assert (count(conn, "jobs"), count(conn, "integration_checks")) == (0, 0)
    assert queued()["events"] == 0


GOOD = {"type": "radarr", "url": "http://radarr.lan:7878", "key": SECRET_LOOKING_KEY}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "emby"}, "type"),
        ({"type": None}, "type"),
        ({"url": "ftp://radarr.lan"}, "url"),
        ({"url": "radarr.lan:7878"}, "url"),
        ({"url": None}, "url"),
        ({"url": "http://radarr.lan/" + "a" * 500}, "url"),
        ({"url": f"http://radarr.lan:7878/?apikey={SECRET_LOOKING_KEY}"}, "url"),
        ({"url": f"http://admin:{SECRET_LOOKING_KEY}@radarr.lan:7878"}, "url"),
        ({"url": "http://radarr.lan:99999"}, "url"),
        ({"key": None}, "key"),
        ({"key": "short77"}, "key"),
        ({"key": ""}, "key"),
        ({"key": SECRET_LOOKING_KEY + "x" * 500}, "key"),
        ({"key": f"{SECRET_LOOKING_KEY} with spaces"}, "key"),
        ({"key": f"{SECRET_LOOKING_KEY}\r\nX-Injected: 1"}, "key"),
        ({"apikey": SECRET_LOOKING_KEY}, "apikey"),
    ],
)
def test_a_bad_body_is_422_naming_the_field_and_echoing_no_key(
    changes: dict[str, Any], field: str, client: TestClient, conn: db.Connection
) -> None:
    body = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    response = client.post(ENDPOINT, json=body, headers=admin_headers())
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith(f"{field}: ")
    assert SECRET_LOOKING_KEY not in response.text
    assert count(conn, "jobs") == 0


def test_a_body_that_is_not_json_is_400_and_a_bad_wait_is_422(client: TestClient) -> None:
    not_json = client.post(ENDPOINT, content=b"type=plex", headers=admin_headers())
    assert not_json.status_code == 400
    too_long = client.post(f"{ENDPOINT}?wait=16", json=GOOD, headers=admin_headers())
    assert too_long.status_code == 422
    assert "'wait'" in too_long.json()["error"]["message"]


@pytest.mark.parametrize("blank", [{}, {"key": ""}, {"key": "  "}])
def test_ollama_needs_no_key(
    blank: dict[str, str], client: TestClient, conn: db.Connection
) -> None:
    body = {"type": "ollama", "url": "http://ollama.lan:11434", **blank}
    response = client.post(f"{ENDPOINT}?wait=0", json=body, headers=admin_headers())
    assert response.status_code == 202
    row = conn.execute("SELECT kind, url, api_key FROM integration_checks").fetchone()
    assert row == {"kind": "ollama", "url": "http://ollama.lan:11434", "api_key": ""}


def test_a_check_left_unrun_for_an_hour_loses_its_key(
    client: TestClient, conn: db.Connection
) -> None:
    body = {"type": "ollama", "url": "http://ollama.lan:11434", "key": SECRET_LOOKING_KEY}
    first = client.post(f"{ENDPOINT}?wait=0", json=body, headers=admin_headers()).json()
    conn.execute(
        "UPDATE integration_checks SET created_at = now() - interval '61 minutes' "
        "WHERE job_id = %s",
        (first["job_id"],),
    )
    conn.commit()
    second = client.post(f"{ENDPOINT}?wait=0", json=body, headers=admin_headers()).json()
    rows = conn.execute("SELECT job_id FROM integration_checks").fetchall()
    assert rows == [{"job_id": second["job_id"]}]


@pytest.fixture
def tmdb_client(res: resources.Resources, settings: Settings) -> Iterator[tuple[TestClient, str]]:
    """The app with TMDB_BASE_URL pointing at a loopback TMDB."""
    with serve_fake_tmdb() as base_url:
        configured = settings.model_copy(update={"tmdb_base_url": base_url})
        runtime = Runtime(
            resources=dataclasses.replace(res, settings=configured),
            secret_hashes=SecretHashes(
                admin=secrets.digest(ADMIN_TOKEN), webhook=secrets.digest(WEBHOOK_TOKEN)
            ),
            worker=None,
        )
        with TestClient(create_app(configured, runtime=runtime)) as test_client:
            yield test_client, base_url


def test_tmdb_without_a_url_tests_the_configured_base_url(
    tmdb_client: tuple[TestClient, str], worker: dramatiq.Worker, conn: db.Connection
) -> None:
    client, base_url = tmdb_client
    body = {"type": "tmdb", "key": TMDB_KEY}
    response = client.post(f"{ENDPOINT}?wait=10", json=body, headers=admin_headers())
    assert response.status_code == 200
    assert response.json()["message"] == "TMDB accepted the API key"
    wrong = client.post(
        f"{ENDPOINT}?wait=10", json={**body, "key": SECRET_LOOKING_KEY}, headers=admin_headers()
    )
    assert wrong.json()["message"] == f"the API key was rejected (HTTP 401) by TMDB at {base_url}"


def test_the_key_is_in_no_answer_job_table_or_log(
    client: TestClient,
    tautulli: FakeTautulli,
    worker: dramatiq.Worker,
    conn: db.Connection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    texts = []
    for key in (TAUTULLI_KEY, SECRET_LOOKING_KEY):
        body = {"type": "tautulli", "url": tautulli.url, "key": key}
        response = client.post(f"{ENDPOINT}?wait=10", json=body, headers=admin_headers())
        job_id = response.json()["job_id"]
        texts += [response.text, client.get(f"/api/v1/jobs/{job_id}", headers=admin_headers()).text]
    rows = conn.execute("SELECT * FROM jobs").fetchall()
    assert len(rows) == 2 and all(r["state"] == "done" for r in rows)
    assert count(conn, "integration_checks") == 0
    for key in (TAUTULLI_KEY, SECRET_LOOKING_KEY):
        assert all(key not in text for text in texts)
        assert key not in json.dumps(rows, default=str)
        assert key not in caplog.text
    # The upstream was called with the key, so the absence above is redaction, not luck.
    assert any(seen.query.get("apikey") == TAUTULLI_KEY for seen in tautulli.seen)
    assert any("apikey=***" in record.getMessage() for record in caplog.records)


def test_openapi_documents_the_endpoint(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"][ENDPOINT]["post"]
    assert set(operation["responses"]) >= {"200", "202", "401", "403", "422"}
    schema = document["components"]["schemas"]["IntegrationTest"]
    assert set(schema["properties"]) == {"type", "url", "key"}
    assert "ollama" in schema["properties"]["type"]["enum"]
