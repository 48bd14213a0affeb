"""Small builders shared by tests: Tautulli payloads and a seeded library."""

from __future__ import annotations

import json
from typing import Any

from recommendarr.shared import db
from recommendarr.shared.domain.item_text import ItemFacts
from recommendarr.shared.store import inbox, items, libraries, users
from tests.conftest import fixture_bytes

SERVER_ID = "5b4e9c1a7d3f2e8b6a0c9d1e2f3a4b5c6d7e8f90"


def tautulli(name: str = "webhook_playback_stop.json", **changes: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(fixture_bytes(f"tautulli/{name}"))
    payload.update(changes)
    return payload


def record_inbox(conn: db.Connection, payload: dict[str, Any]) -> int:
    inbox_id = inbox.record(conn, "tautulli", "application/json", json.dumps(payload).encode())
    conn.commit()
    return inbox_id


FACTS = {
    27205: ItemFacts(
        27205,
        "movie",
        "Inception",
        2010,
        ("Action", "Science Fiction"),
        ("dream", "heist", "subconscious"),
        ("Christopher Nolan",),
        ("Leonardo DiCaprio", "Joseph Gordon-Levitt"),
        "en",
        148,
    ),
    157336: ItemFacts(
        157336,
        "movie",
        "Interstellar",
        2014,
        ("Adventure", "Drama", "Science Fiction"),
        ("space travel", "wormhole", "time"),
        ("Christopher Nolan",),
        ("Matthew McConaughey", "Anne Hathaway"),
        "en",
        169,
    ),
    1124: ItemFacts(
        1124,
        "movie",
        "The Prestige",
        2006,
        ("Drama", "Mystery", "Science Fiction"),
        ("magician", "obsession", "rivalry"),
        ("Christopher Nolan",),
        ("Hugh Jackman", "Christian Bale"),
        "en",
        130,
    ),
    329865: ItemFacts(
        329865,
        "movie",
        "Arrival",
        2016,
        ("Drama", "Science Fiction", "Mystery"),
        ("alien", "linguistics", "time"),
        ("Denis Villeneuve",),
        ("Amy Adams", "Jeremy Renner"),
        "en",
        116,
    ),
    862: ItemFacts(
        862,
        "movie",
        "Toy Story",
        1995,
        ("Animation", "Comedy", "Family"),
        ("toy", "friendship", "rivalry"),
        ("John Lasseter",),
        ("Tom Hanks", "Tim Allen"),
        "en",
        81,
    ),
    10681: ItemFacts(
        10681,
        "movie",
        "WALL-E",
        2008,
        ("Animation", "Family", "Science Fiction"),
        ("robot", "space", "love"),
        ("Andrew Stanton",),
        ("Ben Burtt", "Elissa Knight"),
        "en",
        98,
    ),
    12: ItemFacts(
        12,
        "movie",
        "Finding Nemo",
        2003,
        ("Animation", "Family"),
        ("father son relationship", "ocean", "fish"),
        ("Andrew Stanton",),
        ("Albert Brooks", "Ellen DeGeneres"),
        "en",
        100,
    ),
    694: ItemFacts(
        694,
        "movie",
        "The Shining",
        1980,
        ("Horror", "Thriller"),
        ("hotel", "isolation", "writer"),
        ("Stanley Kubrick",),
        ("Jack Nicholson", "Shelley Duvall"),
        "en",
        144,
    ),
}


def seed_library(
    conn: db.Connection,
    *,
    section: str = "1",
    name: str = "Movies",
    tmdb_ids: list[int] | None = None,
) -> dict[int, int]:
    """Titles in a library of the fixtures' Plex server; returns tmdb_id -> item id."""
    server = libraries.upsert_server(conn, "plex", SERVER_ID)
    library = libraries.upsert_library(conn, server, section, name, "movies")
    ids = {}
    for tmdb_id in tmdb_ids or list(FACTS):
        item_id = items.upsert_facts(conn, FACTS[tmdb_id])
        libraries.upsert_library_item(conn, library, item_id, f"rk{tmdb_id}")
        ids[tmdb_id] = item_id
    conn.commit()
    return ids


def library_id(conn: db.Connection, section: str = "1") -> int:
    row = conn.execute("SELECT id FROM libraries WHERE section_key = %s", (section,)).fetchone()
    assert row is not None
    return int(row["id"])


def add_user(
    conn: db.Connection, tautulli_id: str, name: str, sections: tuple[str, ...] = ("1",)
) -> int:
    user_id = users.upsert_tautulli_user(conn, tautulli_id, name, name.title())
    for section in sections:
        users.grant_library(conn, user_id, library_id(conn, section), "test")
    conn.commit()
    return user_id


def watch(tmdb_id: int, user: str, progress: int, ts: int, action: str = "stop") -> dict[str, Any]:
    facts = FACTS[tmdb_id]
    return tautulli(
        action=action,
        user_id=user,
        username=f"user{user}",
        user=f"User {user}",
        themoviedb_id=str(tmdb_id),
        title=facts.title,
        year=str(facts.year),
        rating_key=f"rk{tmdb_id}",
        section_id="1",
        library_name="Movies",
        progress_percent=str(progress),
        timestamp=str(ts),
        session_key=f"s{user}{tmdb_id}{ts}",
        genres=", ".join(facts.genres),
    )
