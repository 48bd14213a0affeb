"""Candidates for a user, and the ranked lists the HTTP layer reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from recommendarr.shared.db import AsyncConnection, Connection, as_array
from recommendarr.shared.domain.explain import Influence
from recommendarr.shared.domain.ranking import Candidate, Pick
from recommendarr.shared.store.profiles import title_facts


def tonight_candidates(conn: Connection, user_id: int, model: str) -> dict[str, list[Candidate]]:
    """In the user's libraries, never played by them, with a vector; grouped by library domain."""
    rows = conn.execute(
        'SELECT DISTINCT ON (i.id) i.id, i.title, i.genres, i.directors, i."cast", l.domain, '
        "e.embedding FROM items i "
        "JOIN library_items li ON li.item_id = i.id "
        "JOIN libraries l ON l.id = li.library_id "
        "JOIN user_visible_libraries a ON a.library_id = l.id AND a.user_id = %s "
        "JOIN item_embeddings e ON e.item_id = i.id AND e.model = %s "
        "WHERE NOT EXISTS (SELECT 1 FROM watch_events w WHERE w.user_id = %s AND w.item_id = i.id) "
        "AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.user_id = %s AND f.item_id = i.id "
        "  AND f.kind IN ('dismiss', 'hide', 'down') AND (f.until IS NULL OR f.until > now())) "
        "ORDER BY i.id, l.domain",
        (user_id, model, user_id, user_id),
        binary=True,  # vectors load ten times faster in binary than parsed from text
    ).fetchall()
    grouped: dict[str, list[Candidate]] = {}
    for r in rows:
        candidate = Candidate(
            item_id=int(r["id"]),
            facts=title_facts(r),
            vector=as_array(r["embedding"]),
        )
        grouped.setdefault(str(r["domain"]), []).append(candidate)
    return grouped


def influence_json(influence: Influence) -> dict[str, Any]:
    return {
        "tmdb_id": influence.tmdb_id,
        "media_type": influence.media_type,
        "title": influence.title,
        "similarity": round(influence.similarity, 4),
        "finished": influence.finished,
    }


def stored_input_hash(conn: Connection, user_id: int, mode: str) -> str | None:
    row = conn.execute(
        "SELECT input_hash FROM recommendation_runs WHERE user_id = %s AND mode = %s",
        (user_id, mode),
    ).fetchone()
    return None if row is None else str(row["input_hash"])


def replace(
    conn: Connection,
    user_id: int,
    mode: str,
    picks: Sequence[Pick],
    input_hash: str,
    total_candidates: int,
) -> None:
    conn.execute("DELETE FROM recommendations WHERE user_id = %s AND mode = %s", (user_id, mode))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO recommendations (user_id, mode, rank, item_id, score, confidence, "
            "signals, influenced_by, explanation) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    user_id,
                    mode,
                    rank,
                    p.item_id,
                    p.score,
                    p.confidence,
                    Jsonb(p.signals),
                    Jsonb([influence_json(i) for i in p.influenced_by]),
                    p.explanation,
                )
                for rank, p in enumerate(picks, start=1)
            ],
        )
    conn.execute(
        "INSERT INTO recommendation_runs (user_id, mode, input_hash, total_candidates, "
        "profile_built_at) VALUES (%s, %s, %s, %s, "
        "(SELECT max(built_at) FROM taste_profiles WHERE user_id = %s)) "
        "ON CONFLICT (user_id, mode) DO UPDATE SET input_hash = EXCLUDED.input_hash, "
        "total_candidates = EXCLUDED.total_candidates, "
        "profile_built_at = EXCLUDED.profile_built_at, generated_at = now()",
        (user_id, mode, input_hash, total_candidates, user_id),
    )


# The hot read path builds the whole response in one statement: one round trip, and no
# per-field work in Python. tests/http/test_api.py holds its output to the documented schema.
RESPONSE_SQL = """
WITH picks AS (
    SELECT r.rank, r.score, r.confidence, r.signals, r.influenced_by, r.explanation,
           i.tmdb_id, i.media_type, i.title, i.year, i.poster_path
    FROM recommendations r JOIN items i ON i.id = r.item_id
    WHERE r.user_id = %(user)s AND r.mode = %(mode)s
      AND (NOT EXISTS (SELECT 1 FROM library_items li WHERE li.item_id = r.item_id)
           OR EXISTS (SELECT 1 FROM library_items li JOIN user_visible_libraries a
                      ON a.library_id = li.library_id AND a.user_id = r.user_id
                      WHERE li.item_id = r.item_id))
    ORDER BY r.rank LIMIT %(limit)s
)
SELECT json_build_object(
    'items', coalesce((SELECT json_agg(json_build_object(
        'rank', p.rank, 'tmdb_id', p.tmdb_id, 'media_type', p.media_type, 'title', p.title,
        'year', p.year,
        'poster', CASE WHEN p.poster_path IS NULL OR p.poster_path = '' THEN NULL
                       ELSE %(poster_base)s || p.poster_path END,
        'score', p.score, 'confidence', p.confidence, 'explanation', p.explanation,
        'signals', p.signals, 'influenced_by', p.influenced_by) ORDER BY p.rank)
        FROM picks p), '[]'::json),
    'meta', json_build_object(
        'user', json_build_object('id', u.id, 'username', u.username),
        'mode', %(mode)s,
        'generated_at', to_char(r.generated_at AT TIME ZONE 'UTC', %(iso)s),
        'profile_freshness', to_char(r.profile_built_at AT TIME ZONE 'UTC', %(iso)s),
        'total_candidates', coalesce(r.total_candidates, 0))
)::text AS body
FROM users u LEFT JOIN recommendation_runs r ON r.user_id = u.id AND r.mode = %(mode)s
WHERE u.id = %(user)s
"""
ISO_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def response_json(
    conn: Connection, user_id: int, mode: str, limit: int, poster_base: str
) -> str | None:
    """The finished JSON body of GET /users/{id}/recommendations; None when no such user."""
    row = conn.execute(
        RESPONSE_SQL,
        {
            "user": user_id,
            "mode": mode,
            "limit": limit,
            "poster_base": poster_base,
            "iso": ISO_FORMAT,
        },
    ).fetchone()
    return None if row is None else str(row["body"])


async def response_json_async(
    conn: AsyncConnection, user_id: int, mode: str, limit: int, poster_base: str
) -> str | None:
    """response_json for the async read pool of the HTTP process."""
    cursor = await conn.execute(
        RESPONSE_SQL,
        {
            "user": user_id,
            "mode": mode,
            "limit": limit,
            "poster_base": poster_base,
            "iso": ISO_FORMAT,
        },
    )
    row = await cursor.fetchone()
    return None if row is None else str(row["body"])
