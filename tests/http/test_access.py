"""Every endpoint that takes a user id or object id: user A's token on user B's data is a 404."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from recommendarr.shared import db
from recommendarr.shared.store import jobs, secrets
from tests.conftest import admin_headers
from tests.helpers import add_user, seed_library


@pytest.fixture
def two_users(conn: db.Connection) -> tuple[int, int, dict[str, str]]:
    seed_library(conn, tmdb_ids=[27205])
    alice, bob = add_user(conn, "1001", "alice"), add_user(conn, "1002", "bob")
    _, token = secrets.issue_user_token(conn, alice, "test")
    conn.commit()
    return alice, bob, {"Authorization": f"Bearer {token}"}


USER_ENDPOINTS = [
    ("GET", "/api/v1/users/{id}"),
    ("GET", "/api/v1/users/{id}/history"),
    ("GET", "/api/v1/users/{id}/recommendations"),
    ("GET", "/api/v1/users/{id}/recommendations?mode=shuffle"),
    ("GET", "/api/v1/users/{id}/onboarding/quiz"),
    ("POST", "/api/v1/users/{id}/onboarding/quiz"),
    ("POST", "/api/v1/users/{id}/refresh"),
    ("POST", "/api/v1/users/{id}/feedback"),
    ("GET", "/api/v1/users/{id}/feedback"),
    ("DELETE", "/api/v1/users/{id}/feedback/movie/27205"),
    ("GET", "/api/v1/users/{id}/why-not/movie/27205"),
    ("GET", "/api/v1/filters/influences/{id}"),
    ("POST", "/api/v1/filters/influences/{id}"),
    ("GET", "/api/v1/users/{id}/settings"),
    ("PATCH", "/api/v1/users/{id}/settings"),
]
# The JSON body an endpoint needs to succeed (only the caller decides its answer).
BODIES: dict[tuple[str, str], object] = {
    ("POST", "/api/v1/users/{id}/feedback"): {
        "media_type": "movie",
        "tmdb_id": 27205,
        "kind": "hide",
    },
    ("POST", "/api/v1/filters/influences/{id}"): {
        "kind": "genre",
        "key": "Horror",
        "action": "block",
    },
    ("PATCH", "/api/v1/users/{id}/settings"): {"history_window_months": 6},
}
OK = (200, 201, 202)


@pytest.mark.parametrize(("method", "path"), USER_ENDPOINTS)
def test_user_token_reads_own_user(
    client: TestClient, two_users: tuple[int, int, dict[str, str]], method: str, path: str
) -> None:
    alice, _, headers = two_users
    response = client.request(
        method, path.format(id=alice), headers=headers, json=BODIES.get((method, path))
    )
    assert response.status_code in OK, response.text


@pytest.mark.parametrize(("method", "path"), USER_ENDPOINTS)
def test_user_token_on_another_user_is_404(
    client: TestClient, two_users: tuple[int, int, dict[str, str]], method: str, path: str
) -> None:
    _, bob, headers = two_users
    response = client.request(
        method, path.format(id=bob), headers=headers, json=BODIES.get((method, path))
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"no user {bob}"


@pytest.mark.parametrize(("method", "path"), USER_ENDPOINTS)
def test_admin_reads_anyone_and_missing_is_404(
    client: TestClient, two_users: tuple[int, int, dict[str, str]], method: str, path: str
) -> None:
    _, bob, _ = two_users
    body = BODIES.get((method, path))
    assert (
        client.request(method, path.format(id=bob), headers=admin_headers(), json=body).status_code
        in OK
    )
    missing = client.request(method, path.format(id=999), headers=admin_headers(), json=body)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"), [*USER_ENDPOINTS, ("GET", "/api/v1/users"), ("GET", "/api/v1/jobs/{id}")]
)
def test_no_or_bad_token_is_401(
    client: TestClient, two_users: tuple[int, int, dict[str, str]], method: str, path: str
) -> None:
    alice, _, _ = two_users
    url = path.format(id=alice)
    assert client.request(method, url).status_code == 401
    assert client.request(method, url, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_user_list_shows_only_self(
    client: TestClient, two_users: tuple[int, int, dict[str, str]]
) -> None:
    alice, _, headers = two_users
    users = client.get("/api/v1/users", headers=headers).json()["users"]
    assert [u["id"] for u in users] == [alice]
    assert len(client.get("/api/v1/users", headers=admin_headers()).json()["users"]) == 2


def test_jobs_of_another_user_are_404(
    client: TestClient, conn: db.Connection, two_users: tuple[int, int, dict[str, str]]
) -> None:
    alice, bob, headers = two_users
    own = jobs.create(conn, "refresh_profile", user_id=alice, subject_id=alice)
    theirs = jobs.create(conn, "refresh_profile", user_id=bob, subject_id=bob)
    webhook = jobs.create(conn, "webhook:tautulli", user_id=None, subject_id=1)
    conn.commit()
    assert client.get(f"/api/v1/jobs/{own}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/jobs/{theirs}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/jobs/{webhook}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/jobs/{theirs}", headers=admin_headers()).status_code == 200


def test_issuing_tokens_is_admin_only(
    client: TestClient, two_users: tuple[int, int, dict[str, str]]
) -> None:
    alice, bob, headers = two_users
    assert client.post(f"/api/v1/users/{alice}/tokens", headers=headers).status_code == 403
    issued = client.post(
        f"/api/v1/users/{bob}/tokens", headers=admin_headers(), json={"label": "tv"}
    )
    assert issued.status_code == 201
    bob_headers = {"Authorization": f"Bearer {issued.json()['token']}"}
    assert client.get(f"/api/v1/users/{bob}", headers=bob_headers).status_code == 200
    assert client.get(f"/api/v1/users/{alice}", headers=bob_headers).status_code == 404


def test_tokens_are_stored_hashed(
    conn: db.Connection, two_users: tuple[int, int, dict[str, str]]
) -> None:
    _, _, headers = two_users
    token = headers["Authorization"].removeprefix("Bearer ")
    rows = conn.execute("SELECT sha256 FROM user_tokens").fetchall()
    assert all(token.encode() not in bytes(r["sha256"]) for r in rows)
    assert bytes(rows[0]["sha256"]) == secrets.digest(token)


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "99999999999999999999"])
def test_bad_path_ids_are_422(client: TestClient, bad: str) -> None:
    response = client.get(f"/api/v1/users/{bad}/history", headers=admin_headers())
    assert response.status_code == 422
    assert "user_id" in response.json()["error"]["message"]


def test_bad_query_params_are_422(
    client: TestClient, two_users: tuple[int, int, dict[str, str]]
) -> None:
    alice, _, headers = two_users
    url = f"/api/v1/users/{alice}/recommendations"
    assert (
        "limit" in client.get(url, params={"limit": 0}, headers=headers).json()["error"]["message"]
    )
    assert (
        "mode"
        in client.get(url, params={"mode": "bogus"}, headers=headers).json()["error"]["message"]
    )
