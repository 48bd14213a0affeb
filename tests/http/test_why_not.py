"""GET /users/{id}/why-not/{media_type}/{tmdb_id}: stored rows, explained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from recommendarr.functions.embed_item import embed_item
from recommendarr.shared import db
from recommendarr.shared.domain.taste import build_profile, summarize_titles
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import events, items, profiles, rankings, secrets
from tests.conftest import admin_headers
from tests.helpers import FACTS, add_user, seed_library

User = tuple[int, dict[int, int], dict[str, str]]


def viewed(conn: db.Connection, user_id: int, item_id: int, progress: float, days_ago: int) -> None:
    conn.execute(
        "INSERT INTO watch_events (event_key, source, user_id, item_id, action, progress, "
        "occurred_at) VALUES (%s, 'test', %s, %s, 'stop', %s, %s)",
        (
            f"{user_id}:{item_id}:{days_ago}",
            user_id,
            item_id,
            progress,
            datetime.now(UTC) - timedelta(days=days_ago),
        ),
    )


@pytest.fixture
def maya(conn: db.Connection, res: Resources) -> User:
    """A science fiction fan who abandoned Toy Story; The Shining is in a library she can't see."""
    ids = seed_library(conn, tmdb_ids=[t for t in FACTS if t != 694])
    ids |= seed_library(conn, section="2", name="Private Horror", tmdb_ids=[694])
    for item_id in ids.values():
        embed_item(item_id)
    user_id = add_user(conn, "4001", "maya")
    viewed(conn, user_id, ids[27205], 1.0, 20)
    viewed(conn, user_id, ids[157336], 0.97, 10)
    viewed(conn, user_id, ids[862], 0.09, 5)
    conn.commit()
    model = res.embedder.model_name
    titles = summarize_titles(events.viewings(conn, user_id))
    watched = [t.item_id for t in titles]
    profile = build_profile(
        "movies",
        titles,
        profiles.vectors_for(conn, watched, model),
        profiles.facts_for(conn, watched),
        datetime.now(UTC),
    )
    profiles.save(conn, user_id, profile, model, "hash")
    _, token = secrets.issue_user_token(conn, user_id, "test")
    conn.commit()
    return user_id, ids, {"Authorization": f"Bearer {token}"}


