"""enrich_item records a library title's TMDB recommendations and similar titles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from recommendarr.broker import broker
from recommendarr.functions.enrich_item import (
    enrich,
    enrich_item,
    record_relations,
    send_follow_ups,
)
from recommendarr.shared import db, resources
from recommendarr.shared.clients.tmdb import TmdbClient
from recommendarr.shared.domain.tmdb_lists import ListedTitle, RelationKind, related_lists
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import enrichment, items, libraries
from tests.conftest import fixture_bytes, run_queued, table_counts
from tests.fake_tmdb import FakeTmdb, installed_fake_tmdb
from tests.helpers import SERVER_ID, seed_library

INCEPTION, DARK_KNIGHT, INTERSTELLAR, PRESTIGE = 27205, 155, 157336, 1124


@pytest.fixture
def tmdb(res: Resources) -> Iterator[TmdbClient]:
    with installed_fake_tmdb(res) as client:
        yield client


def queued_calls(queue: str = "embeddings") -> list[tuple[str, tuple[Any, ...]]]:
    assert isinstance(broker, StubBroker)
    raw = list(broker.queues[queue].queue)
    return [(m.actor_name, tuple(m.args)) for m in map(dramatiq.Message.decode, raw)]


def in_library(conn: db.Connection, tmdb_id: int, title: str) -> int:
    """A title a library sync has just seen: in a library, not enriched yet."""
    item_id, _ = items.ensure_item(conn, tmdb_id, "movie", title, None, ["Drama"])
    server = libraries.upsert_server(conn, "plex", SERVER_ID)
    library = libraries.upsert_library(conn, server, "1", "Movies", "movies")
    libraries.upsert_library_item(conn, library, item_id, f"rk{tmdb_id}")
    conn.commit()
    return item_id


def item_id_of(conn: db.Connection, tmdb_id: int, media_type: str = "movie") -> int:
    row = conn.execute(
        "SELECT id FROM items WHERE tmdb_id = %s AND media_type = %s", (tmdb_id, media_type)
    ).fetchone()
    assert row is not None
    return int(row["id"])


def relations(conn: db.Connection) -> list[tuple[int, int, str, int]]:
    rows = conn.execute(
        "SELECT s.tmdb_id AS source, o.tmdb_id AS other, r.kind, r.position "
        "FROM item_relations r JOIN items s ON s.id = r.item_id "
        "JOIN items o ON o.id = r.related_item_id ORDER BY 1, 3, 4"
    ).fetchall()
    return [(r["source"], r["other"], r["kind"], r["position"]) for r in rows]


def lists_by(
    conn: db.Connection, item_id: int, lists: dict[RelationKind, list[ListedTitle]]
) -> None:
    """What enrich_item records when TMDB lists these titles for the item, and sends after."""
    state = enrichment.read_state(conn, item_id, 7, resources.current().embedder.model_name)
    assert state is not None
    upserted = record_relations(conn, state, lists, lambda: True)
    conn.commit()
    send_follow_ups(lists, upserted)


def everything(conn: db.Connection) -> dict[str, Any]:
    return {
        "counts": table_counts(conn),
        "relations": conn.execute("SELECT * FROM item_relations ORDER BY 1, 2, 3").fetchall(),
        "items": conn.execute("SELECT * FROM items ORDER BY id").fetchall(),
    }


EXPECTED = [
    (INCEPTION, DARK_KNIGHT, "recommended", 0),
    (INCEPTION, INTERSTELLAR, "recommended", 1),
    (INCEPTION, PRESTIGE, "similar", 0),
]


def test_a_library_title_records_its_related_titles_with_their_list_facts(
    conn: db.Connection, tmdb: TmdbClient
) -> None:
    source = in_library(conn, INCEPTION, "Inception")
    enrich_item(source)
    assert relations(conn) == EXPECTED
    row = conn.execute(
        "SELECT title, year, genres, language, poster_path, vote_average, vote_count, "
        "popularity, overview, fetched_at FROM items WHERE tmdb_id = %s",
        (DARK_KNIGHT,),
    ).fetchone()
    assert row is not None
    assert (row["title"], row["year"], row["language"]) == ("The Dark Knight", 2008, "en")
    assert row["genres"] == ["Drama", "Action", "Crime", "Thriller"]
    assert row["poster_path"] == "/qJ2tW6WMUDux911r6m7haRef0WH.jpg"
    assert row["vote_average"] == pytest.approx(8.519) and row["vote_count"] == 33000
    assert row["popularity"] == pytest.approx(28.401) and row["overview"]
    # Only the details were fetched: the related titles' come when their enrich_item runs.
    assert row["fetched_at"] is None
    assert [s.path for s in FakeTmdb.seen] == ["/3/movie/27205"]
    assert sorted(queued_calls()) == sorted(
        [
            ("embed_item", (source,)),
            ("enrich_item", (item_id_of(conn, DARK_KNIGHT),)),
            ("enrich_item", (item_id_of(conn, INTERSTELLAR),)),
            ("enrich_item", (item_id_of(conn, PRESTIGE),)),
        ]
    )


def test_enriching_twice_changes_nothing(conn: db.Connection, tmdb: TmdbClient) -> None:
    source = in_library(conn, INCEPTION, "Inception")
    enrich_item(source)
    run_queued()  # the related titles' own enrichment (TMDB has none of them: 404s)
    before = everything(conn)
    assert before["counts"]["item_relations"] == 3 and before["counts"]["items"] == 4
    enrich_item(source)
    assert everything(conn) == before and queued_calls() == []
    # Stale details are fetched again (the response cache still has them): the same lists
    # write nothing and create no title, so only the source is embedded again.
    conn.execute(
        "UPDATE items SET fetched_at = now() - interval '30 days' WHERE id = %s", (source,)
    )
    conn.commit()
    enrich_item(source)
    after = everything(conn)
    assert after["relations"] == before["relations"] and after["counts"] == before["counts"]
    assert queued_calls() == [("embed_item", (source,))]


def test_a_title_in_no_library_records_no_relations(conn: db.Connection, tmdb: TmdbClient) -> None:
    item_id, _ = items.ensure_item(conn, INCEPTION, "movie", "Inception", None, [])
    conn.commit()
    enrich_item(item_id)
    assert relations(conn) == [] and table_counts(conn)["items"] == 1
    assert queued_calls() == [("embed_item", (item_id,))]


def test_a_fresh_library_title_without_relations_gets_them(
    conn: db.Connection, tmdb: TmdbClient
) -> None:
    ids = seed_library(conn, tmdb_ids=[INCEPTION])  # enriched before relations were recorded
    enrich_item(ids[INCEPTION])
    assert relations(conn) == EXPECTED
    enrich_item(ids[INCEPTION])
    assert len(FakeTmdb.seen) == 1


def test_known_titles_keep_their_richer_facts(conn: db.Connection, tmdb: TmdbClient) -> None:
    ids = seed_library(conn, tmdb_ids=[INTERSTELLAR])  # enriched, in a library
    before = conn.execute("SELECT * FROM items WHERE id = %s", (ids[INTERSTELLAR],)).fetchone()
    # Known from a webhook only: a title and a genre, no year.
    prestige, _ = items.ensure_item(conn, PRESTIGE, "movie", "Prestige, The", None, ["Mystery"])
    conn.commit()
    source = in_library(conn, INCEPTION, "Inception")
    enrich_item(source)
    assert relations(conn) == EXPECTED
    after = conn.execute("SELECT * FROM items WHERE id = %s", (ids[INTERSTELLAR],)).fetchone()
    assert after == before
    row = conn.execute(
        "SELECT title, year, genres, vote_count FROM items WHERE id = %s", (prestige,)
    ).fetchone()
    assert row == {
        "title": "Prestige, The",
        "year": 2006,
        "genres": ["Mystery"],
        "vote_count": 16012,
    }
    # Interstellar's details are fetched, so it is sent nowhere. TMDB was never asked about The
    # Prestige, and it heads the similar list: it is enriched like the new Dark Knight.
    assert sorted(queued_calls()) == sorted(
        [
            ("embed_item", (source,)),
            ("enrich_item", (item_id_of(conn, DARK_KNIGHT),)),
            ("enrich_item", (prestige,)),
        ]
    )


def test_a_title_another_list_created_low_down_is_enriched_when_this_one_lists_it_high(
    conn: db.Connection, tmdb: TmdbClient
) -> None:
    """Which library title's enrichment runs first must not decide whether a related title
    gets its details: the related lists of a household's titles overlap."""
    other = in_library(conn, 603, "The Matrix")
    low = ListedTitle(tmdb_id=PRESTIGE, media_type="movie", title="The Prestige", position=12)
    lists_by(conn, other, {"recommended": [low]})
    prestige = item_id_of(conn, PRESTIGE)
    assert queued_calls() == [("embed_item", (prestige,))]  # too low in The Matrix's list
    run_queued()
    source = in_library(conn, INCEPTION, "Inception")
    enrich_item(source)
    assert ("enrich_item", (prestige,)) in queued_calls()  # first in Inception's similar list


