"""Titles, identified by (tmdb_id, media_type), and their embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from psycopg import sql

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.item_text import ItemFacts

ITEM_COLUMNS = (
    'id, tmdb_id, media_type, title, year, genres, keywords, directors, "cast", language, '
    "runtime, overview, poster_path, vote_average, vote_count"
)


def ensure_item(
    conn: Connection,
    tmdb_id: int,
    media_type: str,
    title: str,
    year: int | None,
    genres: Sequence[str],
) -> tuple[int, bool]:
    """The item's id, and whether this call created it (so enrichment runs once)."""
    row = conn.execute(
        "INSERT INTO items (tmdb_id, media_type, title, year, genres) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (tmdb_id, media_type) DO NOTHING RETURNING id",
        (tmdb_id, media_type, title, year, list(genres)),
    ).fetchone()
    if row is not None:
        return int(row["id"]), True
    existing = conn.execute(
        "SELECT id FROM items WHERE tmdb_id = %s AND media_type = %s", (tmdb_id, media_type)
    ).fetchone()
    assert existing is not None
    return int(existing["id"]), False


def upsert_facts(conn: Connection, facts: ItemFacts) -> int:
    row = conn.execute(
        'INSERT INTO items (tmdb_id, media_type, title, year, genres, keywords, directors, "cast", '
        "language, runtime, overview, fetched_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now()) "
        "ON CONFLICT (tmdb_id, media_type) DO UPDATE SET title = EXCLUDED.title, "
        "year = EXCLUDED.year, genres = EXCLUDED.genres, keywords = EXCLUDED.keywords, "
        'directors = EXCLUDED.directors, "cast" = EXCLUDED."cast", language = EXCLUDED.language, '
        "runtime = EXCLUDED.runtime, overview = coalesce(EXCLUDED.overview, items.overview), "
        "fetched_at = now() RETURNING id",
        (
            facts.tmdb_id,
            facts.media_type,
            facts.title,
            facts.year,
            list(facts.genres),
            list(facts.keywords),
            list(facts.directors),
            list(facts.cast),
            facts.language,
            facts.runtime,
            facts.overview,
        ),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def get(conn: Connection, item_id: int) -> dict[str, Any] | None:
    query = f"SELECT {ITEM_COLUMNS} FROM items WHERE id = %s"  # noqa: S608 - a constant
    return conn.execute(query, (item_id,)).fetchone()


def facts_from_row(row: dict[str, Any]) -> ItemFacts:
    return ItemFacts(
        tmdb_id=int(row["tmdb_id"]),
        media_type=str(row["media_type"]),
        title=str(row["title"]),
        year=row["year"],
        genres=tuple(row["genres"] or ()),
        keywords=tuple(row["keywords"] or ()),
        directors=tuple(row["directors"] or ()),
        cast=tuple(row["cast"] or ()),
        language=row["language"],
        runtime=row["runtime"],
        overview=row["overview"],
    )


def embedding_hash(conn: Connection, item_id: int, model: str) -> str | None:
    row = conn.execute(
        "SELECT content_hash FROM item_embeddings WHERE item_id = %s AND model = %s",
        (item_id, model),
    ).fetchone()
    return None if row is None else str(row["content_hash"])


def store_embedding(
    conn: Connection, item_id: int, model: str, content_hash: str, vector: np.ndarray
) -> bool:
    """Write the vector unless the stored one already matches; True when a row changed."""
    row = conn.execute(
        "INSERT INTO item_embeddings (item_id, model, content_hash, embedding) "
        "VALUES (%s, %s, %s, %s) ON CONFLICT (item_id, model) DO UPDATE SET "
        "content_hash = EXCLUDED.content_hash, embedding = EXCLUDED.embedding, embedded_at = now() "
        "WHERE item_embeddings.content_hash <> EXCLUDED.content_hash RETURNING item_id",
        (item_id, model, content_hash, vector),
    ).fetchone()
    return row is not None


def users_who_watched(conn: Connection, item_id: int) -> list[int]:
    rows = conn.execute(
        "SELECT DISTINCT user_id FROM watch_events WHERE item_id = %s ORDER BY user_id", (item_id,)
    ).fetchall()
    return [int(r["user_id"]) for r in rows]


def nearest_for_user(
    conn: Connection, user_id: int, model: str, query: np.ndarray, k: int
) -> list[dict[str, Any]]:
    """The k titles nearest to `query` among those the user can access and has not watched.

    The session sets hnsw.iterative_scan, so the filter cannot starve the index scan into
    returning fewer than k rows while enough candidates exist. The HNSW index holds the vectors
    cast to halfvec (schema.sql): half the size, so far more of it stays in shared buffers, and
    buffer misses are where a query's time goes. The ORDER BY repeats the index expression
    exactly; the similarity returned is still computed from the full-precision vectors.
    """
    return conn.execute(
        nearest_statement(len(query)),
        {"query": query, "model": model, "user": user_id, "k": k},
        binary=True,  # the query vector travels once, as bytes, not as 768 formatted floats
    ).fetchall()


def nearest_statement(dim: int) -> sql.Composed:
    return sql.SQL(
        "SELECT e.item_id, 1 - (e.embedding <=> %(query)s) AS similarity FROM item_embeddings e "
        "WHERE e.model = %(model)s AND e.item_id IN (SELECT li.item_id FROM library_items li "
        "  JOIN user_library_access a ON a.library_id = li.library_id WHERE a.user_id = %(user)s) "
        "AND NOT EXISTS (SELECT 1 FROM watch_events w WHERE w.user_id = %(user)s "
        "  AND w.item_id = e.item_id) "
        "ORDER BY e.embedding::halfvec({dim}) <=> %(query)s::halfvec({dim}) LIMIT %(k)s"
    ).format(dim=sql.Literal(dim))
