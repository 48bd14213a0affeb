"""Influence overrides (boost, suppress, block, allow) and the profile weights they act on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.adjustments import Override


def upsert(conn: Connection, user_id: int, kind: str, key: str, action: str) -> dict[str, Any]:
    """One rule per (user, kind, name): saying something new about it replaces the old rule."""
    row = conn.execute(
        "INSERT INTO influence_overrides (user_id, kind, key, action) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (user_id, kind, lower(key)) DO UPDATE SET key = EXCLUDED.key, "
        "action = EXCLUDED.action, created_at = now() RETURNING id, kind, key, action, created_at",
        (user_id, kind, key, action),
    ).fetchone()
    assert row is not None
    return row


def delete(conn: Connection, user_id: int, override_id: int) -> bool:
    row = conn.execute(
        "DELETE FROM influence_overrides WHERE id = %s AND user_id = %s RETURNING id",
        (override_id, user_id),
    ).fetchone()
    return row is not None


def list_for(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, kind, key, action, created_at FROM influence_overrides WHERE user_id = %s "
        "ORDER BY kind, id",
        (user_id,),
    ).fetchall()


def overrides_for(conn: Connection, user_id: int) -> list[Override]:
    """What rank_user applies to the user's scores."""
    return [
        Override(kind=str(r["kind"]), key=str(r["key"]), action=str(r["action"]), id=int(r["id"]))
        for r in list_for(conn, user_id)
    ]


def profile_weights(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT domain, genre_weights, person_weights, item_weights FROM taste_profiles "
        "WHERE user_id = %s ORDER BY domain",
        (user_id,),
    ).fetchall()


def titles_by_id(conn: Connection, item_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, tmdb_id, media_type, title, year FROM items WHERE id = ANY(%s)",
        (list(item_ids),),
    ).fetchall()
    return {int(r["id"]): r for r in rows}


def titles_by_key(conn: Connection, keys: Iterable[tuple[str, int]]) -> dict[str, dict[str, Any]]:
    """'movie:603' -> the title's row, for the given (media_type, tmdb_id) pairs."""
    wanted = list(keys)
    if not wanted:
        return {}
    rows = conn.execute(
        "SELECT i.id, i.tmdb_id, i.media_type, i.title, i.year FROM items i "
        "JOIN unnest(%s::text[], %s::int[]) AS k(media_type, tmdb_id) "
        "ON i.media_type = k.media_type AND i.tmdb_id = k.tmdb_id",
        ([m for m, _ in wanted], [t for _, t in wanted]),
    ).fetchall()
    return {f"{r['media_type']}:{r['tmdb_id']}": r for r in rows}
