"""Group night: titles that work for everyone in a room, read from their scored candidates."""

from __future__ import annotations

from typing import Any

from recommendarr.shared.db import Connection


def members(conn: Connection, user_ids: list[int]) -> list[dict[str, Any]]:
    """The listed users that exist, in the order given, with how many scored candidates each
    has (none: their ranking has not run yet)."""
    return conn.execute(
        "SELECT u.id, u.username, "
        "  (SELECT count(*) FROM candidate_scores c WHERE c.user_id = u.id) AS candidates "
        "FROM users u WHERE u.id = ANY(%(users)s::bigint[]) "
        "ORDER BY array_position(%(users)s::bigint[], u.id)",
        {"users": user_ids},
    ).fetchall()


# candidate_scores only holds titles visible to and unseen by that user, so a title every member
# has a row for is visible to all of them. Seen and hidden are checked again here: the scores are
# as of each member's last ranking, and someone may have watched the title since.
# The least happy member decides (nobody sits through a film they would hate); the mean breaks
# ties, then how well known the title is.
PICKS_SQL = """
WITH shared AS (
    SELECT c.item_id, min(c.happiness) AS least, avg(c.happiness) AS mean
    FROM candidate_scores c
    WHERE c.user_id = ANY(%(users)s::bigint[])
    GROUP BY c.item_id
    HAVING count(*) = cardinality(%(users)s::bigint[])
),
fit AS (
    SELECT s.item_id, s.least, s.mean, i.vote_count
    FROM shared s JOIN items i ON i.id = s.item_id
    WHERE NOT EXISTS (SELECT 1 FROM watch_events w
                      WHERE w.user_id = ANY(%(users)s::bigint[]) AND w.item_id = s.item_id)
      AND NOT EXISTS (SELECT 1 FROM feedback f
                      WHERE f.user_id = ANY(%(users)s::bigint[]) AND f.item_id = s.item_id
                        AND f.kind IN ('dismiss', 'hide', 'down')
                        AND (f.until IS NULL OR f.until > now()))
    ORDER BY s.least DESC, s.mean DESC, i.vote_count DESC NULLS LAST, s.item_id
    LIMIT %(limit)s
)
SELECT i.tmdb_id, i.media_type, i.title, i.year, i.poster_path, f.least,
       round(f.mean::numeric, 4)::float8 AS mean,
       (SELECT json_agg(json_build_object('user_id', c.user_id, 'username', u.username,
                                          'happiness', c.happiness, 'reason', c.reason)
                        ORDER BY array_position(%(users)s::bigint[], c.user_id))
        FROM candidate_scores c JOIN users u ON u.id = c.user_id
        WHERE c.item_id = f.item_id AND c.user_id = ANY(%(users)s::bigint[])) AS members
FROM fit f JOIN items i ON i.id = f.item_id
ORDER BY f.least DESC, f.mean DESC, f.vote_count DESC NULLS LAST, f.item_id
"""


def picks(conn: Connection, user_ids: list[int], limit: int) -> list[dict[str, Any]]:
    """The best titles for all of `user_ids` together, best first, each with every member's
    happiness and reason (in the order the users were given)."""
    return conn.execute(PICKS_SQL, {"users": user_ids, "limit": limit}).fetchall()
