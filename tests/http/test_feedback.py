"""POST/GET/DELETE /users/{id}/feedback: stored per (user, title, kind), re-ranks after commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from starlette.testclient import TestClient

from recommendarr.broker import QUEUES, broker
from recommendarr.shared import db
from recommendarr.shared.store import feedback, secrets
from tests.conftest import admin_headers
from tests.helpers import add_user, seed_library


@pytest.fixture
def alice(conn: db.Connection) -> tuple[int, dict[str, int], dict[str, str]]:
    ids = seed_library(conn, tmdb_ids=[27205, 157336, 694])
    user_id = add_user(conn, "2001", "alice")
    _, token = secrets.issue_user_token(conn, user_id, "test")
    conn.commit()
    return (
        user_id,
        {"inception": ids[27205], "interstellar": ids[157336], "shining": ids[694]},
        {"Authorization": f"Bearer {token}"},
    )


def sent() -> list[tuple[str, list[object]]]:
    """The messages waiting on the broker: (actor, args)."""
    assert isinstance(broker, StubBroker)
    messages = []
    for queue in QUEUES:
        for raw in list(broker.queues[queue].queue):
            message = dramatiq.Message.decode(raw)
            messages.append((message.actor_name, list(message.args)))
    return messages


def test_thumbs_up_is_stored_and_refreshes_the_profile(
    client: TestClient, conn: db.Connection, alice: tuple[int, dict[str, int], dict[str, str]]
) -> None:
    user_id, ids, headers = alice
    response = client.post(
        f"/api/v1/users/{user_id}/feedback",
        json={"media_type": "movie", "tmdb_id": 27205, "kind": "up"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in ("media_type", "tmdb_id", "title", "year", "kind", "until")} == {
        "media_type": "movie",
        "tmdb_id": 27205,
        "title": "Inception",
        "year": 2010,
        "kind": "up",
        "until": None,
    }
    assert sent() == [("refresh_profile", [user_id])]
    assert feedback.votes(conn, user_id) == {ids["inception"]: "up"}


def test_hide_lasts_its_months_and_only_re_ranks(
    client: TestClient, conn: db.Connection, alice: tuple[int, dict[str, int], dict[str, str]]
) -> None:
    user_id, ids, headers = alice
    response = client.post(
        f"/api/v1/users/{user_id}/feedback",
        json={"media_type": "movie", "tmdb_id": 694, "kind": "hide", "months": 6},
        headers=headers,
    )
    assert response.status_code == 201
    until = datetime.fromisoformat(response.json()["until"])
    expected = datetime.now(UTC) + timedelta(days=6 * 30.4)
    assert abs((until - expected).total_seconds()) < 4 * 86400
    assert sent() == [("rank_user", [user_id])]
    assert feedback.hidden_item_ids(conn, user_id) == [ids["shining"]]

    default = client.post(
        f"/api/v1/users/{user_id}/feedback",
        json={"media_type": "movie", "tmdb_id": 157336, "kind": "hide"},
        headers=headers,
    )
    months = (datetime.fromisoformat(default.json()["until"]) - datetime.now(UTC)).days
    assert 88 <= months <= 93  # three months by default


def test_changing_ones_mind_replaces_the_opposite(
    client: TestClient, conn: db.Connection, alice: tuple[int, dict[str, int], dict[str, str]]
) -> None:
    user_id, _, headers = alice
    for kind in ("dismiss", "down", "up"):
        body = {"media_type": "movie", "tmdb_id": 27205, "kind": kind}
        response = client.post(f"/api/v1/users/{user_id}/feedback", json=body, headers=headers)
        assert response.status_code == 201
    listed = client.get(f"/api/v1/users/{user_id}/feedback", headers=headers).json()["items"]
    assert [(i["title"], i["kind"]) for i in listed] == [("Inception", "up")]
    # Giving the same feedback twice keeps one row.
    client.post(
        f"/api/v1/users/{user_id}/feedback",
        json={"media_type": "movie", "tmdb_id": 27205, "kind": "up"},
        headers=headers,
    )
    count = conn.execute("SELECT count(*) AS n FROM feedback").fetchone()
    assert count == {"n": 1}


def test_list_shows_active_feedback_newest_first(
    client: TestClient, conn: db.Connection, alice: tuple[int, dict[str, int], dict[str, str]]
) -> None:
    user_id, ids, headers = alice
    for tmdb_id, kind in ((27205, "down"), (694, "hide"), (157336, "dismiss")):
        body = {"media_type": "movie", "tmdb_id": tmdb_id, "kind": kind}
        client.post(f"/api/v1/users/{user_id}/feedback", json=body, headers=headers)
    conn.execute(
        "UPDATE feedback SET until = now() - interval '1 day' WHERE item_id = %s",
        (ids["shining"],),
    )
    conn.commit()
    listed = client.get(f"/api/v1/users/{user_id}/feedback", headers=headers).json()["items"]
    assert [(i["title"], i["kind"]) for i in listed] == [
        ("Interstellar", "dismiss"),
        ("Inception", "down"),
    ]
    assert feedback.hidden_item_ids(conn, user_id) == []
    assert feedback.votes(conn, user_id) == {ids["inception"]: "down"}


def test_delete_clears_and_re_ranks(
    client: TestClient, conn: db.Connection, alice: tuple[int, dict[str, int], dict[str, str]]
) -> None:
    user_id, _, headers = alice
    for kind in ("down", "hide"):
        body = {"media_type": "movie", "tmdb_id": 27205, "kind": kind}
        client.post(f"/api/v1/users/{user_id}/feedback", json=body, headers=headers)
    broker.flush_all()
    url = f"/api/v1/users/{user_id}/feedback/movie/27205"
    only_hide = client.delete(url, params={"kind": "hide"}, headers=headers)
    assert only_hide.json() == {"media_type": "movie", "tmdb_id": 27205, "cleared": ["hide"]}
    assert sent() == [("rank_user", [user_id])]
    broker.flush_all()
    rest = client.delete(url, headers=headers)
    assert rest.status_code == 200 and rest.json()["cleared"] == ["down"]
    assert sent() == [("refresh_profile", [user_id])]
    broker.flush_all()
    again = client.delete(url, headers=headers)
    assert again.status_code == 200 and again.json()["cleared"] == []
    assert sent() == []  # nothing changed, nothing to re-rank


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"media_type": "movie", "kind": "up"}, "tmdb_id"),
        ({"media_type": "film", "tmdb_id": 27205, "kind": "up"}, "media_type"),
        ({"media_type": "movie", "tmdb_id": 27205, "kind": "love"}, "kind"),
        ({"media_type": "movie", "tmdb_id": 27205, "kind": "hide", "months": 25}, "months"),
        ({"media_type": "movie", "tmdb_id": 27205, "kind": "hide", "months": 0}, "months"),
        ({"media_type": "movie", "tmdb_id": 27205, "kind": "up", "months": 2}, "months"),
        ([], "body"),
    ],
)
def test_bad_fields_are_422_naming_them(
    client: TestClient,
    alice: tuple[int, dict[str, int], dict[str, str]],
    body: object,
    field: str,
) -> None:
    user_id, _, headers = alice
    response = client.post(f"/api/v1/users/{user_id}/feedback", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith(field)
    assert sent() == []


def test_unknown_titles_are_404_naming_them(
    client: TestClient, alice: tuple[int, dict[str, int], dict[str, str]]
) -> None:
    user_id, _, headers = alice
    response = client.post(
        f"/api/v1/users/{user_id}/feedback",
        json={"media_type": "tv", "tmdb_id": 27205, "kind": "up"},
        headers=headers,
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "tmdb_id: no tv with TMDB id 27205 is known yet"
    deleted = client.delete(f"/api/v1/users/{user_id}/feedback/movie/1", headers=headers)
    assert deleted.status_code == 404
    bad = client.delete(f"/api/v1/users/{user_id}/feedback/film/27205", headers=headers)
    assert bad.status_code == 422 and "media_type" in bad.json()["error"]["message"]
    kind = client.delete(
        f"/api/v1/users/{user_id}/feedback/movie/27205", params={"kind": "x"}, headers=headers
    )
    assert kind.status_code == 422 and "kind" in kind.json()["error"]["message"]


def test_another_users_feedback_is_theirs(
    client: TestClient, conn: db.Connection, alice: tuple[int, dict[str, int], dict[str, str]]
) -> None:
    user_id, _, headers = alice
    bob = add_user(conn, "2002", "bob")
    body = {"media_type": "movie", "tmdb_id": 27205, "kind": "down"}
    assert (
        client.post(f"/api/v1/users/{bob}/feedback", json=body, headers=headers).status_code == 404
    )
    assert (
        client.post(f"/api/v1/users/{bob}/feedback", json=body, headers=admin_headers()).status_code
        == 201
    )
    assert client.get(f"/api/v1/users/{user_id}/feedback", headers=headers).json()["items"] == []
    assert feedback.votes(conn, user_id) == {}
