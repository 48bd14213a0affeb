"""/filters/influences/{user_id}: what drives a user's picks, and their overrides."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from recommendarr.shared import db
from recommendarr.shared.domain.adjustments import Override
from recommendarr.shared.domain.taste import TasteProfile
from recommendarr.shared.store import overrides, profiles, secrets
from tests.conftest import admin_headers
from tests.helpers import add_user, seed_library
from tests.http.test_feedback import sent

User = tuple[int, dict[int, int], dict[str, str]]


@pytest.fixture
def alice(conn: db.Connection) -> User:
    ids = seed_library(conn, tmdb_ids=[27205, 157336, 862, 694])
    user_id = add_user(conn, "3001", "alice")
    profile = TasteProfile(
        domain="movies",
        centroid=None,
        anti_profile=None,
        item_weights={ids[27205]: 0.6, ids[157336]: 0.35},
        abandoned={ids[862]: 0.9},
        genre_weights={"Science Fiction": 1.0, "Action": 0.4, "Drama": 0.5},
        person_weights={"Christopher Nolan": 1.0, "Anne Hathaway": 0.35},
    )
    profiles.save(conn, user_id, profile, "test-model", "hash")
    _, token = secrets.issue_user_token(conn, user_id, "test")
    conn.commit()
    return user_id, ids, {"Authorization": f"Bearer {token}"}


def url(user_id: int) -> str:
    return f"/api/v1/filters/influences/{user_id}"


def test_influences_strongest_first_with_titles(client: TestClient, alice: User) -> None:
    user_id, _, headers = alice
    response = client.get(url(user_id), headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_id"] == user_id and body["overrides"] == []
    (movies,) = body["domains"]
    assert movies["domain"] == "movies"
    assert [g["name"] for g in movies["genres"]] == ["Science Fiction", "Drama", "Action"]
    assert [p["name"] for p in movies["people"]] == ["Christopher Nolan", "Anne Hathaway"]
    assert [(t["title"], t["weight"], t["tmdb_id"]) for t in movies["titles"]] == [
        ("Inception", 0.6, 27205),
        ("Interstellar", 0.35, 157336),
    ]
    assert all(g["override"] is None for g in movies["genres"])


def test_overrides_show_where_they_apply_and_re_rank(
    client: TestClient, conn: db.Connection, alice: User
) -> None:
    user_id, _, headers = alice
    genre = client.post(
        url(user_id), json={"kind": "genre", "key": "drama", "action": "suppress"}, headers=headers
    )
    assert genre.status_code == 201, genre.text
    assert sent() == [("rank_user", [user_id])]
    person = client.post(
        url(user_id),
        json={"kind": "person", "key": "  Christopher   Nolan ", "action": "boost"},
        headers=headers,
    )
    title = client.post(
        url(user_id),
        json={"kind": "title", "key": {"media_type": "movie", "tmdb_id": 694}, "action": "allow"},
        headers=headers,
    )
    assert title.status_code == 201
    assert title.json()["key"] == {"media_type": "movie", "tmdb_id": 694}
    assert title.json()["label"] == "The Shining (1980)"
    assert person.json()["key"] == "Christopher Nolan"

    body = client.get(url(user_id), headers=headers).json()
    movies = body["domains"][0]
    drama = next(g for g in movies["genres"] if g["name"] == "Drama")
    assert drama["override"] == {"id": genre.json()["id"], "action": "suppress"}
    assert movies["people"][0]["override"]["action"] == "boost"
    assert [(o["kind"], o["label"], o["action"]) for o in body["overrides"]] == [
        ("genre", "drama", "suppress"),
        ("person", "Christopher Nolan", "boost"),
        ("title", "The Shining (1980)", "allow"),
    ]
    assert overrides.overrides_for(conn, user_id) == [
        Override("genre", "drama", "suppress", genre.json()["id"]),
        Override("person", "Christopher Nolan", "boost", person.json()["id"]),
        Override("title", "movie:694", "allow", title.json()["id"]),
    ]


def test_one_rule_per_name_whatever_its_case(
    client: TestClient, conn: db.Connection, alice: User
) -> None:
    user_id, _, headers = alice
    first = client.post(
        url(user_id), json={"kind": "genre", "key": "Horror", "action": "suppress"}, headers=headers
    )
    second = client.post(
        url(user_id), json={"kind": "genre", "key": "horror", "action": "block"}, headers=headers
    )
    assert second.json()["id"] == first.json()["id"]
    assert overrides.overrides_for(conn, user_id) == [
        Override("genre", "horror", "block", first.json()["id"])
    ]


def test_delete_removes_only_ones_own(client: TestClient, conn: db.Connection, alice: User) -> None:
    user_id, _, headers = alice
    bob = add_user(conn, "3002", "bob")
    rule = {"kind": "genre", "key": "Horror", "action": "block"}
    mine = client.post(url(user_id), json=rule, headers=headers).json()["id"]
    theirs = client.post(url(bob), json=rule, headers=admin_headers()).json()["id"]

    assert client.delete(f"{url(bob)}/{theirs}", headers=headers).status_code == 404
    # Bob's rule through Alice's own path is missing too, and stays.
    response = client.delete(f"{url(user_id)}/{theirs}", headers=headers)
    assert response.status_code == 404
    assert "override_id" in response.json()["error"]["message"]
    assert len(overrides.overrides_for(conn, bob)) == 1

    sent_before = len(sent())
    deleted = client.delete(f"{url(user_id)}/{mine}", headers=headers)
    assert deleted.json() == {"id": mine, "deleted": True}
    assert sent()[sent_before:] == [("rank_user", [user_id])]
    assert overrides.overrides_for(conn, user_id) == []
    assert client.delete(f"{url(user_id)}/{mine}", headers=headers).status_code == 404
    assert client.delete(f"{url(bob)}/{theirs}", headers=admin_headers()).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "studio", "key": "A24", "action": "boost"}, "kind"),
        ({"kind": "genre", "key": "Horror", "action": "love"}, "action"),
        ({"kind": "genre", "action": "boost"}, "key"),
        ({"kind": "genre", "key": "   ", "action": "boost"}, "key"),
        ({"kind": "genre", "key": "x" * 201, "action": "boost"}, "key"),
        (
            {"kind": "person", "key": {"media_type": "movie", "tmdb_id": 1}, "action": "boost"},
            "key",
        ),
        ({"kind": "title", "key": "Inception", "action": "boost"}, "key"),
        (
            {"kind": "title", "key": {"media_type": "film", "tmdb_id": 1}, "action": "boost"},
            "key.media_type",
        ),
        (
            {"kind": "title", "key": {"media_type": "movie", "tmdb_id": 0}, "action": "boost"},
            "key.tmdb_id",
        ),
        ({"kind": "genre", "key": "Horror", "action": "allow"}, "action"),
        ("genre", "body"),
    ],
)
def test_bad_fields_are_422_naming_them(
    client: TestClient, alice: User, body: object, field: str
) -> None:
    user_id, _, headers = alice
    response = client.post(url(user_id), json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith(field + ":")
    assert sent() == []


def test_unknown_title_is_404_naming_it(client: TestClient, alice: User) -> None:
    user_id, _, headers = alice
    response = client.post(
        url(user_id),
        json={"kind": "title", "key": {"media_type": "tv", "tmdb_id": 1399}, "action": "block"},
        headers=headers,
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "tmdb_id: no tv with TMDB id 1399 is known yet"


def test_a_user_without_a_profile_has_no_influences(
    client: TestClient, conn: db.Connection, alice: User
) -> None:
    bob = add_user(conn, "3003", "bob")
    body = client.get(url(bob), headers=admin_headers()).json()
    assert body == {"user_id": bob, "domains": [], "overrides": []}
