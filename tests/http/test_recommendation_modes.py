"""GET /users/{id}/recommendations: the stored modes, shuffle, and the filters every mode takes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from starlette.testclient import TestClient

from recommendarr.http.schemas import RecommendationList
from recommendarr.shared import db
from recommendarr.shared.domain.item_text import ItemFacts
from recommendarr.shared.store import items, secrets
from tests.conftest import admin_headers
from tests.helpers import add_user, library_id, seed_library
from tests.http.stored_picks import (
    add_titles,
    item_ids,
    store_candidate,
    store_pick,
    store_run,
    titles,
)

# (title, confidence, influenced by) in the stored 'tonight' order.
TONIGHT: list[tuple[str, str, list[tuple[str, int]]]] = [
    ("The Prestige", "high", [("movie", 27205), ("movie", 157336)]),
    ("Arrival", "high", [("movie", 157336)]),
    ("Toy Story", "medium", []),
    ("WALL-E", "medium", [("movie", 862)]),
    ("Finding Nemo", "low", [("movie", 862)]),
    ("The Shining", "low", [("tv", 1396)]),
    ("Inception", "medium", []),
    ("Interstellar", "medium", []),
    ("Title 900000", "low", []),  # the documentaries of library section 2
    ("Title 900001", "low", []),
    ("Title 900002", "low", []),
    ("Title 800000", "high", []),  # section 3: only bob can see it
]
ALICE_SEES = [t for t, _, _ in TONIGHT if t != "Title 800000"]


@pytest.fixture
def alice(conn: db.Connection) -> dict[str, Any]:
    seed_library(conn)
    add_titles(conn, 3, section="2", genres=("Documentary",))
    add_titles(conn, 1, section="3", genres=("Drama",), first_tmdb_id=800_000)
    user_id = add_user(conn, "1001", "alice", sections=("1", "2"))
    bob = add_user(conn, "1002", "bob", sections=("1", "3"))
    ids = item_ids(conn)
    for rank, (title, confidence, influences) in enumerate(TONIGHT, start=1):
        store_pick(
            conn,
            user_id,
            "tonight",
            rank,
            ids[title],
            confidence=confidence,
            influenced_by=influences,
        )
    store_run(conn, user_id, "tonight", 40)
    _, token = secrets.issue_user_token(conn, user_id, "test")
    conn.commit()
    return {
        "id": user_id,
        "bob": bob,
        "ids": ids,
        "headers": {"Authorization": f"Bearer {token}"},
        "url": f"/api/v1/users/{user_id}/recommendations",
    }


def get(client: TestClient, alice: dict[str, Any], **params: Any) -> dict[str, Any]:
    response = client.get(alice["url"], params={"limit": 50, **params}, headers=alice["headers"])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    RecommendationList.model_validate(body)
    return body


def test_unfiltered_serves_the_stored_order_of_visible_titles(
    client: TestClient, alice: dict[str, Any]
) -> None:
    body = get(client, alice)
    assert titles(body) == ALICE_SEES
    assert [i["rank"] for i in body["items"]] == list(range(1, len(ALICE_SEES) + 1))
    assert body["meta"]["mode"] == "tonight" and body["meta"]["total_candidates"] == 40


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"genres": "Animation"}, ["Toy Story", "WALL-E", "Finding Nemo"]),
        ({"genres": "animation, HORROR"}, ["Toy Story", "WALL-E", "Finding Nemo", "The Shining"]),
        (
            {"exclude_genres": "Science Fiction,Documentary"},
            ["Toy Story", "Finding Nemo", "The Shining"],
        ),
        ({"year_min": 2006, "year_max": 2010}, ["The Prestige", "WALL-E", "Inception"]),
        ({"year_min": 2014}, ["Arrival", "Interstellar"]),
        ({"min_confidence": "high"}, ["The Prestige", "Arrival"]),
        (
            {"min_confidence": "medium"},
            ["The Prestige", "Arrival", "Toy Story", "WALL-E", "Inception", "Interstellar"],
        ),
        ({"min_confidence": "low"}, ALICE_SEES),
        ({"influenced_by": "movie:157336"}, ["The Prestige", "Arrival"]),
        ({"influenced_by": "tv:1396"}, ["The Shining"]),
        ({"influenced_by": "movie:1396"}, []),  # a title key is media type and id
        (
            {"exclude_influence": "movie:862"},
            [t for t in ALICE_SEES if t not in ("WALL-E", "Finding Nemo")],
        ),
        (
            {"genres": "Science Fiction", "min_confidence": "high", "year_max": 2010},
            ["The Prestige"],
        ),
        ({"genres": "Animation", "exclude_influence": "movie:862"}, ["Toy Story"]),
    ],
)
def test_filters_narrow_the_list_and_ranks_are_renumbered(
    client: TestClient, alice: dict[str, Any], params: dict[str, Any], expected: list[str]
) -> None:
    body = get(client, alice, **params)
    assert titles(body) == expected
    assert [i["rank"] for i in body["items"]] == list(range(1, len(expected) + 1))


def test_filters_apply_before_the_limit(client: TestClient, alice: dict[str, Any]) -> None:
    body = get(client, alice, genres="Family", limit=2)
    assert titles(body) == ["Toy Story", "WALL-E"]


def test_language_filter(client: TestClient, conn: db.Connection, alice: dict[str, Any]) -> None:
    conn.execute("UPDATE items SET language = 'fr' WHERE title = 'Arrival'")
    conn.commit()
    assert titles(get(client, alice, language="FR")) == ["Arrival"]
    assert "Arrival" not in titles(get(client, alice, language="en"))


def test_library_filter(client: TestClient, conn: db.Connection, alice: dict[str, Any]) -> None:
    documentaries = library_id(conn, "2")
    body = get(client, alice, library=documentaries)
    assert titles(body) == ["Title 900000", "Title 900001", "Title 900002"]
    assert len(titles(get(client, alice, library=library_id(conn, "1")))) == 8


@pytest.mark.parametrize("headers", ["user", "admin"])
def test_a_library_the_user_cannot_see_is_422_like_a_missing_one(
    client: TestClient, conn: db.Connection, alice: dict[str, Any], headers: str
) -> None:
    sent = alice["headers"] if headers == "user" else admin_headers()
    answers = [
        client.get(alice["url"], params={"library": library}, headers=sent)
        for library in (library_id(conn, "3"), 987_654)
    ]
    assert [a.status_code for a in answers] == [422, 422]
    messages = [a.json()["error"]["message"] for a in answers]
    assert all("'library'" in m for m in messages)
    assert messages[0].replace(str(library_id(conn, "3")), "N") == messages[1].replace(
        "987654", "N"
    )


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"library": "abc"}, "library"),
        ({"library": "0"}, "library"),
        ({"genres": "x" * 61}, "genres"),
        ({"genres": ",".join(f"g{n}" for n in range(21))}, "genres"),
        ({"exclude_genres": "Horror\x01"}, "exclude_genres"),
        ({"year_min": "1500"}, "year_min"),
        ({"year_min": "abc"}, "year_min"),
        ({"year_max": "3000"}, "year_max"),
        ({"year_max": "٢٠١٠"}, "year_max"),  # Arabic-Indic digits are digits to str.isdigit
        ({"year_min": "2010", "year_max": "2000"}, "year_min"),
        ({"language": "eng"}, "language"),
        ({"language": "e1"}, "language"),
        ({"min_confidence": "huge"}, "min_confidence"),
        ({"influenced_by": "603"}, "influenced_by"),
        ({"influenced_by": "person:3"}, "influenced_by"),
        ({"influenced_by": "movie:99999999999"}, "influenced_by"),
        ({"exclude_influence": "movie:0"}, "exclude_influence"),
        ({"mode": "random"}, "mode"),
    ],
)
def test_bad_filter_values_are_422_naming_the_parameter(
    client: TestClient, alice: dict[str, Any], params: dict[str, str], named: str
) -> None:
    response = client.get(alice["url"], params=params, headers=alice["headers"])
    assert response.status_code == 422, response.text
    assert f"'{named}'" in response.json()["error"]["message"]


def test_grab_and_rediscover_read_their_own_stored_lists(
    client: TestClient, conn: db.Connection, alice: dict[str, Any]
) -> None:
    ids = alice["ids"]
    not_in_any_library = items.upsert_facts(
        conn, ItemFacts(603, "movie", "The Matrix", 1999, ("Action", "Science Fiction"))
    )
    store_pick(conn, alice["id"], "grab", 1, not_in_any_library, confidence="high")
    store_pick(conn, alice["id"], "grab", 2, ids["Title 800000"])  # bob's library: not offered
    store_pick(conn, alice["id"], "rediscover", 1, ids["Inception"])
    store_pick(conn, alice["id"], "rediscover", 2, ids["The Shining"])
    store_run(conn, alice["id"], "grab", 7)
    conn.commit()
    grab = get(client, alice, mode="grab")
    assert titles(grab) == ["The Matrix"] and grab["meta"]["mode"] == "grab"
    assert grab["meta"]["total_candidates"] == 7
    rediscover = get(client, alice, mode="rediscover", genres="horror")
    assert titles(rediscover) == ["The Shining"]
    assert rediscover["meta"]["generated_at"] is None  # no run recorded for this mode


# Shuffle


@pytest.fixture
def shuffler(conn: db.Connection, alice: dict[str, Any]) -> dict[str, Any]:
    """alice with 30 scored candidates of equal happiness."""
    conn.execute("DELETE FROM recommendations")
    pool = add_titles(conn, 30, first_tmdb_id=700_000, genres=("Comedy",))
    for item_id in pool:
        store_candidate(conn, alice["id"], item_id, 0.5, f"because {item_id}")
    conn.commit()
    return {**alice, "pool": pool}


def test_shuffle_draws_a_new_sample_of_candidates_each_call(
    client: TestClient, shuffler: dict[str, Any]
) -> None:
    draws = [get(client, shuffler, mode="shuffle", limit=10) for _ in range(5)]
    by_title = {f"Title {700_000 + n}": item_id for n, item_id in enumerate(shuffler["pool"])}
    for body in draws:
        assert len(body["items"]) == 10
        assert len(set(titles(body))) == 10 and set(titles(body)) <= set(by_title)
        assert [i["rank"] for i in body["items"]] == list(range(1, 11))
        for item in body["items"]:
            assert item["explanation"] == f"because {by_title[item['title']]}"
            assert item["signals"] == {"happiness": 0.5} and item["confidence"] == "medium"
        meta = body["meta"]
        assert meta["mode"] == "shuffle" and meta["total_candidates"] == 30
        assert meta["generated_at"] is not None
    assert len({frozenset(titles(b)) for b in draws}) > 1


def test_shuffle_favours_happier_titles(
    client: TestClient, conn: db.Connection, alice: dict[str, Any]
) -> None:
    happy, glum = add_titles(conn, 2, first_tmdb_id=710_000)
    store_candidate(conn, alice["id"], happy, 1.0)
    store_candidate(conn, alice["id"], glum, 0.0)
    conn.commit()
    drawn = Counter(titles(get(client, alice, mode="shuffle", limit=1))[0] for _ in range(40))
    # The weights are 1.05 and 0.05: the glum title should win about 2 draws in 40.
    assert drawn["Title 710000"] >= 30, drawn
    assert len(titles(get(client, alice, mode="shuffle", limit=5))) == 2


def test_shuffle_leaves_out_what_is_seen_hidden_or_invisible_and_takes_filters(
    client: TestClient, conn: db.Connection, alice: dict[str, Any]
) -> None:
    ids = alice["ids"]
    for title in ("The Prestige", "Toy Story", "WALL-E", "Inception", "Title 800000", "Arrival"):
        store_candidate(conn, alice["id"], ids[title], 0.9 if title == "Toy Story" else 0.3)
    conn.execute(
        "INSERT INTO watch_events (event_key, source, user_id, item_id, action, occurred_at) "
        "VALUES ('k1', 'tautulli', %s, %s, 'stop', now())",
        (alice["id"], ids["Inception"]),
    )
    conn.execute(
        "INSERT INTO feedback (user_id, item_id, kind) VALUES (%s, %s, 'hide')",
        (alice["id"], ids["Arrival"]),
    )
    conn.commit()
    everything = get(client, alice, mode="shuffle")
    assert set(titles(everything)) == {"The Prestige", "Toy Story", "WALL-E"}
    assert everything["meta"]["total_candidates"] == 6
    assert set(titles(get(client, alice, mode="shuffle", genres="Animation"))) == {
        "Toy Story",
        "WALL-E",
    }
    # Titles also in a stored list lend their confidence and influences.
    assert titles(get(client, alice, mode="shuffle", influenced_by="movie:27205")) == [
        "The Prestige"
    ]
    assert set(titles(get(client, alice, mode="shuffle", min_confidence="high"))) == {
        "The Prestige"
    }
    conn.execute("DELETE FROM recommendations")
    conn.commit()
    # Without a stored list, confidence comes from happiness (Toy Story at 0.9: high).
    assert titles(get(client, alice, mode="shuffle", min_confidence="high")) == ["Toy Story"]
    assert titles(get(client, alice, mode="shuffle", influenced_by="movie:27205")) == []


def test_shuffle_for_a_user_without_candidates_is_empty(
    client: TestClient, alice: dict[str, Any]
) -> None:
    body = get(client, alice, mode="shuffle")
    assert body["items"] == [] and body["meta"]["total_candidates"] == 0


def test_shuffle_of_another_user_is_404(client: TestClient, alice: dict[str, Any]) -> None:
    url = f"/api/v1/users/{alice['bob']}/recommendations"
    response = client.get(url, params={"mode": "shuffle"}, headers=alice["headers"])
    assert response.status_code == 404