def ask(client: TestClient, user: User, media_type: str, tmdb_id: int) -> dict[str, Any]:
    user_id, _, headers = user
    response = client.get(
        f"/api/v1/users/{user_id}/why-not/{media_type}/{tmdb_id}", headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def signals(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["signal"]: s for s in body["signals"]}


def test_an_abandoned_title(client: TestClient, maya: User) -> None:
    body = ask(client, maya, "movie", 862)
    assert body["title"] == "Toy Story"
    first = body["signals"][0]
    assert first == {
        "signal": "abandoned",
        "value": 0.09,
        "text": "You abandoned Toy Story at 9%",
        "until": None,
    }
    assert body["summary"] == first["text"]
    assert body["rank"] is None and body["can_override"] is True
    assert body["override"]["body"] == {
        "kind": "title",
        "key": {"media_type": "movie", "tmdb_id": 862},
        "action": "allow",
    }


def test_a_neighbour_of_the_abandoned_title(
    client: TestClient, conn: db.Connection, maya: User
) -> None:
    user_id, ids, _ = maya
    conn.execute(
        "INSERT INTO candidate_scores (user_id, item_id, score, happiness, reason) "
        "VALUES (%s, %s, -1.4, 0.08, 'x')",
        (user_id, ids[12]),
    )
    conn.commit()
    found = signals(ask(client, maya, "movie", 12))
    assert "like Toy Story" in found["anti_similarity"]["text"]
    assert found["anti_similarity"]["value"] > 0.1
    assert found["genre_match"]["text"].startswith("Genre match 0.00: you rarely finish")
    assert found["happiness"]["value"] == pytest.approx(0.08)
    assert found["happiness"]["text"].startswith("Predicted happiness 0.08: below 92%")
    assert "content_similarity" in found


def test_a_title_the_ranking_did_not_refine_has_its_happiness_in_the_whole_pool(
    client: TestClient, conn: db.Connection, maya: User
) -> None:
    user_id, ids, _ = maya
    pool = sorted({ids[12]: 0.62, ids[1124]: 0.3}.items())
    rankings.replace_candidate_happiness(
        conn, user_id, np.array([i for i, _ in pool]), np.array([h for _, h in pool])
    )
    conn.commit()
    found = signals(ask(client, maya, "movie", 12))["happiness"]
    assert found["value"] == pytest.approx(0.62)
    assert found["text"] == (
        "Predicted happiness 0.62: above 62% of the titles you could be offered, but not high "
        "enough for your current picks"
    )


def test_a_title_in_a_library_the_user_cannot_see(client: TestClient, maya: User) -> None:
    response = client.get(f"/api/v1/users/{maya[0]}/why-not/movie/694", headers=maya[2])
    body = response.json()
    assert body["signals"][0]["signal"] == "not_in_your_libraries"
    assert "Private Horror" not in response.text
    assert "not_scored" not in signals(body)


def test_a_ranked_title_and_feedback_and_overrides(
    client: TestClient, conn: db.Connection, maya: User
) -> None:
    user_id, ids, headers = maya
    conn.execute(
        "INSERT INTO recommendations (user_id, mode, rank, item_id, score, confidence, signals, "
        "explanation) VALUES (%s, 'tonight', 1, %s, 0.9, 'high', "
        "'{\"content_similarity\": 0.8}', 'x')",
        (user_id, ids[1124]),
    )
    conn.commit()
    assert ask(client, maya, "movie", 1124)["rank"] == 1
    assert ask(client, maya, "movie", 1124)["summary"] == "The Prestige is #1 in your picks."

    client.post(
        f"/api/v1/users/{user_id}/feedback",
        json={"media_type": "movie", "tmdb_id": 329865, "kind": "hide", "months": 2},
        headers=headers,
    )
    client.post(
        f"/api/v1/filters/influences/{user_id}",
        json={"kind": "person", "key": "denis villeneuve", "action": "block"},
        headers=headers,
    )
    found = signals(ask(client, maya, "movie", 329865))
    assert found["hidden"]["text"].startswith("You hid Arrival until ")
    assert found["hidden"]["until"] is not None
    assert found["block_person"]["text"] == "You blocked denis villeneuve"
    assert found["content_similarity"]["text"].endswith("(your current picks average 0.80)")

    allowed = client.post(
        f"/api/v1/filters/influences/{user_id}",
        json={
            "kind": "title",
            "key": {"media_type": "movie", "tmdb_id": 329865},
            "action": "allow",
        },
        headers=headers,
    )
    assert allowed.status_code == 201
    body = ask(client, maya, "movie", 329865)
    assert body["can_override"] is False and body["override"] is None


def test_a_title_not_yet_enriched_or_embedded(
    client: TestClient, conn: db.Connection, maya: User
) -> None:
    items.ensure_item(conn, 550, "movie", "Fight Club", 1999, [])
    conn.commit()
    found = signals(ask(client, maya, "movie", 550))
    assert {"not_in_your_libraries", "not_enriched", "no_vector"} <= set(found)


def test_unknown_title_and_bad_path(client: TestClient, maya: User) -> None:
    user_id, _, headers = maya
    missing = client.get(f"/api/v1/users/{user_id}/why-not/tv/1399", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "tmdb_id: no tv with TMDB id 1399 is known yet"
    bad = client.get(f"/api/v1/users/{user_id}/why-not/film/1399", headers=headers)
    assert bad.status_code == 422 and "media_type" in bad.json()["error"]["message"]


def test_another_users_why_not_is_404(client: TestClient, conn: db.Connection, maya: User) -> None:
    user_id, _, headers = maya
    other = add_user(conn, "4002", "other")
    response = client.get(f"/api/v1/users/{other}/why-not/movie/862", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"no user {other}"
    admin = client.get(f"/api/v1/users/{user_id}/why-not/movie/862", headers=admin_headers())
    assert admin.status_code == 200
