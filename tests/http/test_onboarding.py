"""GET/POST /users/{id}/onboarding/quiz: what to show a new user, and storing their answers."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from recommendarr.http.schemas import Quiz
from recommendarr.shared import db
from recommendarr.shared.store import onboarding, secrets
from tests.conftest import admin_headers, queued
from tests.helpers import add_user, seed_library
from tests.http.stored_picks import add_titles, item_ids

GENRES = ["Action", "Comedy", "Drama", "Horror", "Romance", "Western"]


@pytest.fixture
def newcomer(conn: db.Connection) -> dict[str, Any]:
    seed_library(conn)
    # Eight titles per genre in section 1, the best known ones first; section 2 is not theirs.
    for n, genre in enumerate(GENRES):
        add_titles(conn, 8, genres=(genre,), first_tmdb_id=600_000 + 100 * n)
    add_titles(conn, 3, section="2", genres=("Documentary",), first_tmdb_id=500_000)
    conn.execute("UPDATE items SET vote_count = 1000000 - tmdb_id")
    user_id = add_user(conn, "1001", "alice")
    _, token = secrets.issue_user_token(conn, user_id, "test")
    conn.commit()
    return {
        "id": user_id,
        "url": f"/api/v1/users/{user_id}/onboarding/quiz",
        "headers": {"Authorization": f"Bearer {token}"},
    }


def test_quiz_spreads_well_known_titles_over_genres(
    client: TestClient, newcomer: dict[str, Any]
) -> None:
    response = client.get(newcomer["url"], headers=newcomer["headers"])
    assert response.status_code == 200, response.text
    quiz = Quiz.model_validate(response.json())
    assert len(quiz.titles) == 20
    assert len({t.tmdb_id for t in quiz.titles}) == 20
    # Each of the six made-up genres gets at least two of the twenty places.
    for genre in GENRES:
        assert sum(genre in t.genres for t in quiz.titles) >= 2, genre
    # Within a genre, the best-known title comes first.
    westerns = [t.tmdb_id for t in quiz.titles if t.genres == ["Western"]]
    assert westerns == [600_500, 600_501]
    assert "Documentary" not in quiz.genres  # only the libraries the user can see
    assert {"Western", "Science Fiction", "Animation"} <= set(quiz.genres)
    assert quiz.genres == sorted(quiz.genres)
    assert quiz.answers is None


def test_answers_are_stored_and_a_refresh_is_queued(
    client: TestClient, conn: db.Connection, newcomer: dict[str, Any]
) -> None:
    body = {
        "liked": [
            {"media_type": "movie", "tmdb_id": 27205},
            {"media_type": "movie", "tmdb_id": 12},
        ],
        "genres": {"Comedy": 0.8, "horror": -1.0},
    }
    response = client.post(newcomer["url"], json=body, headers=newcomer["headers"])
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["state"] == "queued"
    assert answer["answers"]["liked"] == body["liked"]
    assert answer["answers"]["genres"] == {"Comedy": 0.8, "Horror": -1.0}  # as the items spell it
    assert queued()["profiles"] == 1
    job = client.get(f"/api/v1/jobs/{answer['job_id']}", headers=newcomer["headers"]).json()
    assert job["kind"] == "rank_user" and job["state"] == "queued"
    ids = item_ids(conn)
    assert onboarding.quiz_answers(conn, newcomer["id"]) == (
        [ids["Inception"], ids["Finding Nemo"]],
        {"Comedy": 0.8, "Horror": -1.0},
    )
    shown = client.get(newcomer["url"], headers=newcomer["headers"]).json()["answers"]
    assert shown["liked"] == body["liked"] and shown["answered_at"]


def test_answering_again_replaces_the_answers(
    client: TestClient, conn: db.Connection, newcomer: dict[str, Any]
) -> None:
    first = {"liked": [{"media_type": "movie", "tmdb_id": 27205}], "genres": {"Drama": 1}}
    assert client.post(newcomer["url"], json=first, headers=newcomer["headers"]).status_code == 202
    second = {"liked": [{"media_type": "movie", "tmdb_id": 694}]}
    assert client.post(newcomer["url"], json=second, headers=newcomer["headers"]).status_code == 202
    assert onboarding.quiz_answers(conn, newcomer["id"]) == ([item_ids(conn)["The Shining"]], {})
    assert conn.execute("SELECT count(*) AS n FROM onboarding_answers").fetchone() == {"n": 1}


def test_an_empty_body_skips_the_quiz(
    client: TestClient, conn: db.Connection, newcomer: dict[str, Any]
) -> None:
    response = client.post(newcomer["url"], headers=newcomer["headers"])
    assert response.status_code == 202
    assert onboarding.quiz_answers(conn, newcomer["id"]) == ([], {})


def test_never_answered_is_none(conn: db.Connection, newcomer: dict[str, Any]) -> None:
    assert onboarding.quiz_answers(conn, newcomer["id"]) is None


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        (
            {
                "liked": [
                    {"media_type": "movie", "tmdb_id": 424242},
                    {"media_type": "tv", "tmdb_id": 12},
                ]
            },
            422,
            "liked: unknown titles movie:424242, tv:12",
        ),
        ({"liked": [{"media_type": "movie", "tmdb_id": 500000}]}, 422, "movie:500000"),
        ({"liked": [{"media_type": "book", "tmdb_id": 1}]}, 422, "liked.0.media_type"),
        ({"liked": [{"media_type": "movie", "tmdb_id": 0}]}, 422, "liked.0.tmdb_id"),
        ({"genres": {"Horror": -1.5}}, 422, "genres.Horror"),
        ({"genres": {"Horror": 2}}, 422, "genres.Horror"),
        ({"genres": {"Horror": "lots"}}, 422, "genres.Horror"),
        ({"genres": {"Sci-Fi": 0.5}}, 422, "Sci-Fi"),
        ({"genres": {"Bad\u0000": 0.5}}, 422, "genres"),
        ({"genres": {"Documentary": 0.5}}, 422, "Documentary"),  # not in their libraries
        ([1, 2], 422, "body"),
    ],
)
def test_bad_answers_are_rejected_and_nothing_is_stored(
    client: TestClient,
    conn: db.Connection,
    newcomer: dict[str, Any],
    body: Any,
    status: int,
    named: str,
) -> None:
    response = client.post(newcomer["url"], json=body, headers=newcomer["headers"])
    assert response.status_code == status, response.text
    assert named in response.json()["error"]["message"]
    assert onboarding.quiz_answers(conn, newcomer["id"]) is None
    assert queued()["profiles"] == 0


def test_invalid_json_is_400(client: TestClient, newcomer: dict[str, Any]) -> None:
    response = client.post(newcomer["url"], content=b"{nope", headers=newcomer["headers"])
    assert response.status_code == 400


def test_the_admin_answers_for_anyone(client: TestClient, newcomer: dict[str, Any]) -> None:
    response = client.post(newcomer["url"], json={"genres": {"Drama": 0}}, headers=admin_headers())
    assert response.status_code == 202


def test_titles_of_the_quiz_are_only_from_visible_libraries(
    client: TestClient, conn: db.Connection, newcomer: dict[str, Any]
) -> None:
    other = add_user(conn, "1002", "bob", sections=("2",))
    quiz = client.get(f"/api/v1/users/{other}/onboarding/quiz", headers=admin_headers()).json()
    assert {t["tmdb_id"] for t in quiz["titles"]} == {500_000, 500_001, 500_002}
    assert quiz["genres"] == ["Documentary"]
