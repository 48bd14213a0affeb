"""enrich_item: TMDB details into the items row, then embed_item; re-runs change nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from recommendarr.functions.enrich_item import enrich_item
from recommendarr.shared import db, resources
from recommendarr.shared.clients.tmdb import TmdbClient
from recommendarr.shared.errors import Permanent, Transient
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import items
from tests.conftest import queued, run_queued, table_counts
from tests.fake_tmdb import FakeTmdb, serve_fake_tmdb, tmdb_client

ITEM_COLUMNS = (
    'title, year, genres, keywords, directors, "cast", language, runtime, overview, poster_path, '
    "vote_average, vote_count, imdb_id, tvdb_id, collection_id, popularity, fetched_at"
)


@pytest.fixture
def tmdb(res: Resources) -> Iterator[TmdbClient]:
    """The resources' integrations with a TMDB client on the loopback fake, for this test."""
    with res.pool.connection() as conn:
        conn.execute("TRUNCATE tmdb_cache")
    with serve_fake_tmdb() as url:
        client = tmdb_client(url, res.pool)
        integrations = dataclasses.replace(res.integrations, tmdb=client)
        resources.install(dataclasses.replace(res, integrations=integrations))
        try:
            yield client
        finally:
            resources.install(res)
            client.http.close()


def new_item(conn: db.Connection, tmdb_id: int, media_type: str, title: str) -> int:
    """An item as a webhook first records it: a title, maybe a year and genres, no TMDB facts."""
    item_id, created = items.ensure_item(conn, tmdb_id, media_type, title, None, ["Drama"])
    conn.commit()
    assert created
    return item_id


def item_row(conn: db.Connection, item_id: int) -> dict[str, Any]:
    row = conn.execute(
        f"SELECT {ITEM_COLUMNS} FROM items WHERE id = %s",
        (item_id,),
    ).fetchone()
    assert row is not None
    return row


def snapshot(conn: db.Connection, item_id: int) -> dict[str, Any]:
    cache = conn.execute("SELECT cache_key, fetched_at FROM tmdb_cache ORDER BY 1").fetchall()
    embeddings = conn.execute(
        "SELECT item_id, model, content_hash, embedded_at FROM item_embeddings ORDER BY 1, 2"
    ).fetchall()
    return {
        "counts": table_counts(conn),
        "item": item_row(conn, item_id),
        "cache": cache,
        "embeddings": embeddings,
        "queued": queued(),
        "requests": len(FakeTmdb.seen),
    }


def test_enriches_the_movie_then_sends_embed_item(
    conn: db.Connection, res: Resources, tmdb: TmdbClient
) -> None:
    item_id = new_item(conn, 27205, "movie", "Inception")
    enrich_item(item_id)
    row = item_row(conn, item_id)
    assert (row["title"], row["year"], row["runtime"], row["language"]) == (
        "Inception",
        2010,
        148,
        "en",
    )
    assert row["genres"] == ["Action", "Science Fiction", "Adventure"]
    assert row["keywords"] == ["loss of loved one", "dream", "heist"]
    assert row["directors"] == ["Christopher Nolan"]
    assert row["cast"] == ["Leonardo DiCaprio", "Joseph Gordon-Levitt"]
    assert row["imdb_id"] == "tt1375666" and row["vote_count"] == 37112
    assert row["poster_path"] == "/oYuLEt3zVCKq57qu2F8dT7NIa6f.jpg"
    assert row["fetched_at"] is not None
    assert [s.path for s in FakeTmdb.seen] == ["/3/movie/27205"]
    assert queued()["embeddings"] == 1
    run_queued()
    assert items.embedding_hash(conn, item_id, res.embedder.model_name) is not None


def test_enriches_a_show_with_its_tvdb_id(conn: db.Connection, tmdb: TmdbClient) -> None:
    item_id = new_item(conn, 1396, "tv", "Breaking Bad")
    enrich_item(item_id)
    row = item_row(conn, item_id)
    assert row["directors"] == ["Vince Gilligan"] and row["keywords"][0] == "drug dealer"
    assert row["tvdb_id"] == 81189 and row["imdb_id"] == "tt0903747" and row["runtime"] == 45
    assert [s.path for s in FakeTmdb.seen] == ["/3/tv/1396"]


