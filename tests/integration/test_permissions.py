"""Permissions hold end to end: a friend shared only "TV Shows" never sees a Movies-only title.

Simulated Plex + plex.tv speak the fixtures (two libraries; shared_servers.xml shares only
section 2 with bob). Watch events go in through the real webhook endpoint, the actor chain runs,
and bob's recommendations and history are read through the API with bob's own token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from recommendarr.functions.sync_library import sync_library
from recommendarr.shared import db, resources
from tests.conftest import WEBHOOK_TOKEN, admin_headers, fixture_bytes, run_queued
from tests.fake_media_servers import FakePlex, FakePlexTv, integrations_installed, plex_client

ALICE, BOB = "27185324", "31690025"
MOVIES_ONLY = {"Inception", "Dune: Part Two"}


@pytest.fixture
def plex(res: resources.Resources) -> Iterator[FakePlex]:
    with (
        FakePlex().running() as server,
        FakePlexTv().running() as plex_tv,
        integrations_installed(res, plex=plex_client(server, plex_tv)),
    ):
        yield server


def webhook(client: TestClient, name: str, **changes: str) -> None:
    payload: dict[str, Any] = json.loads(fixture_bytes(f"tautulli/{name}"))
    payload.update(changes)
    response = client.post(f"/api/v1/webhooks/tautulli?token={WEBHOOK_TOKEN}", json=payload)
    assert response.status_code == 202, response.text


def dune(user_id: str, username: str, timestamp: str) -> dict[str, str]:
    return {
        "action": "watched",
        "user_id": user_id,
        "username": username,
        "user": username.title(),
        "rating_key": "38417",
        "title": "Dune: Part Two",
        "year": "2024",
        "imdb_id": "tt15239678",
        "themoviedb_id": "693134",
        "genres": "Science Fiction, Adventure",
        "progress_percent": "97",
        "timestamp": timestamp,
        "session_key": f"dune-{user_id}-{timestamp}",
    }


def user_id(conn: db.Connection, plex_id: str) -> int:
    row = conn.execute("SELECT id FROM users WHERE plex_user_id = %s", (plex_id,)).fetchone()
    assert row is not None
    return int(row["id"])


def token_for(client: TestClient, uid: int) -> dict[str, str]:
    response = client.post(f"/api/v1/users/{uid}/tokens", headers=admin_headers(), json={})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def picks(client: TestClient, uid: int, headers: dict[str, str]) -> set[str]:
    response = client.get(f"/api/v1/users/{uid}/recommendations?limit=50", headers=headers)
    assert response.status_code == 200, response.text
    return {item["title"] for item in response.json()["items"]}


def history(client: TestClient, uid: int, headers: dict[str, str]) -> set[str]:
    response = client.get(f"/api/v1/users/{uid}/history?limit=500", headers=headers)
    assert response.status_code == 200, response.text
    return {entry["title"] for entry in response.json()["items"]}


def test_a_friend_never_sees_titles_of_a_library_not_shared_with_them(
    client: TestClient, conn: db.Connection, plex: FakePlex
) -> None:
    # Before any sync: alice finishes Inception; bob finishes Dune (from Movies, which gives
    # him access inferred from playback) and an episode of Breaking Bad (TV Shows).
    webhook(client, "webhook_playback_stop.json", progress_percent="96")
    webhook(client, "webhook_playback_stop.json", **dune(BOB, "bob_p", "1742000000"))
    webhook(client, "webhook_watched.json")
    run_queued()
    bob = user_id(conn, BOB)
    bob_headers = token_for(client, bob)
    # The test can fail: without a sync, bob's inferred access shows him Movies titles.
    assert "Dune: Part Two" in history(client, bob, bob_headers)
    assert "Inception" in picks(client, bob, bob_headers)

    assert client.post("/api/v1/admin/sync", headers=admin_headers()).status_code == 202
    run_queued()

    # After the sync: more plays, including one bob makes from Movies again (a stale share).
    webhook(client, "webhook_watched.json", timestamp="1742300000", session_key="419")
    webhook(client, "webhook_playback_stop.json", **dune(ALICE, "alice", "1742310000"))
    webhook(
        client,
        "webhook_playback_stop.json",
        user_id=BOB,
        username="bob_p",
        timestamp="1742320000",
        session_key="777",
    )
    run_queued()

    assert picks(client, bob, bob_headers).isdisjoint(MOVIES_ONLY)
    seen_by_bob = history(client, bob, bob_headers)
    assert seen_by_bob == {"Breaking Bad"}
    # Movies titles are still there for those who may open the library.
    alice = user_id(conn, ALICE)
    assert history(client, alice, admin_headers()) >= MOVIES_ONLY
    access = conn.execute(
        "SELECT l.section_key FROM user_library_access a JOIN libraries l ON l.id = a.library_id "
        "WHERE a.user_id = %s",
        (bob,),
    ).fetchall()
    assert access == [{"section_key": "2"}]


def test_candidates_and_stored_picks_respect_access_at_the_store_layer(
    client: TestClient, conn: db.Connection, plex: FakePlex
) -> None:
    """A pick stored before access was revoked is not served, even before re-ranking runs."""
    webhook(client, "webhook_playback_stop.json", progress_percent="96")
    webhook(client, "webhook_playback_stop.json", **dune(BOB, "bob_p", "1742000000"))
    run_queued()
    bob = user_id(conn, BOB)
    bob_headers = token_for(client, bob)
    assert "Inception" in picks(client, bob, bob_headers)
    # Run only the sync: its follow-ups (re-ranking bob) stay queued.
    sync_library("now")
    stored = conn.execute(
        "SELECT i.title FROM recommendations r JOIN items i ON i.id = r.item_id "
        "WHERE r.user_id = %s",
        (bob,),
    ).fetchall()
    assert {"title": "Inception"} in stored
    assert "Inception" not in picks(client, bob, bob_headers)
