"""The per-process caches rank_user reads through: they must notice every committed change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import psycopg
import pytest

from recommendarr.shared import db
from recommendarr.shared.cached_titles import CachedTitles
from recommendarr.shared.domain.taste import TitleFacts
from recommendarr.shared.facts_cache import FactsCache
from recommendarr.shared.library_cache import LibraryCache, membership_stamp
from recommendarr.shared.relation_cache import RelationCache
from recommendarr.shared.store import (
    change_logs,
    enrichment,
    items,
    libraries,
    title_facts,
    vectors,
)
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


def test_relations_are_reused_until_the_titles_lists_change(conn: db.Connection) -> None:
    """Enrichment inserts, repositions and drops relations: each is seen by the next read."""
    library_with_titles(conn, 5)
    enrichment.record_relations(conn, 1, "recommended", [(2, 0), (3, 1)])
    enrichment.record_relations(conn, 1, "similar", [(3, 0), (4, 1)])
    conn.commit()
    cache = RelationCache(capacity=2)
    first = cache.relations(conn, [1, 2])
    assert len(first[2].related) == 0  # 2 has no relations
    # Title 3 is in both lists: its stronger relation (recommended, if second) is the one kept.
    listed = first[1]
    assert (listed.related.tolist(), listed.similar.tolist(), listed.positions.tolist()) == (
        [2, 3, 4],
        [False, False, True],
        [0, 1, 1],
    )
    assert not listed.related.flags.writeable  # shared between rankings
    assert cache.relations(conn, [1])[1] is listed  # served from memory

    changes = [
        [(2, 5), (3, 1)],  # a new place
        [(2, 5), (3, 1), (5, 2)],  # a new title
        [(3, 1), (5, 2)],  # one dropped
        [(2, 1), (5, 2)],  # one dropped, another added in the same transaction
    ]
    for related in changes:
        enrichment.record_relations(conn, 1, "recommended", related)
        conn.commit()
        again = cache.relations(conn, [1])[1]
        recommended = {
            r: p
            for r, s, p in zip(again.related, again.similar, again.positions, strict=True)
            if not s
        }
        assert recommended == dict(related), related
    enrichment.record_relations(conn, 1, "recommended", [])
    enrichment.record_relations(conn, 1, "similar", [])
    conn.commit()
    assert len(cache.relations(conn, [1])[1].related) == 0


def title_stamp(conn: db.Connection) -> change_logs.Stamp:
    return change_logs.stamp(conn, "title_changes")


def test_every_committed_change_to_a_title_or_its_vector_moves_the_title_stamp(
    conn: db.Connection,
) -> None:
    library_with_titles(conn, 2)
    vector = np.full(768, 0.1, dtype=np.float32)
    changes = [
        "UPDATE items SET title = 'Renamed' WHERE id = 1",
        "INSERT INTO items (tmdb_id, media_type, title) VALUES (50, 'movie', 'New')",
        "DELETE FROM items WHERE tmdb_id = 50",
        "INSERT INTO item_embeddings (item_id, model, content_hash, embedding) "
        "VALUES (1, 'm', 'h1', %(v)s)",
        "UPDATE item_embeddings SET content_hash = 'h2' WHERE item_id = 1",
        "DELETE FROM item_embeddings WHERE item_id = 1",
        "TRUNCATE item_embeddings",
        "INSERT INTO item_relations (item_id, related_item_id, kind, position) "
        "VALUES (1, 2, 'similar', 0)",
        "UPDATE item_relations SET position = 3",
        "DELETE FROM item_relations",
        "TRUNCATE item_relations CASCADE",
    ]
    for change in changes:
        before = title_stamp(conn)
        conn.execute(change, {"v": vector})
        conn.commit()
        assert title_stamp(conn) != before, change

    # Statements that change no row note nothing.
    before = title_stamp(conn)
    conn.execute("UPDATE items SET title = 'x' WHERE id = 99")
    conn.execute("DELETE FROM item_embeddings WHERE item_id = 99")
    assert items.store_embedding(conn, 2, "m", "h", vector)
    conn.commit()
    unchanged = title_stamp(conn)
    assert unchanged != before  # the first vector of title 2 was a change
    assert not items.store_embedding(conn, 2, "m", "h", vector)  # the same vector again
    conn.commit()
    assert title_stamp(conn) == unchanged


def test_while_no_title_changes_the_caches_read_no_versions_not_even_of_absent_titles(
    conn: db.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    library_with_titles(conn, 3)
    for i in (1, 2):
        items.store_embedding(conn, i, "m", "h1", np.full(768, i / 10, dtype=np.float32))
    enrichment.record_relations(conn, 1, "recommended", [(3, 0)])
    conn.commit()
    reads: list[str] = []
    # The relation cache checks its entries by the titles' row versions too (title_facts).
    for module in (title_facts, vectors):
        monkeypatch.setattr(module, "versions", counted(module.versions, module.__name__, reads))
    facts_cache, vector_cache, relation_cache = FactsCache(), VectorCache(), RelationCache()
    first = CachedTitles.begin(conn, vector_cache, facts_cache, relation_cache, "m")
    assert sorted(first.vectors(conn, [1, 2, 3])) == [1, 2]  # 3 has no vector yet
    assert sorted(first.facts(conn, [1, 2, 3, 99])) == [1, 2, 3]  # 99 is no title
    assert len(first.relations(conn, [1, 2, 99])[2].related) == 0  # 2 has none; 99 is no title
    assert len(reads) == 3

    again = CachedTitles.begin(conn, vector_cache, facts_cache, relation_cache, "m")
    assert sorted(again.vectors(conn, [1, 2, 3])) == [1, 2]
    assert sorted(again.facts(conn, [1, 2, 3, 99])) == [1, 2, 3]
    assert sorted(again.relations(conn, [1, 2, 99])) == [1, 2]
    assert len(reads) == 3  # served from memory, absent titles included

    # Embedding title 3 moves the stamp: the next ranking checks versions and finds it.
    items.store_embedding(conn, 3, "m", "h1", np.full(768, 0.3, dtype=np.float32))
    conn.commit()
    after = CachedTitles.begin(conn, vector_cache, facts_cache, relation_cache, "m")
    assert np.allclose(after.vectors(conn, [1, 2, 3])[3], 0.3)
    assert after.facts(conn, [1])[1].title == "t1"
    assert len(reads) == 5


def test_a_stamp_read_before_a_change_is_checked_again_by_the_next_reader(
    conn: db.Connection,
) -> None:
    """A ranking that began before a commit may serve what it saw then; the next one does not."""
    library_with_titles(conn, 1)
    cache = FactsCache()
    early = CachedTitles.begin(conn, VectorCache(), cache, RelationCache(), "m")
    conn.execute("UPDATE items SET title = 'Renamed' WHERE id = 1")
    conn.commit()
    assert early.facts(conn, [1])[1].title == "Renamed"  # not cached yet: read now
    conn.execute("UPDATE items SET title = 'Again' WHERE id = 1")
    conn.commit()
    assert early.facts(conn, [1])[1].title == "Renamed"  # still the early ranking's view
    assert cache.facts(conn, [1])[1].title == "Again"


def test_folding_a_change_log_leaves_one_row_and_a_stamp_unlike_any_before(
    conn: db.Connection,
) -> None:
    library_with_titles(conn, 2)  # one title change and one membership change per statement
    url = conn.info.dsn
    for log in ("library_changes", "title_changes"):
        with psycopg.connect(url) as late:
            # A change still open while the log is folded: committed later, it is counted then.
            late.execute("UPDATE items SET title = 'Late' WHERE id = 1")
            late.execute("UPDATE items SET genres = '{Western}' WHERE id = 1")
            before = change_logs.stamp(conn, log)
            assert change_logs.fold(conn, log)
            conn.commit()
            folded = change_logs.stamp(conn, log)
            assert folded.rows == 1 and (folded.last or 0) > (before.last or 0)
            late.commit()
        assert change_logs.stamp(conn, log) not in (before, folded)
        assert change_logs.fold(conn, log)
        conn.commit()
        once = change_logs.stamp(conn, log)
        assert not change_logs.fold(conn, log)  # a single row stays as it is
        conn.commit()
        assert change_logs.stamp(conn, log) == once


def counted(read: Callable[..., Any], name: str, reads: list[str]) -> Callable[..., Any]:
    def counting(*args: Any) -> Any:
        reads.append(name)
        return read(*args)

    return counting
