"""The onboarding quiz: what to show a new user, and the answers they gave."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.onboarding import QuizTitle

# Well-known titles are a small head of the catalog: the round-robin over genres picks from it.
QUIZ_POOL = 400

IN_VISIBLE_LIBRARY = """EXISTS (SELECT 1 FROM library_items li JOIN user_visible_libraries a
                    ON a.library_id = li.library_id AND a.user_id = %(user)s
                    WHERE li.item_id = i.id)"""


def quiz_pool(conn: Connection, user_id: int, size: int = QUIZ_POOL) -> list[QuizTitle]:
    """The best-known titles in the libraries the user can see, by vote count."""
    rows = conn.execute(
        "SELECT i.id, i.tmdb_id, i.media_type, i.title, i.year, i.poster_path, i.genres, "  # noqa: S608 - a constant clause
        "  coalesce(i.vote_count, 0) AS vote_count "
        f"FROM items i WHERE {IN_VISIBLE_LIBRARY} "
        "ORDER BY i.vote_count DESC NULLS LAST, i.popularity DESC NULLS LAST, i.id "
        "LIMIT %(size)s",
        {"user": user_id, "size": size},
    ).fetchall()
    return [
        QuizTitle(
            item_id=int(r["id"]),
            tmdb_id=int(r["tmdb_id"]),
            media_type=str(r["media_type"]),
            title=str(r["title"]),
            year=r["year"],
            poster_path=r["poster_path"],
            genres=tuple(r["genres"]),
            vote_count=int(r["vote_count"]),
        )
        for r in rows
    ]


def library_genres(conn: Connection, user_id: int) -> list[str]:
    """Every genre of a title in the libraries the user can see, by name."""
    rows = conn.execute(
        "SELECT DISTINCT g.name FROM items i, unnest(i.genres) AS g(name) "  # noqa: S608 - constant
        f"WHERE {IN_VISIBLE_LIBRARY} ORDER BY g.name",
        {"user": user_id},
    ).fetchall()
    return [str(r["name"]) for r in rows]


def visible_titles(
    conn: Connection, user_id: int, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """(media_type, tmdb_id) -> item id, for the keys that name a title the user may see: in a
    library of theirs, or in no library at all. Others are left out, as if unknown."""
    if not keys:
        return {}
    rows = conn.execute(
        "SELECT i.id, i.media_type, i.tmdb_id FROM items i "  # noqa: S608 - a constant clause
        "JOIN unnest(%(types)s::text[], %(tmdb_ids)s::int[]) AS k(media_type, tmdb_id) "
        "  ON k.media_type = i.media_type AND k.tmdb_id = i.tmdb_id "
        "WHERE NOT EXISTS (SELECT 1 FROM library_items li WHERE li.item_id = i.id) "
        f"   OR {IN_VISIBLE_LIBRARY}",
        {"user": user_id, "types": [k[0] for k in keys], "tmdb_ids": [k[1] for k in keys]},
    ).fetchall()
    return {(str(r["media_type"]), int(r["tmdb_id"])): int(r["id"]) for r in rows}


def save_answers(
    conn: Connection, user_id: int, liked_item_ids: list[int], genre_sliders: dict[str, float]
) -> None:
    """Answering again replaces the previous answers."""
    conn.execute(
        "INSERT INTO onboarding_answers (user_id, liked_item_ids, genre_sliders) "
        "VALUES (%s, %s, %s) ON CONFLICT (user_id) DO UPDATE SET "
        "liked_item_ids = EXCLUDED.liked_item_ids, genre_sliders = EXCLUDED.genre_sliders, "
        "answered_at = now()",
        (user_id, liked_item_ids, Jsonb(genre_sliders)),
    )


def stored_answers(conn: Connection, user_id: int) -> dict[str, Any] | None:
    """The answers as the API shows them: liked titles by TMDB id, in the order given."""
    return conn.execute(
        "SELECT coalesce((SELECT json_agg(json_build_object("
        "    'media_type', i.media_type, 'tmdb_id', i.tmdb_id) ORDER BY k.n) "
        "  FROM unnest(o.liked_item_ids) WITH ORDINALITY AS k(id, n) "
        "  JOIN items i ON i.id = k.id), '[]'::json) AS liked, "
        "o.genre_sliders AS genres, o.answered_at "
        "FROM onboarding_answers o WHERE o.user_id = %s",
        (user_id,),
    ).fetchone()


def quiz_answers(conn: Connection, user_id: int) -> tuple[list[int], dict[str, float]] | None:
    """The user's quiz answers for ranking: liked item ids (titles since deleted dropped) and
    genre sliders (-1..1); None when they never answered."""
    row = conn.execute(
        "SELECT ARRAY(SELECT k.id FROM unnest(o.liked_item_ids) WITH ORDINALITY AS k(id, n) "
        "  JOIN items i ON i.id = k.id ORDER BY k.n) AS liked, o.genre_sliders "
        "FROM onboarding_answers o WHERE o.user_id = %s",
        (user_id,),
    ).fetchone()
    if row is None:
        return None
    sliders = {str(name): float(value) for name, value in row["genre_sliders"].items()}
    return [int(i) for i in row["liked"]], sliders
