"""The ranked lists the HTTP layer reads."""

from __future__ import annotations

from functools import cache
from typing import Any

from psycopg.types.json import Jsonb

from recommendarr.shared.db import AsyncConnection, Connection
from recommendarr.shared.domain.list_filters import (
    NO_FILTERS,
    LibraryNotVisibleError,
    ListFilters,
    TitleKey,
)

# The hot read path builds the whole response in one statement: one round trip, and no
# per-field work in Python. tests/http/test_api.py holds its output to the documented schema.
# Filters only add WHERE clauses to that statement; each combination of filters is its own
# statement text, so the unfiltered read keeps its own plan.

# The libraries the user may see, read once per statement (an InitPlan) as an array.
MINE = """mine AS (
    SELECT coalesce(array_agg(library_id), '{}'::bigint[]) AS ids
    FROM user_visible_libraries WHERE user_id = %(user)s
)"""

# `x` is the row being offered (a stored recommendation, or a shuffle candidate), `i` its item.
# A title in no library at all (a grab suggestion) is visible; one in libraries only if the user
# may see one of them. One scalar subquery (NULL when in no library): one index probe per row
# considered. As NOT EXISTS ... OR EXISTS ... over the view, the planner either hashed the
# whole of library_items on every request or ran the view's joins per row (5x slower).
VISIBLE = """(SELECT bool_or(li.library_id = ANY((SELECT m.ids FROM mine m)::bigint[]))
             FROM library_items li WHERE li.item_id = i.id) IS NOT FALSE"""

FILTER_SQL = {
    "library": """EXISTS (SELECT 1 FROM library_items li
                  WHERE li.item_id = i.id AND li.library_id = %(library)s
                    AND li.library_id = ANY((SELECT m.ids FROM mine m)::bigint[]))""",
    "genres": "EXISTS (SELECT 1 FROM unnest(i.genres) g WHERE lower(g) = ANY(%(genres)s))",
    "exclude_genres": (
        "NOT EXISTS (SELECT 1 FROM unnest(i.genres) g WHERE lower(g) = ANY(%(exclude_genres)s))"
    ),
    "year_min": "i.year >= %(year_min)s",
    "year_max": "i.year <= %(year_max)s",
    "language": "i.language = %(language)s",
    "min_confidence": "x.confidence = ANY(%(confidences)s)",
    "influenced_by": "x.influenced_by::jsonb @> %(influenced_by)s",
    "exclude_influence": "NOT x.influenced_by::jsonb @> %(exclude_influence)s",
}

# Ranks are renumbered 1..n in the order served: with filters a stored rank would have gaps,
# and a shuffle has no stored rank at all.
STORED_PICKS = """
picks AS (
    SELECT row_number() OVER (ORDER BY x.rank) AS rank, x.score, x.confidence, x.signals,
           x.influenced_by, x.explanation, i.tmdb_id, i.media_type, i.title, i.year, i.poster_path
    FROM recommendations x JOIN items i ON i.id = x.item_id
    WHERE x.user_id = %(user)s AND x.mode = %(mode)s
      AND @VISIBLE@ @FILTERS@
    ORDER BY x.rank LIMIT %(limit)s
)"""

# Shuffle draws a new weighted sample on every call (Efraimidis-Spirakis: the k largest of
# u^(1/w), taken as ln(u)/w so that small weights do not underflow to ties at 0). The weight
# grows with the square of happiness, plus a floor that keeps every candidate possible: a title
# at the 90th percentile is drawn about 14 times as often as one at the 10th.
# Titles also in a stored list lend their confidence and influences to the answer (so the
# confidence and influence filters mean the same thing here); the rest take a confidence from
# happiness. Candidates are as of the last ranking, so titles watched or hidden since are
# dropped here.
SHUFFLE_PICKS = """
stored AS (
    SELECT DISTINCT ON (item_id) item_id, confidence, influenced_by
    FROM recommendations WHERE user_id = %(user)s
    ORDER BY item_id, mode = 'tonight' DESC, mode
),
drawn AS (
    SELECT x.*, i.tmdb_id, i.media_type, i.title, i.year, i.poster_path,
           ln(1.0 - random()) / (0.05 + x.happiness * x.happiness) AS draw
    FROM (
        SELECT c.item_id, c.score, c.happiness, c.reason AS explanation,
               coalesce(s.confidence, CASE WHEN c.happiness >= 0.8 THEN 'high'
                                           WHEN c.happiness >= 0.5 THEN 'medium'
                                           ELSE 'low' END) AS confidence,
               coalesce(s.influenced_by, '[]'::json) AS influenced_by
        FROM candidate_scores c LEFT JOIN stored s ON s.item_id = c.item_id
        WHERE c.user_id = %(user)s
    ) x JOIN items i ON i.id = x.item_id
    WHERE @VISIBLE@
      AND NOT EXISTS (SELECT 1 FROM watch_events w
                      WHERE w.user_id = %(user)s AND w.item_id = x.item_id)
      AND NOT EXISTS (SELECT 1 FROM feedback f
                      WHERE f.user_id = %(user)s AND f.item_id = x.item_id
                        AND f.kind IN ('dismiss', 'hide', 'down')
                        AND (f.until IS NULL OR f.until > now()))
      @FILTERS@
    ORDER BY draw DESC LIMIT %(limit)s
),
picks AS (
    SELECT row_number() OVER (ORDER BY d.draw DESC) AS rank, d.score, d.confidence,
           json_build_object('happiness', round(d.happiness::numeric, 4)) AS signals,
           d.influenced_by, d.explanation, d.tmdb_id, d.media_type, d.title, d.year,
           d.poster_path
    FROM drawn d
)"""