def test_tmdb_is_asked_about_a_related_title_it_lacks_only_once(
    conn: db.Connection, tmdb: TmdbClient
) -> None:
    source = in_library(conn, INCEPTION, "Inception")
    enrich_item(source)
    run_queued()  # TMDB has none of the three related titles
    asked = [s.path for s in FakeTmdb.seen]
    assert sorted(asked) == ["/3/movie/1124", "/3/movie/155", "/3/movie/157336", "/3/movie/27205"]
    missing = conn.execute("SELECT count(*) AS n FROM items WHERE tmdb_missing_at IS NOT NULL")
    assert missing.fetchone() == {"n": 3}
    # Another library title lists them too: they are not sent to TMDB again.
    other = in_library(conn, 603, "The Matrix")
    lists = related_lists(
        "movie", INCEPTION, json.loads(fixture_bytes("tmdb/movie_details_append.json"))
    )
    lists_by(conn, other, lists)
    assert queued_calls() == []


def test_a_relation_tmdb_stops_listing_is_dropped(conn: db.Connection, tmdb: TmdbClient) -> None:
    source = in_library(conn, INCEPTION, "Inception")
    enrich_item(source)
    gone, _ = items.ensure_item(conn, 603, "movie", "The Matrix", 1999, [])
    conn.execute(
        "INSERT INTO item_relations (item_id, related_item_id, kind, position) "
        "VALUES (%s, %s, 'similar', 1)",
        (source, gone),
    )
    conn.execute("UPDATE items SET fetched_at = NULL WHERE id = %s", (source,))
    conn.commit()
    enrich_item(source)
    assert relations(conn) == EXPECTED


def test_a_title_removed_while_tmdb_was_asked_writes_nothing(
    conn: db.Connection, tmdb: TmdbClient
) -> None:
    source = in_library(conn, INCEPTION, "Inception")
    state = enrichment.read_state(conn, source, 7, resources.current().embedder.model_name)
    assert state is not None and state.in_library
    conn.execute("DELETE FROM items WHERE id = %s", (source,))
    conn.commit()
    assert enrich(tmdb, state) is False
    # Its related titles (two of them sort before it, one after) were rolled back with it.
    assert table_counts(conn)["items"] == 0 and relations(conn) == []
    assert queued_calls() == []
