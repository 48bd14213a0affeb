"""Grab mode's candidates for one user: titles worth adding to the server.

A candidate is related (item_relations) to a title the user liked, or is in the newest
trending run, and is:
  * in no library of any server (adding it is the point);
  * not in any Radarr/Sonarr (arr_items by TMDB id, or by TVDB id for shows): monitored, held or
    deliberately unmonitored, the owner already decided about it;
  * not requested already (a grab_requests row, unless that request failed: it may be retried);
  * not watched by the user (a title since removed from the server), and not dismissed, hidden
    or thumbed down by them (while that feedback lasts).
A liked title (a seed) is one from the user's visible history that they got at least half way
into (or finished) or rated 6/10 or more, unless their latest rating of it is below 6.

A long history points at thousands of candidates through tens of thousands of relations. The
relations come from the worker's relation cache and are weighed on arrays (domain.grab); titles
in a library (the worker's library membership) or in the user's visible history are dropped
there, and the database is asked only which of the strongest candidates the other rules
exclude, a few thousand at a time, so the cost follows the number kept rather than the number
of relations. Facts and vectors are read (through the worker's caches) only for the
candidates a ranking refines (rankings.candidate_details), and the seeds' facts only for the
seeds of those (related_to).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from psycopg.rows import tuple_row

from recommendarr.shared.cached_titles import CachedTitles
from recommendarr.shared.db import Connection, number_array
from recommendarr.shared.domain.grab import (
    GrabPool,
    Links,
    RelatedTo,
    candidate_pool,
    seeds_of,
)
from recommendarr.shared.domain.taste import TitleHistory
from recommendarr.shared.library_cache import LibraryMembership

# A trending run older than this (TMDB stopped answering, or was disconnected) is not trending.
TRENDING_MAX_AGE_DAYS = 8

TRENDING = (
    "WITH latest AS (SELECT period_key FROM trending_items "
    "  WHERE recorded_at > now() - make_interval(days => %s) "
    "  ORDER BY recorded_at DESC, period_key DESC LIMIT 1) "
    "SELECT t.item_id, t.position FROM trending_items t JOIN latest USING (period_key)"
)

# Of these titles (none in a library: the worker's library membership, current as of the
# ranking's start, has dropped those), those that may be offered to this user, whether each is
# a show and its votes; as arrays, read without a Python object per row. Each rule is a NOT IN
# over a small set the database hashes once (the subqueries leave NULLs out, which would make
# NOT IN reject everything); as NOT EXISTS the planner joined the thousands asked five times.
ELIGIBLE = (
    "SELECT array_agg(i.id), array_agg(i.media_type = 'tv'), "
    "array_agg(i.vote_average::numeric::float8), array_agg(i.vote_count) "
    "FROM items i WHERE i.id = ANY(%(ids)s::bigint[]) "
    "AND (i.media_type, i.tmdb_id) NOT IN "
    "  (SELECT media_type, tmdb_id FROM arr_items WHERE tmdb_id IS NOT NULL) "
    "AND (i.media_type <> 'tv' OR i.tvdb_id IS NULL OR i.tvdb_id NOT IN "
    "  (SELECT tvdb_id FROM arr_items WHERE media_type = 'tv' AND tvdb_id IS NOT NULL)) "
    "AND i.id NOT IN (SELECT item_id FROM grab_requests WHERE state <> 'failed') "
    "AND i.id NOT IN (SELECT item_id FROM watch_events WHERE user_id = %(user_id)s) "
    "AND i.id NOT IN (SELECT item_id FROM feedback WHERE user_id = %(user_id)s "
    "  AND kind IN ('dismiss', 'hide', 'down') AND (until IS NULL OR until > now()))"
)


def grab_pool(
    conn: Connection,
    user_id: int,
    titles: Mapping[int, TitleHistory],
    library: LibraryMembership,
    cached: CachedTitles,
    limit: int = 2000,
) -> GrabPool:
    """At most `limit` candidates, highest priority first (domain.grab.candidate_pool).
    ``titles``: the user's visible history, by item id."""
    seeds = seeds_of(titles.values())
    # What is on the server or was seen goes before anything is weighed or asked of the database.
    seen = np.fromiter(titles, dtype=np.int64, count=len(titles))
    links = Links.of(seeds, cached.relations(conn, seeds.item_ids.tolist()))
    links = links.where(~np.isin(links.related, library.titles) & ~np.isin(links.related, seen))
    trending_ids, trending_positions = latest_trending(conn)
    offered = ~np.isin(trending_ids, library.titles) & ~np.isin(trending_ids, seen)
    pool = candidate_pool(links, trending_ids[offered], trending_positions[offered])
    chosen, tv, averages, counts = eligible_strongest(conn, user_id, pool.item_ids, limit)
    return GrabPool(
        item_ids=pool.item_ids[chosen],
        tv=tv,
        priorities=pool.priorities[chosen],
        trending_positions=pool.trending_positions[chosen],
        vote_averages=averages,
        vote_counts=counts,
        links=links,
        seeds=seeds,
    )


def related_to(
    conn: Connection, pool: GrabPool, item_ids: np.ndarray, cached: CachedTitles
) -> RelatedTo:
    """Which of the user's titles these candidates of the pool are related to: their links, and
    the facts of those links' seeds only (a ranking names the seeds of the few hundred
    candidates it refines)."""
    links = pool.links_to(item_ids)
    seed_ids = pool.seeds.item_ids[np.unique(links.seed)].tolist()
    return RelatedTo(links, pool.seeds, cached.facts(conn, seed_ids))


def latest_trending(conn: Connection) -> tuple[np.ndarray, np.ndarray]:
    """The newest trending run's titles and their places, if it is recent enough."""
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(TRENDING, (TRENDING_MAX_AGE_DAYS,)).fetchall()
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.int64),
    )


def eligible_strongest(
    conn: Connection, user_id: int, ranked: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions in ``ranked`` of its first ``limit`` titles that may be offered, and for each
    whether it is a show, its vote average (NaN: none) and vote count. Asked in chunks a
    little larger than the limit: most of the strongest pass."""
    parts: list[tuple[np.ndarray, ...]] = []
    kept = 0
    chunk = max(limit + limit // 4, 64)
    for start in range(0, len(ranked), chunk):
        if kept >= limit:
            break
        asked = ranked[start : start + chunk]
        with conn.cursor(row_factory=tuple_row) as cur:
            row = cur.execute(
                ELIGIBLE, {"ids": number_array(asked.tolist()), "user_id": user_id}, binary=True
            ).fetchone()
        if row is None or row[0] is None:
            continue
        ids = np.array(row[0], dtype=np.int64)
        by_id = np.argsort(ids)
        places = np.flatnonzero(np.isin(asked, ids))
        rows = by_id[np.searchsorted(ids[by_id], asked[places])]
        parts.append(
            (
                places + start,
                np.array(row[1], dtype=np.bool_)[rows],
                np.array(row[2], dtype=np.float64)[rows],  # a NULL average arrives as None: NaN
                np.array([0 if c is None else c for c in row[3]], dtype=np.float64)[rows],
            )
        )
        kept += len(places)
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.bool_), np.zeros(0), np.zeros(0)
    places, tv, averages, counts = (np.concatenate(column) for column in zip(*parts, strict=True))
    return places[:limit], tv[:limit], averages[:limit], counts[:limit]
