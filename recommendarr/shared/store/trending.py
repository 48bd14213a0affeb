"""What scout_trending records: the titles TMDB says are trending, per run."""

from __future__ import annotations

from collections.abc import Sequence

from recommendarr.shared.db import Connection

# Runs older than this are deleted; readers only ever look at the newest one.
KEEP_DAYS = 14


def record(
    conn: Connection, period_key: str, window: str, ranked: Sequence[tuple[int, int]]
) -> int:
    """(item id, position) pairs of one run; a run recorded before keeps its rows. Rows added."""
    added = 0
    for item_id, position in ranked:
        row = conn.execute(
            "INSERT INTO trending_items (period_key, item_id, time_window, position) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (period_key, item_id) DO NOTHING "
            "RETURNING item_id",
            (period_key, item_id, window, position),
        ).fetchone()
        added += row is not None
    return added


def prune(conn: Connection, keep_days: int = KEEP_DAYS) -> int:
    return conn.execute(
        "DELETE FROM trending_items WHERE recorded_at < now() - make_interval(days => %s)",
        (keep_days,),
    ).rowcount
