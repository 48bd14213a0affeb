"""POST /webhooks/radarr and /webhooks/sonarr: auth, validation, recording, processing."""

from __future__ import annotations

import base64
import json

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from recommendarr.shared import db
from tests.conftest import WEBHOOK_TOKEN, admin_headers, fixture_bytes, queued, run_queued

FIXTURES = [
    "radarr/webhook_grab.json",
    "radarr/webhook_download.json",
    "radarr/webhook_movie_added.json",
    "radarr/webhook_test.json",
    "sonarr/webhook_grab.json",
    "sonarr/webhook_download.json",
    "sonarr/webhook_download_develop.json",
    "sonarr/webhook_series_add.json",
    "sonarr/webhook_test.json",
]
FINAL_STATE = {"webhook_test.json": "ignored"}


@pytest.fixture(autouse=True)
def clean_arr_items(conn: db.Connection) -> None:
    conn.execute("TRUNCATE arr_items")
    conn.commit()


def basic(username: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def post(
    client: TestClient,
    source: str,
    body: bytes,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> httpx.Response:
    return client.request(
        method,
        f"/api/v1/webhooks/{source}",
        params=params if params is not None else {"token": WEBHOOK_TOKEN},
        content=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def count(conn: db.Connection, table: str) -> int:
    row = conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()
    assert row is not None
    return int(row["n"])


@pytest.mark.parametrize("path", FIXTURES)
def test_each_fixture_is_accepted_and_recorded_once(
    client: TestClient, conn: db.Connection, path: str
) -> None:
    source, name = path.split("/")
    body = fixture_bytes(path)
    response = post(client, source, body)
    assert response.status_code == 202, response.text
    accepted = response.json()
    row = conn.execute(
        "SELECT source, body, state FROM inbox WHERE id = %s", (accepted["inbox_id"],)
    ).fetchone()
    assert row is not None and row["source"] == source and bytes(row["body"]) == body
    assert queued()["events"] == 1
    job = client.get(f"/api/v1/jobs/{accepted['job_id']}", headers=admin_headers()).json()
    assert job["kind"] == f"webhook:{source}"

    # Radarr retries a delivery it thinks failed: the second copy records nothing new.
    assert post(client, source, body).status_code == 202
    run_queued()
    states = conn.execute("SELECT state FROM inbox ORDER BY id").fetchall()
    assert [s["state"] for s in states] == [FINAL_STATE.get(name, "done")] * 2
    expected_rows = 0 if name == "webhook_test.json" else 1
    assert count(conn, "arr_items") == expected_rows
    assert count(conn, "item_availability") == (1 if "download" in name else 0)
    assert count(conn, "items") == (1 if "download" in name else 0)


def test_basic_auth_password_is_the_secret(client: TestClient) -> None:
    body = fixture_bytes("radarr/webhook_grab.json")
    for username in ("radarr", "", "anything at all"):
        response = post(client, "radarr", body, params={}, headers=basic(username, WEBHOOK_TOKEN))
        assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    "headers",
    [
        basic("radarr", "wrong-secret"),
        basic(WEBHOOK_TOKEN, ""),
        {"Authorization": "Basic not-base64!!"},
        {"Authorization": "Basic " + base64.b64encode(WEBHOOK_TOKEN.encode()).decode()},
        {"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
        {},
    ],
)
def test_bad_credentials_are_401(
    client: TestClient, conn: db.Connection, headers: dict[str, str]
) -> None:
    response = post(
        client, "sonarr", fixture_bytes("sonarr/webhook_grab.json"), params={}, headers=headers
    )
    assert response.status_code == 401
    assert WEBHOOK_TOKEN not in response.text
    assert count(conn, "inbox") == 0


def test_missing_credentials_say_how_to_send_them(client: TestClient) -> None:
    response = post(client, "radarr", fixture_bytes("radarr/webhook_grab.json"), params={})
    message = response.json()["error"]["message"]
    assert "?token=" in message and "Basic" in message


def test_query_token_and_header_token(client: TestClient) -> None:
    body = fixture_bytes("sonarr/webhook_series_add.json")
    assert post(client, "sonarr", body, params={"token": WEBHOOK_TOKEN}).status_code == 202
    assert post(client, "sonarr", body, params={"token": "nope"}).status_code == 401
    header = {"X-Recommendarr-Token": WEBHOOK_TOKEN}
    assert post(client, "sonarr", body, params={}, headers=header).status_code == 202


def test_put_is_accepted_like_post(client: TestClient) -> None:
    body = fixture_bytes("radarr/webhook_download.json")
    assert post(client, "radarr", body, method="PUT").status_code == 202


@pytest.mark.parametrize(("source", "body"), [("radarr", b'{"eventType": '), ("sonarr", b"[]")])
def test_unreadable_body_is_400(
    client: TestClient, conn: db.Connection, source: str, body: bytes
) -> None:
    response = post(client, source, body)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("body:")
    assert count(conn, "inbox") == 0


def test_missing_field_is_422_naming_it(client: TestClient, conn: db.Connection) -> None:
    payload = json.loads(fixture_bytes("radarr/webhook_download.json"))
    del payload["movie"]["tmdbId"]
    response = post(client, "radarr", json.dumps(payload).encode())
    assert response.status_code == 422
    assert "movie.tmdbId" in response.json()["error"]["message"]
    payload = json.loads(fixture_bytes("sonarr/webhook_grab.json"))
    del payload["eventType"]
    response = post(client, "sonarr", json.dumps(payload).encode())
    assert response.status_code == 422
    assert "eventType" in response.json()["error"]["message"]
    assert count(conn, "inbox") == 0


def test_a_radarr_body_sent_to_the_sonarr_url_is_422(client: TestClient) -> None:
    response = post(client, "sonarr", fixture_bytes("radarr/webhook_download.json"))
    assert response.status_code == 422
    assert "series" in response.json()["error"]["message"]


def test_oversized_body_is_413(client: TestClient, conn: db.Connection) -> None:
    payload = json.loads(fixture_bytes("radarr/webhook_grab.json"))
    payload["movie"]["overview"] = "x" * (300 * 1024)
    response = post(client, "radarr", json.dumps(payload).encode())
    assert response.status_code == 413
    assert count(conn, "inbox") == 0


def test_endpoints_are_documented(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for source in ("radarr", "sonarr"):
        assert {"post", "put"} <= set(paths[f"/api/v1/webhooks/{source}"])
