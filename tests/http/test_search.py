from __future__ import annotations

from starlette.testclient import TestClient

from recommendarr.shared import db
from recommendarr.shared.store import libraries, secrets
from tests.conftest import admin_headers
from tests.helpers import FACTS, SERVER_ID, add_user, seed_library


def restricted_household(conn: db.Connection) -> tuple[int, int, dict[str, str]]:
    """Alice sees Movies and 4K; Bob sees only Movies. The Prestige exists only in 4K."""
    seed_library(conn, tmdb_ids=[27205, 157336, 862])
    seed_library(conn, section="2", name="4K", tmdb_ids=[1124])
    server = libraries.upsert_server(conn, "plex", SERVER_ID)
    libraries.upsert_library(conn, server, "2", "4K", "movies")
    alice = add_user(conn, "1001", "alice", sections=("1", "2"))
    bob = add_user(conn, "1002", "bob", sections=("1",))
    _, token = secrets.issue_user_token(conn, bob, "tv")
    conn.commit()
    return alice, bob, {"Authorization": f"Bearer {token}"}


def titles(client: TestClient, user_id: int, q: str, headers: dict[str, str]) -> list[str]:
    response = client.get(f"/api/v1/users/{user_id}/search", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return [hit["title"] for hit in response.json()["items"]]


def test_search_finds_titles_by_name_prefix_first(client: TestClient, conn: db.Connection) -> None:
    alice, _, _ = restricted_household(conn)
    assert titles(client, alice, "in", admin_headers()) == ["Inception", "Interstellar"]
    assert titles(client, alice, "STORY", admin_headers()) == ["Toy Story"]
    assert titles(client, alice, "%", admin_headers()) == []  # LIKE wildcards are literal


def test_search_never_shows_a_title_from_a_library_the_user_cannot_access(
    client: TestClient, conn: db.Connection
) -> None:
    alice, bob, bob_headers = restricted_household(conn)
    assert "The Prestige" in titles(client, alice, "prestige", admin_headers())
    assert titles(client, bob, "prestige", bob_headers) == []
    assert (
        titles(client, bob, "prestige", admin_headers()) == []
    )  # not even when the admin asks as Bob
    assert FACTS[1124].title == "The Prestige"


def test_search_is_per_user(client: TestClient, conn: db.Connection) -> None:
    alice, _, bob_headers = restricted_household(conn)
    response = client.get(f"/api/v1/users/{alice}/search", params={"q": "in"}, headers=bob_headers)
    assert response.status_code == 404


def test_search_needs_a_query(client: TestClient, conn: db.Connection) -> None:
    alice, _, _ = restricted_household(conn)
    for params in ({}, {"q": "  "}, {"q": "x" * 201}):
        response = client.get(
            f"/api/v1/users/{alice}/search", params=params, headers=admin_headers()
        )
        assert response.status_code == 422
        assert "'q'" in response.json()["error"]["message"]
