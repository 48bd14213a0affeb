"""Work whose triggering message may have been lost (a Redis restart, a killed worker).

Each query finds state that is older than its inputs; re-sending the follow-up is safe because
every actor is a no-op when its work is already done.
"""

from __future__ import annotations

from recommendarr.shared.db import Connection


def items_without_embedding(
    conn: Connection, model: str, older_than_s: int, limit: int
) -> list[int]:
    rows = conn.execute(
        "SELECT i.id FROM items i WHERE i.created_at < now() - make_interval(secs => %s) "
        "AND NOT EXISTS (SELECT 1 FROM item_embeddings e WHERE e.item_id = i.id AND e.model = %s) "
        "ORDER BY i.id LIMIT %s",
        (older_than_s, model, limit),
    ).fetchall()
    return [int(r["id"]) for r in rows]


# A rebuild that finds nothing new leaves its timestamp alone, so a user can look stale for
# good; looking back a week bounds how long such a user keeps being re-checked.
LOOKBACK_DAYS = 7


def users_with_stale_profiles(conn: Connection, older_than_s: int, limit: int) -> list[int]:
    """Users with a finished viewing or rating recorded after their newest profile."""
    rows = conn.execute(
        "SELECT w.user_id FROM watch_events w LEFT JOIN "
        "  (SELECT user_id, max(built_at) AS built_at FROM taste_profiles GROUP BY user_id) p "
        "  ON p.user_id = w.user_id "
        "WHERE w.action IN ('stop', 'watched', 'rate') "
        "AND w.created_at < now() - make_interval(secs => %s) "
        "AND w.created_at > now() - make_interval(days => %s) "
        "AND (p.built_at IS NULL OR w.created_at > p.built_at) "
        "GROUP BY w.user_id ORDER BY w.user_id LIMIT %s",
        (older_than_s, LOOKBACK_DAYS, limit),
    ).fetchall()
    return [int(r["user_id"]) for r in rows]


def users_with_stale_picks(conn: Connection, older_than_s: int, limit: int) -> list[int]:
    """Users whose picks do not reflect their newest profile build (a ranking records which
    build it read; when it began says nothing, as it may have waited for that build's lock)."""
    rows = conn.execute(
        "SELECT p.user_id FROM taste_profiles p "
        "LEFT JOIN recommendation_runs r ON r.user_id = p.user_id AND r.mode = 'tonight' "
        "WHERE p.built_at < now() - make_interval(secs => %s) "
        "AND p.built_at > now() - make_interval(days => %s) "
        "AND (r.profile_built_at IS NULL OR p.built_at > r.profile_built_at) "
        "GROUP BY p.user_id ORDER BY p.user_id LIMIT %s",
        (older_than_s, LOOKBACK_DAYS, limit),
    ).fetchall()
    return [int(r["user_id"]) for r in rows]
