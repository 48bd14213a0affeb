"""The per-process caches rank_user reads through: they must notice every committed change."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import psycopg
import pytest

from recommendarr.shared import db
from recommendarr.shared.domain.taste import TitleFacts
from recommendarr.shared.facts_cache import FactsCache
from recommendarr.shared.library_cache import LibraryCache, membership_stamp
from recommendarr.shared.store import items, libraries, title_facts
from recommendarr.shared.store.title_facts import TitleRecord
from recommendarr.shared.vector_cache import VectorCache


def library_with_titles(conn: db.Connection, n: int) -> int:
    server = libraries.upsert_server(conn, "plex", "m1")
    library = libraries.upsert_library(conn, server, "1", "Movies", "movies")
    for i in range(1, n + 1):
        conn.execute(
            "INSERT INTO items (tmdb_id, media_type, title, genres) VALUES (%s, 'movie', %s, %s)",
            (i, f"t{i}", ["Drama"] if i % 2 else ["Horror", "Drama"]),
        )
        libraries.upsert_library_item(conn, library, i, f"rk{i}")
    conn.commit()
    return library


def test_membership_reloads_after_each_committed_change_and_only_then(
    conn: db.Connection,
) -> None:
    library = library_with_titles(conn, 4)
    cache = LibraryCache()
    first = cache.membership(conn)
    assert first.titles.tolist() == [1, 2, 3, 4]
    assert first.offered_genres(np.array([1, 2, 3])) == {"Drama": 3, "Horror": 1}
    assert cache.membership(conn) is first  # nothing changed: the same object

    # Re-sending unchanged titles (a re-sync) changes no row and records no change.
    stamp = membership_stamp(conn)
    libraries.upsert_library_item(conn, library, 1, "rk1")
    conn.commit()
    assert membership_stamp(conn) == stamp
    assert cache.membership(conn) is first

    conn.execute("DELETE FROM library_items WHERE item_id = 4")
    conn.commit()
    assert cache.membership(conn).titles.tolist() == [1, 2, 3]

    conn.execute("UPDATE items SET genres = '{Western}' WHERE id = 1")
    conn.commit()
    assert cache.membership(conn).genres[1] == ("Western",)

    conn.execute("UPDATE libraries SET domain = 'anime' WHERE id = %s", (library,))
    conn.commit()
    reloaded = cache.membership(conn)
    assert reloaded.domain_names == ("anime",)


def test_a_change_committed_after_a_later_one_still_moves_the_stamp(conn: db.Connection) -> None:
    """Ids are handed out at insert, commits land in any order: the count still moves."""
    library_with_titles(conn, 2)
    url = conn.info.dsn
    with psycopg.connect(url) as early, psycopg.connect(url) as late:
        early.execute("DELETE FROM library_items WHERE item_id = 1")  # takes the lower id
        late.execute("DELETE FROM library_items WHERE item_id = 2")
        late.commit()
        stamp = membership_stamp(conn)
        early.commit()
    assert membership_stamp(conn) != stamp


def test_vectors_are_reused_until_the_title_is_embedded_again(conn: db.Connection) -> None:
    library_with_titles(conn, 3)
    for i in (1, 2, 3):
        items.store_embedding(conn, i, "m", "h1", np.full(768, i / 10, dtype=np.float32))
    conn.commit()
    cache = VectorCache(capacity=2)
    first = cache.vectors(conn, [1, 2], "m")
    assert sorted(first) == [1, 2]
    assert cache.vectors(conn, [1], "m")[1] is first[1]  # served from memory
    assert not first[1].flags.writeable  # shared between rankings: nobody may change it

    items.store_embedding(conn, 1, "m", "h2", np.full(768, 0.9, dtype=np.float32))
    conn.commit()
    again = cache.vectors(conn, [1, 3, 99], "m")  # 99 has no vector; 3 evicts the oldest
    assert sorted(again) == [1, 3]
    assert np.allclose(again[1], 0.9)
    assert cache.vectors(conn, [1], "other-model") == {}


def test_facts_are_reused_until_the_title_row_changes(conn: db.Connection) -> None:
    library_with_titles(conn, 3)
    conn.execute("UPDATE items SET vote_average = 7.3, vote_count = 120 WHERE id = 1")
    conn.commit()
    cache = FactsCache(capacity=2)
    first = cache.records(conn, [1, 2, 99])  # 99 is no title
    assert sorted(first) == [1, 2]
    assert (first[1].facts.title, first[1].vote_average, first[1].vote_count) == ("t1", 7.3, 120)
    assert cache.records(conn, [1])[1] is first[1]  # served from memory

    # Enrichment rewrites the row: the next read sees it, in this transaction and after.
    conn.execute("UPDATE items SET title = 'Renamed', directors = '{Agnès Varda}' WHERE id = 1")
    inside = cache.facts(conn, [1])[1]
    assert (inside.title, inside.directors) == ("Renamed", ("Agnès Varda",))
    conn.rollback()
    assert cache.facts(conn, [1])[1].title == "t1"


def test_the_facts_cache_reads_only_what_it_lacks_and_drops_the_least_recently_used(
    conn: db.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    library_with_titles(conn, 3)
    fetched: list[list[int]] = []
    read = title_facts.records_with_versions

    def counting(c: db.Connection, ids: Sequence[int]) -> dict[int, tuple[int, TitleRecord]]:
        fetched.append(sorted(ids))
        return read(c, ids)

    monkeypatch.setattr(title_facts, "records_with_versions", counting)
    cache = FactsCache(capacity=2)
    cache.records(conn, [1, 2])
    cache.records(conn, [1])
    cache.records(conn, [3])  # evicts 2: 1 was used since
    assert cache.facts(conn, [1, 2]) == {
        1: TitleFacts("t1", ("Drama",), tmdb_id=1, media_type="movie"),
        2: TitleFacts("t2", ("Horror", "Drama"), tmdb_id=2, media_type="movie"),
    }
    assert fetched == [[1, 2], [3], [2]]
    assert FactsCache(capacity=0).facts(conn, [1, 2]) == cache.facts(conn, [1, 2])
