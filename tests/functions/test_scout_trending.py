"""scout_trending: TMDB's weekly trending movies and shows become items and trending rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from recommendarr.broker import broker
from recommendarr.clock import SCHEDULES, period_key
from recommendarr.functions.scout_trending import scout_trending
from recommendarr.shared import db
from recommendarr.shared.clients.tmdb import TmdbClient
from recommendarr.shared.errors import Transient
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import items
from tests.conftest import queued, run_queued, table_counts
from tests.fake_tmdb import FakeTmdb, installed_fake_tmdb

TRENDING = [
    ("movie", 693134, "Dune: Part Two", 0),
    ("movie", 155, "The Dark Knight", 1),
    ("tv", 103768, "Sweet Tooth", 0),
    ("tv", 100088, "The Last of Us", 1),
    ("tv", 1396, "Breaking Bad", 2),
]


@pytest.fixture
def tmdb(res: Resources) -> Iterator[TmdbClient]:
    with installed_fake_tmdb(res) as client:
        yield client


def queued_calls(queue: str) -> list[tuple[str, tuple[Any, ...]]]:
    assert isinstance(broker, StubBroker)
    raw = list(broker.queues[queue].queue)
    return [(m.actor_name, tuple(m.args)) for m in map(dramatiq.Message.decode, raw)]


def trending_rows(conn: db.Connection) -> list[tuple[str, int, str, int, str, str]]:
    rows = conn.execute(
        "SELECT i.media_type, i.tmdb_id, i.title, t.position, t.period_key, t.time_window "
        "FROM trending_items t JOIN items i ON i.id = t.item_id "
        "ORDER BY t.period_key, i.media_type, t.position"
    ).fetchall()
    return [
        (
            r["media_type"],
            r["tmdb_id"],
            r["title"],
            r["position"],
            r["period_key"],
            r["time_window"],
        )
        for r in rows
    ]


def test_records_the_weeks_trending_movies_and_shows(conn: db.Connection, tmdb: TmdbClient) -> None:
    result = scout_trending("scout_trending:7")
    assert result == {"trending": {"movie": 2, "tv": 3}, "added": 5, "new_items": 5}
    assert trending_rows(conn) == [(*t, "scout_trending:7", "week") for t in TRENDING]
    assert sorted(s.path for s in FakeTmdb.seen) == [
        "/3/trending/movie/week",
        "/3/trending/tv/week",
    ]
    row = conn.execute(
        "SELECT year, genres, language, vote_average, vote_count, popularity, fetched_at "
        "FROM items WHERE tmdb_id = 100088 AND media_type = 'tv'"
    ).fetchone()
    assert row is not None
    assert row["year"] == 2023 and row["language"] == "en" and row["fetched_at"] is None
    assert row["genres"] == ["Drama", "Action & Adventure", "Sci-Fi & Fantasy"]
    assert row["vote_average"] == pytest.approx(8.6) and row["vote_count"] == 4811
    # Every new title is enriched; Breaking Bad's details are on the fake, so it gets them.
    calls = queued_calls("embeddings")
    assert {name for name, _ in calls} == {"enrich_item"} and len(calls) == 5
    run_queued()
    breaking_bad = conn.execute(
        "SELECT tvdb_id, fetched_at FROM items WHERE tmdb_id = 1396 AND media_type = 'tv'"
    ).fetchone()
    assert breaking_bad is not None
    assert breaking_bad["tvdb_id"] == 81189 and breaking_bad["fetched_at"] is not None
    # A title in no library records no relations: trending does not crawl TMDB.
    assert table_counts(conn)["item_relations"] == 0


def test_a_second_run_changes_nothing(conn: db.Connection, tmdb: TmdbClient) -> None:
    scout_trending("scout_trending:7")
    run_queued()
    before = {
        "counts": table_counts(conn),
        "trending": conn.execute("SELECT * FROM trending_items ORDER BY 1, 2").fetchall(),
        "items": conn.execute("SELECT * FROM items ORDER BY id").fetchall(),
    }
    result = scout_trending("scout_trending:7")
    assert result == {"trending": {"movie": 2, "tv": 3}, "added": 0, "new_items": 0}
    assert sum(queued().values()) == 0
    assert {
        "counts": table_counts(conn),
        "trending": conn.execute("SELECT * FROM trending_items ORDER BY 1, 2").fetchall(),
        "items": conn.execute("SELECT * FROM items ORDER BY id").fetchall(),
    } == before


def test_the_next_period_adds_its_rows_and_asks_tmdb_about_no_title_twice(
    conn: db.Connection, tmdb: TmdbClient
) -> None:
    known, _ = items.ensure_item(conn, 155, "movie", "The Dark Knight", 2008, ["Action"])
    fetched, _ = items.ensure_item(conn, 693134, "movie", "Dune: Part Two", 2024, ["Drama"])
    conn.execute("UPDATE items SET fetched_at = now() WHERE id = %s", (fetched,))
    conn.commit()
    scout_trending("scout_trending:7")
    sent = [args for _, args in queued_calls("embeddings")]
    # Known from a webhook only, the trending title is worth its details; a fetched one is not.
    assert (known,) in sent and (fetched,) not in sent
    run_queued()  # TMDB has no details for any of them
    scout_trending("scout_trending:8")
    assert sum(queued().values()) == 0
    assert len(trending_rows(conn)) == 2 * len(TRENDING)
    # The webhook's genres are kept; what it lacked is filled in.
    row = conn.execute("SELECT genres, vote_count FROM items WHERE id = %s", (known,)).fetchone()
    assert row == {"genres": ["Action"], "vote_count": 33000}


def test_old_runs_are_pruned(conn: db.Connection, tmdb: TmdbClient) -> None:
    scout_trending("scout_trending:1")
    conn.execute("UPDATE trending_items SET recorded_at = now() - interval '30 days'")
    conn.commit()
    scout_trending("scout_trending:30")
    assert {r[4] for r in trending_rows(conn)} == {"scout_trending:30"}


def test_a_tmdb_failure_writes_nothing_and_retries(conn: db.Connection, tmdb: TmdbClient) -> None:
    FakeTmdb.mode = "error"
    with pytest.raises(Transient):
        scout_trending("scout_trending:7")
    counts = table_counts(conn)
    assert counts["items"] == 0 and counts["trending_items"] == 0
    assert sum(queued().values()) == 0


def test_without_tmdb_it_is_skipped(conn: db.Connection, res: Resources) -> None:
    assert res.integrations.tmdb is None
    before = table_counts(conn)
    assert scout_trending("scout_trending:7") == {"skipped": "TMDB is not configured"}
    assert table_counts(conn) == before and sum(queued().values()) == 0


def test_the_clock_sends_it_once_a_day_with_its_period_key(res: Resources) -> None:
    [schedule] = [s for s in SCHEDULES if s.name == "scout_trending"]
    assert schedule.every_s == 24 * 3600
    key = period_key(schedule.name, schedule.every_s, 3 * 86400 + 5.0)
    assert key == "scout_trending:3"
    schedule.send(key)
    assert queued_calls("events") == [("scout_trending", (key,))]
