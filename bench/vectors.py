"""Per-user filtered vector search at scale: exact-k results and latency percentiles.

    recommendarr bench vectors --items 100000 --queries 300

Builds a fresh embedded PostgreSQL with N titles (768-d unit vectors), an HNSW cosine index,
two libraries (every user sees one of them, a third of the titles) and a user who has watched
1,000 titles, then times `items.nearest_for_user` (the production query: iterative HNSW scan
filtered by the user's libraries and history) and checks every answer has exactly k rows.

The vector indexes are dropped for the load and built afterwards by applying schema.sql again
(the production DDL, built in memory by the same one-title-at-a-time algorithm): minutes
instead of twenty. Random vectors are the worst case for HNSW recall; the timings are
what this measures.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from bench.serving import percentile
from recommendarr.shared import db
from recommendarr.shared.store import items

MODEL = "bench-random-768"
DIM = 768


VECTOR_INDEXES = (
    "SELECT indexrelid::regclass::text AS name, pg_relation_size(indexrelid) AS bytes "
    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
    "WHERE i.indrelid = 'item_embeddings'::regclass AND am.amname = 'hnsw' ORDER BY 1"
)


def drop_vector_indexes(conn: db.Connection) -> None:
    for row in conn.execute(VECTOR_INDEXES).fetchall():
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(row["name"])))
    conn.commit()


def build_vector_indexes(url: str) -> None:
    """Apply schema.sql again: it recreates exactly the indexes production has."""
    with psycopg.connect(url, autocommit=True) as conn:
        # This throwaway database only: room to build the graph in memory, not page by page.
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET maintenance_work_mem = '2GB'").format(
                sql.Identifier(db.EMBEDDED_DATABASE)
            )
        )
    db.apply_schema(url, DIM, force=True)


def populate(conn: db.Connection, n_items: int, rng: np.random.Generator) -> None:
    drop_vector_indexes(conn)
    conn.execute(
        "INSERT INTO servers (kind, machine_id) VALUES ('plex', 'bench') ON CONFLICT DO NOTHING"
    )
    conn.execute(
        "INSERT INTO libraries (server_id, section_key, name) SELECT id, s, 'L' || s "
        "FROM servers, (VALUES ('1'), ('2')) v(s) WHERE machine_id = 'bench' ON CONFLICT DO NOTHING"
    )
    conn.execute(
        "INSERT INTO items (tmdb_id, media_type, title) "
        "SELECT g, 'movie', 'Title ' || g FROM generate_series(1, %s) g",
        (n_items,),
    )
    conn.execute(
        "INSERT INTO library_items (library_id, item_id, rating_key) "
        "SELECT (SELECT id FROM libraries WHERE section_key = CASE WHEN i.id % 3 = 0 THEN '1' "
        "ELSE '2' END), i.id, 'rk' || i.id FROM items i"
    )
    vectors = rng.normal(size=(n_items, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY item_embeddings (item_id, model, content_hash, embedding) FROM STDIN"
        ) as copy,
    ):
        for i, vector in enumerate(vectors, start=1):
            copy.write_row((i, MODEL, "h", "[" + ",".join(f"{x:.6f}" for x in vector) + "]"))
    conn.execute("INSERT INTO users (username, plex_user_id) VALUES ('bench', 'bench')")
    conn.execute(
        "INSERT INTO user_library_access (user_id, library_id) SELECT u.id, l.id FROM users u, "
        "libraries l WHERE u.username = 'bench' AND l.section_key = '1'"
    )
    # 1,000 watched titles inside the user's library: the filter must skip them too.
    conn.execute(
        "INSERT INTO watch_events (event_key, source, user_id, item_id, action, occurred_at) "
        "SELECT 'bench-' || i.id, 'bench', u.id, i.id, 'watched', now() FROM items i, users u "
        "WHERE u.username = 'bench' AND i.id % 3 = 0 ORDER BY i.id LIMIT 1000"
    )
    conn.commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recommendarr bench vectors", description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("-k", type=int, default=20)
    parser.add_argument(
        "--warmup",
        type=int,
        default=300,
        help="queries run (and reported on their own) before the timed ones: the index was just "
        "built, none of it is in shared buffers yet, and a serving database is warm",
    )
    args = parser.parse_args(argv)
    rng = np.random.default_rng(11)
    url = db.start_temporary_postgres("rcm-bench-vec-")
    db.apply_schema(url, DIM)
    started = time.perf_counter()
    with psycopg.connect(url, row_factory=dict_row) as conn:
        populate(conn, args.items, rng)
    build_vector_indexes(url)
    with psycopg.connect(url, row_factory=dict_row, autocommit=True) as conn:
        # A bulk load leaves the planner blind until autovacuum gets to it; a real library grows
        # slowly enough for autovacuum to keep statistics current.
        conn.execute("ANALYZE")
        indexes = conn.execute(VECTOR_INDEXES).fetchall()
        shared_buffers = conn.execute("SHOW shared_buffers").fetchone()
    load_s = time.perf_counter() - started
    with db.open_pool(url, 2) as pool, pool.connection() as conn:
        user = conn.execute("SELECT id FROM users WHERE username = 'bench'").fetchone()
        assert user is not None
        cold, short_cold = timed_queries(conn, int(user["id"]), args.warmup, args.k, rng)
        latencies, short = timed_queries(conn, int(user["id"]), args.queries, args.k, rng)
    print("command:", "recommendarr bench vectors " + shlex.join(argv or sys.argv[1:]))
    print(f"  items: {args.items} (the user sees a third and has watched 1,000 of those)")
    print(f"  load and index: {load_s:.0f} s")
    for index in indexes:
        print(f"  index {index['name']}: {index['bytes'] / 2**20:.0f} MB", end="")
    print(f"  (shared_buffers {shared_buffers['shared_buffers'] if shared_buffers else '?'})")
    if cold:
        print(
            f"  first {args.warmup} queries (cold cache): "
            + "  ".join(f"p{q} {percentile(cold, q):.2f} ms" for q in (50, 95, 99))
        )
    print(f"  queries: {args.queries}  k={args.k}  answers with fewer than k rows: {short}")
    for q in (50, 95, 99):
        print(f"  p{q}: {percentile(latencies, q):.2f} ms")
    return 1 if short or short_cold else 0


def timed_queries(
    conn: db.Connection, user_id: int, n: int, k: int, rng: np.random.Generator
) -> tuple[list[float], int]:
    """Each query's milliseconds, and how many answers had fewer than k rows."""
    latencies: list[float] = []
    short = 0
    for _ in range(n):
        query = rng.normal(size=DIM).astype(np.float32)
        query /= np.linalg.norm(query)
        t0 = time.perf_counter()
        rows = items.nearest_for_user(conn, user_id, MODEL, query, k)
        latencies.append((time.perf_counter() - t0) * 1000)
        short += len(rows) != k
    return latencies, short


if __name__ == "__main__":
    raise SystemExit(main())
