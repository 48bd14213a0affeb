"""Grab mode's candidates for one user: titles worth adding to the server.

A candidate is related (item_relations) to a title the user liked, or is in the newest
trending run, and is:
  * in no library of any server (adding it is the point);
  * not in any Radarr/Sonarr (arr_items by TMDB id, or by TVDB id for shows): monitored, held or
    deliberately unmonitored, the owner already decided about it;
  * not requested already (a grab_requests row, unless that request failed: it may be retried);
  * not watched by the user (a title since removed from the server), and not dismissed, hidden
    or thumbed down by them (while that feedback lasts).
A liked title is one the user got at least half way into (or marked watched) or rated 6/10 or
more, unless their latest rating of it is below 6.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.grab import (
    SEED_PROGRESS,
    SEED_RATING,
    GrabCandidate,
    RelatedSeed,
    related_seed,
    strongest_first,
)
from recommendarr.shared.store.profiles import title_facts, vectors_for

# A trending run older than this (TMDB stopped answering, or was disconnected) is not trending.
TRENDING_MAX_AGE_DAYS = 8

SEEDS = (
    "WITH history AS ("
    "  SELECT w.item_id, max(CASE WHEN w.action = 'watched' THEN 1.0 "
    "    ELSE coalesce(w.progress, 0.0) END)::float8 AS progress, "
    "  (array_agg(w.rating ORDER BY w.occurred_at DESC) "
    "    FILTER (WHERE w.rating IS NOT NULL))[1]::float8 AS rating "
    "  FROM watch_events w WHERE w.user_id = %(user_id)s GROUP BY w.item_id), "
    "seeds AS (SELECT item_id, progress, rating FROM history "
    "  WHERE rating >= %(seed_rating)s OR (rating IS NULL AND progress >= %(seed_progress)s)) "
)

CANDIDATES = SEEDS + (  # noqa: S608 - constant SQL pieces
    ", latest AS (SELECT period_key FROM trending_items "
    "  WHERE recorded_at > now() - make_interval(days => %(trending_days)s) "
    "  ORDER BY recorded_at DESC, period_key DESC LIMIT 1), "
    "trend AS (SELECT t.item_id, t.position FROM trending_items t "
    "  JOIN latest ON latest.period_key = t.period_key), "
    "pool AS (SELECT r.related_item_id AS item_id FROM item_relations r "
    "  JOIN seeds s ON s.item_id = r.item_id UNION SELECT item_id FROM trend) "
    'SELECT i.id, i.tmdb_id, i.media_type, i.title, i.year, i.genres, i.directors, i."cast", '
    "i.vote_average, i.vote_count, i.popularity, tr.position AS trending_position "
    "FROM pool p JOIN items i ON i.id = p.item_id LEFT JOIN trend tr ON tr.item_id = i.id "
    "WHERE NOT EXISTS (SELECT 1 FROM library_items li WHERE li.item_id = i.id) "
    "AND NOT EXISTS (SELECT 1 FROM arr_items a "
    "  WHERE a.media_type = i.media_type AND a.tmdb_id = i.tmdb_id) "
    "AND NOT EXISTS (SELECT 1 FROM arr_items a "
    "  WHERE i.media_type = 'tv' AND a.media_type = 'tv' AND a.tvdb_id = i.tvdb_id) "
    "AND NOT EXISTS (SELECT 1 FROM grab_requests g "
    "  WHERE g.item_id = i.id AND g.state <> 'failed') "
    "AND NOT EXISTS (SELECT 1 FROM watch_events w "
    "  WHERE w.user_id = %(user_id)s AND w.item_id = i.id) "
    "AND NOT EXISTS (SELECT 1 FROM feedback f "
    "  WHERE f.user_id = %(user_id)s AND f.item_id = i.id "
    "  AND f.kind IN ('dismiss', 'hide', 'down') AND (f.until IS NULL OR f.until > now()))"
)

LINKS = SEEDS + (  # noqa: S608 - constant SQL pieces
    "SELECT r.related_item_id, r.kind, r.position, s.item_id AS seed_id, s.progress, s.rating, "
    "i.tmdb_id, i.media_type, i.title FROM item_relations r "
    "JOIN seeds s ON s.item_id = r.item_id JOIN items i ON i.id = s.item_id "
    "WHERE r.related_item_id = ANY(%(ids)s)"
)


def grab_candidates(
    conn: Connection, user_id: int, model: str, limit: int = 2000
) -> list[GrabCandidate]:
    """Highest priority first (domain.grab.candidate_priority), at most `limit` of them."""
    params: dict[str, Any] = {
        "user_id": user_id,
        "seed_rating": SEED_RATING,
        "seed_progress": SEED_PROGRESS,
        "trending_days": TRENDING_MAX_AGE_DAYS,
    }
    rows = conn.execute(CANDIDATES, params).fetchall()
    if not rows:
        return []
    links = seed_links(conn, params, [int(r["id"]) for r in rows])
    ranked = sorted(
        (candidate(r, links.get(int(r["id"]), ())) for r in rows),
        key=lambda c: (-c.priority, c.item_id),
    )[: max(0, limit)]
    vectors = vectors_for(conn, [c.item_id for c in ranked], model)
    return [replace(c, vector=vectors.get(c.item_id)) for c in ranked]


def seed_links(
    conn: Connection, params: dict[str, Any], item_ids: list[int]
) -> dict[int, tuple[RelatedSeed, ...]]:
    """For each candidate, the user's liked titles related to it, strongest first."""
    rows = conn.execute(LINKS, {**params, "ids": item_ids}).fetchall()
    by_item: dict[int, list[RelatedSeed]] = defaultdict(list)
    for r in rows:
        by_item[int(r["related_item_id"])].append(
            related_seed(
                item_id=int(r["seed_id"]),
                tmdb_id=int(r["tmdb_id"]),
                media_type=str(r["media_type"]),
                title=str(r["title"]),
                kind=str(r["kind"]),
                position=int(r["position"]),
                progress=float(r["progress"]),
                rating=None if r["rating"] is None else float(r["rating"]),
            )
        )
    return {item_id: strongest_first(seeds) for item_id, seeds in by_item.items()}


def candidate(row: dict[str, Any], related_to: tuple[RelatedSeed, ...]) -> GrabCandidate:
    position = row["trending_position"]
    return GrabCandidate(
        item_id=int(row["id"]),
        facts=title_facts(row),
        vector=None,
        related_to=related_to,
        trending=position is not None,
        vote_average=None if row["vote_average"] is None else float(row["vote_average"]),
        vote_count=row["vote_count"],
        year=row["year"],
        popularity=None if row["popularity"] is None else float(row["popularity"]),
        trending_position=None if position is None else int(position),
    )
