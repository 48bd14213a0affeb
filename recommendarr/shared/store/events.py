"""Normalized watch events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg.rows import tuple_row

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.events import PlaybackEvent, merge_reports
from recommendarr.shared.domain.taste import Viewing


def insert(
    conn: Connection,
    event: PlaybackEvent,
    inbox_id: int,
    user_id: int,
    item_id: int,
    library_id: int | None,
) -> int | None:
    """The new event's id, or None when the same event was already recorded."""
    row = conn.execute(
        "INSERT INTO watch_events (event_key, inbox_id, source, user_id, item_id, library_id, "
        "action, progress, duration_s, rating, session_key, occurred_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (event_key) DO NOTHING RETURNING id",
        (
            event.event_key,
            inbox_id,
            event.source,
            user_id,
            item_id,
            library_id,
            event.action,
            event.progress,
            event.duration_s,
            event.rating,
            event.session_key,
            event.occurred_at,
        ),
    ).fetchone()
    return None if row is None else int(row["id"])


def lock_viewing(conn: Connection, user_id: int, item_id: int) -> None:
    """Serialize the recording of one user's viewings of one title until the transaction ends,
    so two sources reporting the same play at once cannot both insert it."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
        (f"watch_events:{user_id}:{item_id}",),
    )


def exists(conn: Connection, event_key: str) -> bool:
    row = conn.execute("SELECT 1 FROM watch_events WHERE event_key = %s", (event_key,)).fetchone()
    return row is not None


def same_viewing_elsewhere(
    conn: Connection,
    user_id: int,
    item_id: int,
    source: str,
    occurred_at: datetime,
    window: timedelta,
) -> dict[str, Any] | None:
    """The viewing-ending event another source recorded closest to `occurred_at`, if any lies
    within `window` of it."""
    return conn.execute(
        "SELECT id, action, progress FROM watch_events "
        "WHERE user_id = %s AND item_id = %s AND source <> %s "
        "AND action IN ('stop', 'watched') "
        "AND occurred_at BETWEEN %s::timestamptz - %s AND %s::timestamptz + %s "
        "ORDER BY abs(extract(epoch FROM occurred_at - %s::timestamptz)), id LIMIT 1",
        (user_id, item_id, source, occurred_at, window, occurred_at, window, occurred_at),
    ).fetchone()


def merge_report(conn: Connection, kept: dict[str, Any], event: PlaybackEvent) -> bool:
    """Fold a second source's report of a recorded viewing into it; True when what the profile
    reads (action, progress) changed."""
    action, progress = merge_reports(kept["action"], kept["progress"], event.action, event.progress)
    conn.execute(
        "UPDATE watch_events SET action = %s, progress = %s, "
        "duration_s = coalesce(duration_s, %s), "
        "also_reported_by = CASE WHEN %s = ANY(also_reported_by) THEN also_reported_by "
        "  ELSE array_append(also_reported_by, %s) END "
        "WHERE id = %s",
        (action, progress, event.duration_s, event.source, event.source, kept["id"]),
    )
    return (action, progress) != (kept["action"], kept["progress"])


def viewings(conn: Connection, user_id: int) -> list[Viewing]:
    # Plain tuples, in Viewing's field order: a long history is thousands of rows.
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            # The title's own type only for a viewing outside any library: joining items for
            # every row had the planner hash the whole catalog, most of this query's time.
            "SELECT w.item_id, coalesce(l.domain, (SELECT CASE WHEN i.media_type = 'tv' "
            "THEN 'tv' ELSE 'movies' END FROM items i WHERE i.id = w.item_id)), "
            "w.action, w.progress, w.rating, w.session_key, w.occurred_at "
            "FROM watch_events w LEFT JOIN libraries l ON l.id = w.library_id "
            "WHERE w.user_id = %s AND (w.library_id IS NULL OR w.library_id IN "
            "  (SELECT library_id FROM user_library_access WHERE user_id = %s)) "
            "ORDER BY w.occurred_at, w.id",
            (user_id, user_id),
        ).fetchall()
    return [Viewing(*row) for row in rows]


def history(
    conn: Connection, user_id: int, limit: int, before_id: int | None
) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT w.id, w.action, w.progress, w.duration_s, w.rating, w.occurred_at, w.source, "
        "i.tmdb_id, i.media_type, i.title, i.year FROM watch_events w "
        "JOIN items i ON i.id = w.item_id WHERE w.user_id = %s "
        "AND (%s::bigint IS NULL OR w.id < %s) "
        "AND (w.library_id IS NULL OR w.library_id IN "
        "  (SELECT library_id FROM user_library_access WHERE user_id = %s)) "
        "ORDER BY w.id DESC LIMIT %s",
        (user_id, before_id, before_id, user_id, limit),
    ).fetchall()
