"""GET /group?users=...: titles that work for everyone, ranked by the least happy member."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from recommendarr.http.schemas import GroupPicks
from recommendarr.shared import db
from recommendarr.shared.domain.taste import TasteProfile
from recommendarr.shared.store import profiles, rankings, secrets
from tests.conftest import admin_headers
from tests.helpers import add_user, seed_library
from tests.http.stored_picks import item_ids, store_candidate, store_happiness, titles

# title -> happiness of (alice, bob, carol); None: not a candidate for that member.
HAPPINESS: dict[str, tuple[float | None, float | None, float | None]] = {
    "The Prestige": (0.9, 0.6, 0.7),  # least 0.6, mean 0.733
    "Arrival": (0.6, 0.6, 0.9),  # least 0.6, mean 0.7: the tie goes to the happier room
    "WALL-E": (0.99, 0.95, 0.2),  # loved by two, a chore for carol
    "Toy Story": (0.5, 0.5, 0.5),
    "Finding Nemo": (0.95, 0.95, None),  # carol cannot see it (or has seen it)
    "The Shining": (0.9, 0.9, 0.9),  # bob has watched it since his ranking
}


@pytest.fixture
def room(conn: db.Connection) -> dict[str, Any]:
    seed_library(conn)
    users = [
        add_user(conn, str(1000 + n), name) for n, name in enumerate(["alice", "bob", "carol"])
    ]
    ids = item_ids(conn)
    for title, scores in HAPPINESS.items():
        for user_id, happiness in zip(users, scores, strict=True):
            if happiness is not None:
                store_candidate(conn, user_id, ids[title], happiness, f"{title} for {user_id}")
    conn.execute(
        "INSERT INTO watch_events (event_key, source, user_id, item_id, action, occurred_at) "
        "VALUES ('k1', 'tautulli', %s, %s, 'stop', now())",
        (users[1], ids["The Shining"]),
    )
    _, token = secrets.issue_user_token(conn, users[0], "test")
    conn.commit()
    return {"users": users, "ids": ids, "alice_headers": {"Authorization": f"Bearer {token}"}}


def group(client: TestClient, user_ids: list[int], **params: Any) -> dict[str, Any]:
    response = client.get(
        "/api/v1/group",
        params={"users": ",".join(map(str, user_ids)), **params},
        headers=admin_headers(),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    GroupPicks.model_validate(body)
    return body


def test_ranked_by_the_least_happy_member_then_the_mean(
    client: TestClient, room: dict[str, Any]
) -> None:
    alice, bob, carol = room["users"]
    body = group(client, [carol, alice, bob])
    assert titles(body) == ["The Prestige", "Arrival", "Toy Story", "WALL-E"]
    assert [i["rank"] for i in body["items"]] == [1, 2, 3, 4]
    assert body["message"] is None
    assert body["users"] == [
        {"id": carol, "username": "carol"},
        {"id": alice, "username": "alice"},
        {"id": bob, "username": "bob"},
    ]
    first = body["items"][0]
    assert first["least_happiness"] == pytest.approx(0.6)
    assert first["mean_happiness"] == 0.7333  # (0.9 + 0.6 + 0.7) / 3, to four places
    # Every member, in the order they were listed, with their own reason.
    assert [(m["username"], m["happiness"]) for m in first["members"]] == [
        ("carol", pytest.approx(0.7)),
        ("alice", pytest.approx(0.9)),
        ("bob", pytest.approx(0.6)),
    ]
    assert first["members"][0]["reason"] == f"The Prestige for {carol}"
    assert first["members"][0]["user_id"] == carol


def test_two_of_the_three_have_more_in_common(client: TestClient, room: dict[str, Any]) -> None:
    alice, bob, _ = room["users"]
    body = group(client, [alice, bob], limit=2)
    assert titles(body) == ["WALL-E", "Finding Nemo"]  # The Shining: bob has seen it


def test_hidden_by_anyone_is_left_out(
    client: TestClient, conn: db.Connection, room: dict[str, Any]
) -> None:
    alice, bob, carol = room["users"]
    conn.execute(
        "INSERT INTO feedback (user_id, item_id, kind) VALUES (%s, %s, 'dismiss')",
        (carol, room["ids"]["The Prestige"]),
    )
    conn.commit()
    assert titles(group(client, [alice, bob, carol]))[0] == "Arrival"


def test_nothing_for_everyone_is_an_empty_list_with_a_message(
    client: TestClient, conn: db.Connection, room: dict[str, Any]
) -> None:
    alice, _, carol = room["users"]
    # Carol may be offered only Inception now, which Alice may not.
    conn.execute("DELETE FROM candidate_scores WHERE user_id = %s", (carol,))
    rankings.replace_candidate_happiness(
        conn, carol, np.array([room["ids"]["Inception"]]), np.array([0.1])
    )
    conn.commit()
    body = group(client, [alice, carol])
    assert body["items"] == [] and body["message"].startswith("no title works for everyone")
    newcomer = add_user(conn, "2000", "dave")
    body = group(client, [alice, newcomer])
    assert body["items"] == [] and "dave has no scored titles" in body["message"]


def test_a_user_token_cannot_list_anyone_else(client: TestClient, room: dict[str, Any]) -> None:
    alice, bob, _ = room["users"]
    response = client.get(
        "/api/v1/group", params={"users": f"{alice},{bob}"}, headers=room["alice_headers"]
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"no user {bob}"


def test_a_missing_user_is_404(client: TestClient, room: dict[str, Any]) -> None:
    alice, _, _ = room["users"]
    response = client.get(
        "/api/v1/group", params={"users": f"{alice},999"}, headers=admin_headers()
    )
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "no user 999"


def test_no_token_is_401(client: TestClient, room: dict[str, Any]) -> None:
    assert client.get("/api/v1/group", params={"users": "1,2"}).status_code == 401


@pytest.mark.parametrize(
    ("users", "limit"),
    [
        ("", None),
        ("1", None),
        ("1,1", None),
        ("1,x", None),
        ("1,-2", None),
        ("0,1", None),
        ("1,2,3,4,5,6,7,8,9", None),
        ("1,99999999999999999999", None),
        ("1,2", "0"),
        ("1,2", "51"),
    ],
)
def test_bad_parameters_are_422(
    client: TestClient, room: dict[str, Any], users: str, limit: str | None
) -> None:
    params = {"users": users} if limit is None else {"users": users, "limit": limit}
    response = client.get("/api/v1/group", params=params, headers=admin_headers())
    assert response.status_code == 422, response.text
    named = "'users'" if limit is None else "'limit'"
    assert named in response.json()["error"]["message"]


def test_a_title_none_of_them_had_among_their_refined_picks(
    client: TestClient, conn: db.Connection, room: dict[str, Any]
) -> None:
    """On a big library people of unlike taste share few of their few hundred refined picks;
    their happiness for the whole pool still finds what suits them all, and a member without
    a reason of their own for it gets one from their profile."""
    alice, bob, carol = room["users"]
    inception = room["ids"]["Inception"]
    for user_id in (alice, bob, carol):
        store_happiness(conn, user_id, {inception: 0.8})
    profiles.save(
        conn,
        alice,
        TasteProfile("movies", None, None, genre_weights={"Science Fiction": 0.9}),
        "m",
        "h",
    )
    conn.commit()
    body = group(client, [alice, bob, carol], limit=1)
    assert titles(body) == ["Inception"]  # least 0.8, above The Prestige's 0.6
    reasons = {m["username"]: m["reason"] for m in body["items"][0]["members"]}
    assert reasons["alice"] in ("More science fiction", "Another science fiction pick")
    assert reasons["bob"] in ("A good fit overall", "An easy fit")  # no profile to say more
    assert [m["happiness"] for m in body["items"][0]["members"]] == [0.8, 0.8, 0.8]


def embed(conn: db.Connection, model: str, item_id: int, along: float) -> None:
    """A unit vector whose similarity to the first axis is ``along``."""
    vector = np.zeros(768, dtype=np.float32)
    vector[0], vector[1] = along, np.sqrt(1.0 - along * along)
    conn.execute(
        "INSERT INTO item_embeddings (item_id, model, content_hash, embedding) "
        "VALUES (%s, %s, 'h', %s)",
        (item_id, model, vector),
    )


def test_a_reason_from_the_profile_names_the_liked_title_closest_to_the_pick(
    client: TestClient, conn: db.Connection, res: Any, room: dict[str, Any]
) -> None:
    """Where a member's ranking gave no reason, the liked title pulling hardest towards the
    pick is named (with a director they follow, when the two share one); a liked title that is
    barely close is not."""
    alice, bob, carol = room["users"]
    ids = room["ids"]
    model = res.embedder.model_name
    embed(conn, model, ids["Inception"], 1.0)
    embed(conn, model, ids["Interstellar"], 1.0)  # the same direction: similarity 1
    embed(conn, model, ids["The Prestige"], 0.1)
    for user_id in (alice, bob, carol):
        store_happiness(conn, user_id, {ids["Inception"]: 0.8})
    liked = {ids["Interstellar"]: 0.5, ids["The Prestige"]: 1.0}  # the closer one pulls harder
    profiles.save(
        conn,
        alice,
        TasteProfile("movies", None, None, liked, genre_weights={"Science Fiction": 0.9}),
        "m",
        "h",
    )
    profiles.save(
        conn,
        bob,
        TasteProfile(
            "movies", None, None, {ids["The Prestige"]: 1.0}, genre_weights={"Action": 0.8}
        ),
        "m",
        "h",
    )
    profiles.save(
        conn,
        carol,
        TasteProfile("movies", None, None, liked, person_weights={"Christopher Nolan": 1.0}),
        "m",
        "h",
    )
    conn.commit()
    body = group(client, [alice, bob, carol], limit=1)
    assert titles(body) == ["Inception"]
    reasons = {m["username"]: m["reason"] for m in body["items"][0]["members"]}
    assert reasons["alice"] in (
        "More science fiction like Interstellar",
        "Science fiction in the vein of Interstellar",
    )
    assert reasons["bob"] in ("More action", "Another action pick")  # not "like The Prestige"
    assert reasons["carol"] in (
        "Christopher Nolan again, as in Interstellar",
        "More Christopher Nolan, after Interstellar",
    )
