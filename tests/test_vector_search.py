"""Per-user filtered vector search must return exactly k rows (HNSW alone can return fewer)."""

from __future__ import annotations

import numpy as np
import pytest
from psycopg import sql

from recommendarr.shared import db
from recommendarr.shared.store import items, libraries, users


def seed(conn: db.Connection) -> tuple[int, np.ndarray]:
    """3,000 titles; the user's only library holds one in fifty."""
    rng = np.random.default_rng(7)
    server = libraries.upsert_server(conn, "plex", "m1")
    big = libraries.upsert_library(conn, server, "1", "Everything", "movies")
    small = libraries.upsert_library(conn, server, "2", "Kids", "movies")
    user_id = users.upsert_tautulli_user(conn, "42", "kid", "Kid")
    users.grant_library(conn, user_id, small, "test")
    vectors = rng.normal(size=(3000, 768)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO items (tmdb_id, media_type, title) VALUES (%s, 'movie', %s)",
            [(i + 1, f"t{i}") for i in range(3000)],
        )
    for i in range(3000):
        # One title in fifty is in the user's only library: the filter is selective.
        libraries.upsert_library_item(conn, small if i % 50 == 0 else big, i + 1, f"rk{i}")
        items.store_embedding(conn, i + 1, "m", "h", vectors[i])
    conn.commit()
    return user_id, vectors


def test_filtered_search_returns_exactly_k(conn: db.Connection) -> None:
    user_id, vectors = seed(conn)
    query = vectors[1]  # a title the user cannot access: its neighbours are mostly elsewhere
    for k in (1, 10, 40):
        rows = items.nearest_for_user(conn, user_id, "m", query, k)
        assert len(rows) == k
        allowed = {r["item_id"] for r in rows}
        assert all((item_id - 1) % 50 == 0 for item_id in allowed)
    everything_allowed = items.nearest_for_user(conn, user_id, "m", query, 100)
    assert len(everything_allowed) == 60  # all 60 accessible titles, no more


def test_search_uses_the_halfvec_index_and_reports_exact_similarity(
    conn: db.Connection,
) -> None:
    """The ORDER BY must repeat the index expression exactly, or the search silently sorts
    every visible vector instead of walking the index: right answers, no index."""
    user_id, vectors = seed(conn)
    # With one title in fifty visible the planner rightly sorts the 60 instead; a penalty on
    # sorting shows whether the index can serve the ORDER BY at all.
    conn.execute("SET LOCAL enable_sort = off")
    plan = conn.execute(
        sql.SQL("EXPLAIN ") + items.nearest_statement(768),
        {"query": vectors[1], "model": "m", "user": user_id, "k": 10},
        binary=True,
    ).fetchall()
    conn.rollback()
    text = "\n".join(str(row["QUERY PLAN"]) for row in plan)
    assert "Index Scan using item_embeddings_hnsw " in text, text
    # The order comes from halfvecs; the similarity reported is the full-precision one.
    [row] = items.nearest_for_user(conn, user_id, "m", vectors[50], 1)
    assert row["item_id"] == 51  # the title itself: accessible, unwatched
    assert row["similarity"] == pytest.approx(1.0, abs=1e-6)