def test_second_call_changes_nothing(conn: db.Connection, tmdb: TmdbClient) -> None:
    item_id = new_item(conn, 27205, "movie", "Inception")
    enrich_item(item_id)
    run_queued()
    before = snapshot(conn, item_id)
    assert before["counts"]["item_embeddings"] == 1 and len(before["cache"]) == 1
    enrich_item(item_id)
    assert snapshot(conn, item_id) == before
    assert sum(queued().values()) == 0


def test_fresh_facts_without_an_embedding_are_only_embedded(
    conn: db.Connection, tmdb: TmdbClient
) -> None:
    item_id = new_item(conn, 27205, "movie", "Inception")
    enrich_item(item_id)
    first = item_row(conn, item_id)
    # The first run's embed_item message was lost (say the worker died before sending it).
    run_queued()
    conn.execute("DELETE FROM item_embeddings")
    conn.commit()
    enrich_item(item_id)
    assert item_row(conn, item_id) == first and len(FakeTmdb.seen) == 1
    assert queued()["embeddings"] == 1


def test_stale_facts_are_fetched_again(conn: db.Connection, tmdb: TmdbClient) -> None:
    item_id = new_item(conn, 27205, "movie", "Inception")
    enrich_item(item_id)
    run_queued()
    conn.execute("UPDATE items SET fetched_at = now() - interval '8 days', keywords = '{}'")
    conn.execute("UPDATE tmdb_cache SET expires_at = now() - interval '1 day'")
    conn.commit()
    enrich_item(item_id)
    assert len(FakeTmdb.seen) == 2
    assert item_row(conn, item_id)["keywords"] == ["loss of loved one", "dream", "heist"]
    assert queued()["embeddings"] == 1


def test_a_title_tmdb_does_not_know_is_embedded_as_it_is(
    conn: db.Connection, tmdb: TmdbClient
) -> None:
    item_id = new_item(conn, 999999, "movie", "Home Movies")
    before = item_row(conn, item_id)
    enrich_item(item_id)
    assert item_row(conn, item_id) == before and before["fetched_at"] is None
    assert queued()["embeddings"] == 1


def test_a_rejected_key_fails_the_job_but_still_embeds(
    conn: db.Connection, res: Resources, tmdb: TmdbClient
) -> None:
    broken = tmdb_client(tmdb.base_url, res.pool, api_key="not-the-key")
    integrations = dataclasses.replace(res.integrations, tmdb=broken)
    resources.install(dataclasses.replace(res, integrations=integrations))
    item_id = new_item(conn, 27205, "movie", "Inception")
    try:
        with pytest.raises(Permanent, match="401"):
            enrich_item(item_id)
    finally:
        broken.http.close()
    assert item_row(conn, item_id)["fetched_at"] is None
    assert queued()["embeddings"] == 1


def test_a_transient_failure_raises_for_a_retry(conn: db.Connection, tmdb: TmdbClient) -> None:
    FakeTmdb.mode = "error"
    item_id = new_item(conn, 27205, "movie", "Inception")
    with pytest.raises(Transient):
        enrich_item(item_id)
    assert item_row(conn, item_id)["fetched_at"] is None
    assert queued()["embeddings"] == 0


def test_without_tmdb_it_only_sends_embed_item(conn: db.Connection, res: Resources) -> None:
    assert res.integrations.tmdb is None
    item_id = new_item(conn, 27205, "movie", "Inception")
    before = item_row(conn, item_id)
    enrich_item(item_id)
    assert item_row(conn, item_id) == before
    assert queued()["embeddings"] == 1
    run_queued()
    assert table_counts(conn)["item_embeddings"] == 1


def test_a_missing_item_is_a_no_op(conn: db.Connection, tmdb: TmdbClient) -> None:
    before = table_counts(conn)
    enrich_item(424242)
    assert table_counts(conn) == before
    assert FakeTmdb.seen == [] and sum(queued().values()) == 0
