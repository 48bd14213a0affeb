"""Rows rank_user would write, inserted directly: the read side is tested on its own."""

from __future__ import annotations

from typing import Any

import numpy as np
from psycopg.types.json import Json

from recommendarr.shared import db
from recommendarr.shared.domain.item_text import ItemFacts
from recommendarr.shared.store import items, libraries, rankings
from tests.helpers import SERVER_ID


def store_pick(
    conn: db.Connection,
    user_id: int,
    mode: str,
    rank: int,
    item_id: int,
    *,
    confidence: str = "medium",
    influenced_by: list[tuple[str, int]] | None = None,
) -> None:
    influences = [
        {
            "tmdb_id": tmdb_id,
            "media_type": media_type,
            "title": f"t{tmdb_id}",
            "similarity": 0.5,
            "finished": True,
        }
        for media_type, tmdb_id in influenced_by or []
    ]
    conn.execute(
        "INSERT INTO recommendations (user_id, mode, rank, item_id, score, confidence, signals, "
        "influenced_by, explanation) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            user_id,
            mode,
            rank,
            item_id,
            1.0 - rank / 100,
            confidence,
            Json({"similarity": 0.5}),
            Json(influences),
            f"pick {rank}",
        ),
    )


def store_run(conn: db.Connection, user_id: int, mode: str, total: int) -> None:
    conn.execute(
        "INSERT INTO recommendation_runs (user_id, mode, input_hash, total_candidates) "
        "VALUES (%s, %s, 'h', %s)",
        (user_id, mode, total),
    )


def store_candidate(
    conn: db.Connection, user_id: int, item_id: int, happiness: float, reason: str = ""
) -> None:
    """A refined candidate, with its happiness in the user's whole-pool row too."""
    conn.execute(
        "INSERT INTO candidate_scores (user_id, item_id, score, happiness, reason) "
        "VALUES (%s, %s, %s, %s, %s)",
        (user_id, item_id, happiness, happiness, reason or f"reason {item_id} for {user_id}"),
    )
    store_happiness(conn, user_id, {item_id: happiness})


def store_happiness(conn: db.Connection, user_id: int, happiness: dict[int, float]) -> None:
    """Titles added to (or changed in) the user's whole-pool happiness row."""
    ids, values = rankings.candidate_happiness(conn, [user_id]).get(
        user_id, (np.zeros(0), np.zeros(0))
    )
    current = dict(zip(ids.tolist(), values.tolist(), strict=True))
    current.update(happiness)
    ordered = sorted(current)
    rankings.replace_candidate_happiness(
        conn, user_id, np.array(ordered), np.array([current[i] for i in ordered])
    )


def add_titles(
    conn: db.Connection,
    count: int,
    *,
    section: str = "1",
    genres: tuple[str, ...] = ("Drama",),
    first_tmdb_id: int = 900_000,
) -> list[int]:
    """`count` made-up titles in a library section of the fixtures' server; their item ids."""
    server = libraries.upsert_server(conn, "plex", SERVER_ID)
    library = libraries.upsert_library(conn, server, section, f"Section {section}", "movies")
    ids = []
    for n in range(count):
        tmdb_id = first_tmdb_id + n
        facts = ItemFacts(
            tmdb_id, "movie", f"Title {tmdb_id}", 2000 + n % 20, genres, language="en"
        )
        item_id = items.upsert_facts(conn, facts)
        libraries.upsert_library_item(conn, library, item_id, f"rk{tmdb_id}")
        ids.append(item_id)
    conn.commit()
    return ids


def item_ids(conn: db.Connection) -> dict[str, int]:
    return {str(r["title"]): int(r["id"]) for r in conn.execute("SELECT id, title FROM items")}


def titles(body: dict[str, Any]) -> list[str]:
    return [str(i["title"]) for i in body["items"]]
