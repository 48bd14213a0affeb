"""TMDB responses kept until they expire, keyed by request (path and query, never the API key)."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from recommendarr.shared.db import Connection


def get_fresh(conn: Connection, cache_key: str) -> Any | None:
    """The cached body, or None when there is none or it has expired."""
    row = conn.execute(
        "SELECT body FROM tmdb_cache WHERE cache_key = %s AND expires_at > now()", (cache_key,)
    ).fetchone()
    return None if row is None else row["body"]


def put(conn: Connection, cache_key: str, body: Any, ttl_days: int) -> None:
    conn.execute(
        "INSERT INTO tmdb_cache (cache_key, body, fetched_at, expires_at) "
        "VALUES (%s, %s, now(), now() + make_interval(days => %s)) "
        "ON CONFLICT (cache_key) DO UPDATE SET body = EXCLUDED.body, "
        "fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at",
        (cache_key, Jsonb(body), ttl_days),
    )