ITEMS_JSON = """coalesce((SELECT json_agg(json_build_object(
        'rank', p.rank, 'tmdb_id', p.tmdb_id, 'media_type', p.media_type, 'title', p.title,
        'year', p.year,
        'poster', CASE WHEN p.poster_path IS NULL OR p.poster_path = '' THEN NULL
                       ELSE %(poster_base)s || p.poster_path END,
        'score', p.score, 'confidence', p.confidence, 'explanation', p.explanation,
        'signals', p.signals, 'influenced_by', p.influenced_by) ORDER BY p.rank)
        FROM picks p), '[]'::json)"""

STORED_BODY = """
SELECT json_build_object(
    'items', @ITEMS@,
    'meta', json_build_object(
        'user', json_build_object('id', u.id, 'username', u.username),
        'mode', %(mode)s,
        'generated_at', to_char(r.generated_at AT TIME ZONE 'UTC', %(iso)s),
        'profile_freshness', to_char(r.profile_built_at AT TIME ZONE 'UTC', %(iso)s),
        'total_candidates', coalesce(r.total_candidates, 0))
)::text AS body, @LIBRARY@ AS library_visible
FROM users u LEFT JOIN recommendation_runs r ON r.user_id = u.id AND r.mode = %(mode)s
WHERE u.id = %(user)s
"""

SHUFFLE_BODY = """
SELECT json_build_object(
    'items', @ITEMS@,
    'meta', json_build_object(
        'user', json_build_object('id', u.id, 'username', u.username),
        'mode', %(mode)s::text,
        'generated_at', to_char(now() AT TIME ZONE 'UTC', %(iso)s),
        'profile_freshness', (SELECT to_char(max(t.built_at) AT TIME ZONE 'UTC', %(iso)s)
                              FROM taste_profiles t WHERE t.user_id = u.id),
        'total_candidates', (SELECT count(*) FROM candidate_scores c WHERE c.user_id = u.id))
)::text AS body, @LIBRARY@ AS library_visible
FROM users u
WHERE u.id = %(user)s
"""

LIBRARY_VISIBLE = "%(library)s = ANY((SELECT m.ids FROM mine m)::bigint[])"
ISO_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
SHUFFLE = "shuffle"


@cache
def response_sql(shuffle: bool, active: tuple[str, ...]) -> str:
    """The statement for one mode family and one set of active filters (few shapes, cached)."""
    picks, body = (SHUFFLE_PICKS, SHUFFLE_BODY) if shuffle else (STORED_PICKS, STORED_BODY)
    filters = "".join(f"\n      AND {FILTER_SQL[name]}" for name in active)
    library = LIBRARY_VISIBLE if "library" in active else "true"
    picks = picks.replace("@VISIBLE@", VISIBLE).replace("@FILTERS@", filters)
    items = body.replace("@ITEMS@", ITEMS_JSON).replace("@LIBRARY@", library)
    return f"WITH {MINE},\n{picks.strip()}{items}"


def influence_param(key: TitleKey | None) -> Jsonb | None:
    # Containment of one element with just these two keys: "the list names this title".
    return None if key is None else Jsonb([{"tmdb_id": key.tmdb_id, "media_type": key.media_type}])


def response_params(
    user_id: int, mode: str, limit: int, poster_base: str, filters: ListFilters
) -> dict[str, Any]:
    return {
        "user": user_id,
        "mode": mode,
        "limit": limit,
        "poster_base": poster_base,
        "iso": ISO_FORMAT,
        "library": filters.library,
        "genres": list(filters.genres),
        "exclude_genres": list(filters.exclude_genres),
        "year_min": filters.year_min,
        "year_max": filters.year_max,
        "language": filters.language,
        "confidences": filters.confidences(),
        "influenced_by": influence_param(filters.influenced_by),
        "exclude_influence": influence_param(filters.exclude_influence),
    }


def finished_body(row: dict[str, Any] | None, filters: ListFilters) -> str | None:
    if row is None:
        return None
    if not row["library_visible"] and filters.library is not None:
        raise LibraryNotVisibleError(filters.library)
    return str(row["body"])


def response_json(
    conn: Connection,
    user_id: int,
    mode: str,
    limit: int,
    poster_base: str,
    filters: ListFilters = NO_FILTERS,
) -> str | None:
    """The finished JSON body of GET /users/{id}/recommendations; None when no such user.
    Raises LibraryNotVisibleError when the library filter names a library the user cannot see."""
    row = conn.execute(
        response_sql(mode == SHUFFLE, filters.active()),
        response_params(user_id, mode, limit, poster_base, filters),
    ).fetchone()
    return finished_body(row, filters)


async def response_json_async(
    conn: AsyncConnection,
    user_id: int,
    mode: str,
    limit: int,
    poster_base: str,
    filters: ListFilters = NO_FILTERS,
) -> str | None:
    """response_json for the async read pool of the HTTP process."""
    cursor = await conn.execute(
        response_sql(mode == SHUFFLE, filters.active()),
        response_params(user_id, mode, limit, poster_base, filters),
    )
    return finished_body(await cursor.fetchone(), filters)
