"""grab mode's pool: related and trending titles a user could add, and nothing they cannot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from recommendarr.functions.enrich_item import enrich_item
from recommendarr.functions.scout_trending import scout_trending
from recommendarr.shared import db
from recommendarr.shared.cached_titles import CachedTitles
from recommendarr.shared.domain.grab import RelatedSeed
from recommendarr.shared.domain.taste import TitleFacts, summarize_titles
from recommendarr.shared.facts_cache import FactsCache
from recommendarr.shared.library_cache import load_membership
from recommendarr.shared.relation_cache import RelationCache
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import arr, events, items, libraries, users
from recommendarr.shared.store.grab_candidates import grab_pool, related_to
from recommendarr.shared.vector_cache import VectorCache
from tests.conftest import run_queued
from tests.fake_tmdb import installed_fake_tmdb
from tests.helpers import SERVER_ID

INCEPTION, PRESTIGE, DARK_KNIGHT, INTERSTELLAR, DUNE = 27205, 1124, 155, 157336, 693134
SWEET_TOOTH, LAST_OF_US, BREAKING_BAD = 103768, 100088, 1396
NOW = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)


@pytest.fixture
def world(res: Resources, conn: db.Connection) -> Iterator[dict[str, int]]:
    """Inception and The Prestige on the server; TMDB relates Inception to The Dark Knight,
    Interstellar (recommended) and The Prestige (similar); trending this week: Dune, The Dark
    Knight, Sweet Tooth, The Last of Us, Breaking Bad. Radarr has Dune, Sonarr Breaking Bad (by
    TVDB id only), Sweet Tooth has been requested."""
    server = libraries.upsert_server(conn, "plex", SERVER_ID)
    library = libraries.upsert_library(conn, server, "1", "Movies", "movies")
    for tmdb_id, title in ((INCEPTION, "Inception"), (PRESTIGE, "The Prestige")):
        item_id, _ = items.ensure_item(conn, tmdb_id, "movie", title, None, [])
        libraries.upsert_library_item(conn, library, item_id, f"rk{tmdb_id}")
    conn.commit()
    with installed_fake_tmdb(res):
        enrich_item(item_of(conn, INCEPTION))
        scout_trending("scout_trending:1")
        run_queued()
    arr.note_from_webhook(conn, "radarr:Radarr", 1, "movie", DUNE, None, "Dune: Part Two", False)
    arr.note_from_webhook(conn, "sonarr:Sonarr", 2, "tv", None, 81189, "Breaking Bad", True)
    ids = {
        "alice": users.upsert_tautulli_user(conn, "1", "alice", "Alice"),
        "bob": users.upsert_tautulli_user(conn, "2", "bob", "Bob"),
    }
    conn.execute(
        "INSERT INTO grab_requests (user_id, item_id, via) VALUES (%s, %s, 'seerr')",
        (ids["bob"], item_of(conn, SWEET_TOOTH, "tv")),
    )
    conn.commit()
    yield ids


def item_of(conn: db.Connection, tmdb_id: int, media_type: str = "movie") -> int:
    row = conn.execute(
        "SELECT id FROM items WHERE tmdb_id = %s AND media_type = %s", (tmdb_id, media_type)
    ).fetchone()
    assert row is not None
    return int(row["id"])


def viewing(
    conn: db.Connection,
    user_id: int,
    tmdb_id: int,
    progress: float | None,
    *,
    action: str = "stop",
    rating: float | None = None,
    minutes_ago: int = 60,
) -> None:
    item_id = item_of(conn, tmdb_id)
    conn.execute(
        "INSERT INTO watch_events (event_key, source, user_id, item_id, action, progress, rating, "
        "occurred_at) VALUES (%s, 'tautulli', %s, %s, %s, %s, %s, %s)",
        (
            f"test|{user_id}|{item_id}|{action}|{minutes_ago}",
            user_id,
            item_id,
            action,
            progress,
            rating,
            NOW - timedelta(minutes=minutes_ago),
        ),
    )
    conn.commit()


def feedback(conn: db.Connection, user_id: int, item_id: int, kind: str, until: str | None) -> None:
    conn.execute(
        "INSERT INTO feedback (user_id, item_id, kind, until) VALUES (%s, %s, %s, %s::timestamptz)",
        (user_id, item_id, kind, until),
    )
    conn.commit()


@dataclass(frozen=True)
class Found:
    """What grab mode knows of one candidate: the pool's arrays, the title's facts and vector
    (None without one for the model asked for) and the seeds it is related to."""

    item_id: int
    facts: TitleFacts
    vector: np.ndarray | None
    trending_position: int | None
    vote_average: float | None
    vote_count: int
    year: int | None
    related_to: tuple[RelatedSeed, ...]

    @property
    def trending(self) -> bool:
        return self.trending_position is not None


def grab_candidates(
    conn: db.Connection, user_id: int, model: str, limit: int = 2000
) -> list[Found]:
    """The pool as rank_user reads it (fresh caches), strongest first, every candidate with
    what a ranking reads of it."""
    titles = {t.item_id: t for t in summarize_titles(events.viewings(conn, user_id))}
    cached = CachedTitles.begin(conn, VectorCache(), FactsCache(), RelationCache(), model)
    pool = grab_pool(conn, user_id, titles, load_membership(conn), cached, limit)
    ids = pool.item_ids.tolist()
    records, vectors = cached.records(conn, ids), cached.vectors(conn, ids)
    seeds = related_to(conn, pool, pool.item_ids, cached)
    return [
        Found(
            item_id=item_id,
            facts=records[item_id].facts,
            vector=vectors.get(item_id),
            trending_position=None if position < 0 else position,
            vote_average=None if np.isnan(average) else average,
            vote_count=int(count),
            year=records[item_id].year,
            related_to=seeds.of(item_id),
        )
        for item_id, position, average, count in zip(
            ids,
            pool.trending_positions.tolist(),
            pool.vote_averages.tolist(),
            pool.vote_counts.tolist(),
            strict=True,
        )
    ]


def by_tmdb(candidates: list[Found]) -> dict[int, Found]:
    return {c.facts.tmdb_id: c for c in candidates if c.facts.tmdb_id is not None}


def test_related_and_trending_titles_nobody_has_yet(
    conn: db.Connection, res: Resources, world: dict[str, int]
) -> None:
    alice = world["alice"]
    viewing(conn, alice, INCEPTION, 0.95)
    # Interstellar has left the server since Alice watched it.
    viewing(conn, alice, INTERSTELLAR, 0.9)
    feedback(conn, alice, item_of(conn, LAST_OF_US, "tv"), "dismiss", None)
    found = grab_candidates(conn, alice, res.embedder.model_name)
    # Not Inception or The Prestige (on the server), Interstellar (watched), Dune and Breaking
    # Bad (in Radarr / Sonarr), Sweet Tooth (requested), The Last of Us (dismissed).
    [dark_knight] = found
    assert dark_knight.item_id == item_of(conn, DARK_KNIGHT)
    assert dark_knight.facts.title == "The Dark Knight" and dark_knight.facts.media_type == "movie"
    assert dark_knight.facts.genres == ("Drama", "Action", "Crime", "Thriller")
    assert dark_knight.trending and dark_knight.trending_position == 1
    assert dark_knight.vote_average == pytest.approx(8.519) and dark_knight.vote_count == 33000
    assert dark_knight.year == 2008
    assert dark_knight.vector is not None and dark_knight.vector.shape == (768,)
    [seed] = dark_knight.related_to
    assert (seed.title, seed.tmdb_id, seed.kind, seed.position) == (
        "Inception",
        INCEPTION,
        "recommended",
        0,
    )
    assert seed.finished and seed.rating is None and seed.strength > 0


def test_a_user_without_liked_titles_gets_what_is_trending(
    conn: db.Connection, res: Resources, world: dict[str, int]
) -> None:
    found = by_tmdb(grab_candidates(conn, world["bob"], res.embedder.model_name))
    assert set(found) == {DARK_KNIGHT, LAST_OF_US}
    assert all(c.trending and c.related_to == () for c in found.values())
    # A title only an abandoned viewing points at is not a candidate.
    viewing(conn, world["bob"], INCEPTION, 0.3)
    assert set(by_tmdb(grab_candidates(conn, world["bob"], res.embedder.model_name))) == {
        DARK_KNIGHT,
        LAST_OF_US,
    }


def test_a_good_rating_makes_a_seed_and_a_bad_one_unmakes_it(
    conn: db.Connection, res: Resources, world: dict[str, int]
) -> None:
    bob = world["bob"]
    viewing(conn, bob, INCEPTION, None, action="rate", rating=8.0, minutes_ago=50)
    found = by_tmdb(grab_candidates(conn, bob, res.embedder.model_name))
    assert set(found) == {DARK_KNIGHT, INTERSTELLAR, LAST_OF_US}
    [seed] = found[INTERSTELLAR].related_to
    assert seed.rating == 8.0 and not seed.finished and not found[INTERSTELLAR].trending
    # Finished it, but the latest rating says they did not like it.
    viewing(conn, bob, INCEPTION, 1.0, action="watched", minutes_ago=40)
    viewing(conn, bob, INCEPTION, None, action="rate", rating=3.0, minutes_ago=30)
    found = by_tmdb(grab_candidates(conn, bob, res.embedder.model_name))
    assert set(found) == {DARK_KNIGHT, LAST_OF_US} and found[DARK_KNIGHT].related_to == ()


def test_feedback_and_requests_only_exclude_while_they_hold(
    conn: db.Connection, res: Resources, world: dict[str, int]
) -> None:
    bob = world["bob"]
    feedback(conn, bob, item_of(conn, LAST_OF_US, "tv"), "hide", "2000-01-01T00:00:00Z")
    feedback(conn, bob, item_of(conn, DARK_KNIGHT), "down", None)
    conn.execute("UPDATE grab_requests SET state = 'failed'")
    conn.commit()
    found = by_tmdb(grab_candidates(conn, bob, res.embedder.model_name))
    assert set(found) == {LAST_OF_US, SWEET_TOOTH}


def test_titles_held_elsewhere_appear_once_they_are_gone(
    conn: db.Connection, res: Resources, world: dict[str, int]
) -> None:
    conn.execute("DELETE FROM arr_items")
    conn.execute("DELETE FROM library_items")
    conn.commit()
    found = by_tmdb(grab_candidates(conn, world["bob"], res.embedder.model_name))
    assert set(found) == {DARK_KNIGHT, LAST_OF_US, DUNE, BREAKING_BAD}


def test_vectors_are_for_the_model_asked_for_and_the_limit_keeps_the_strongest(
    conn: db.Connection, res: Resources, world: dict[str, int]
) -> None:
    alice = world["alice"]
    viewing(conn, alice, INCEPTION, 1.0, action="watched")
    conn.execute("DELETE FROM library_items WHERE item_id = %s", (item_of(conn, PRESTIGE),))
    conn.commit()
    found = grab_candidates(conn, alice, "some-other-model")
    assert found and all(c.vector is None for c in found)
    # Related and trending beats related only, which beats trending only.
    assert [c.facts.tmdb_id for c in found][:3] == [DARK_KNIGHT, INTERSTELLAR, PRESTIGE]
    [top] = grab_candidates(conn, alice, res.embedder.model_name, limit=1)
    assert top.facts.tmdb_id == DARK_KNIGHT
    assert grab_candidates(conn, alice, res.embedder.model_name, limit=0) == []


def test_a_stale_trending_run_is_not_trending(
    conn: db.Connection, res: Resources, world: dict[str, int]
) -> None:
    conn.execute("UPDATE trending_items SET recorded_at = now() - interval '9 days'")
    conn.commit()
    assert grab_candidates(conn, world["bob"], res.embedder.model_name) == []
