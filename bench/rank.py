"""rank_user on a big library: a user with many watches over a large catalog.

    recommendarr bench rank --items 20000 --watches 1000 --runs 30

Builds a fresh embedded PostgreSQL with N titles (built-in 768-d vectors from synthetic facts),
one library, and a user who finished W of them, builds the profile once, then times the
production ranking (`recommendarr.functions.rank_user.rank`: candidates, scoring,
explanations, writing the list) with its input-hash short cut disabled for each run. The
server-wide taste model is fitted once first (the fit_taste_model actor's code), as a worker
would have it cached, and the change logs are folded as the periodic reconcile does after an
import; one untimed ranking first loads the model and fills the worker's caches (its time is
printed apart), then each of the N runs is timed.

Grab mode gets what enrich_item and scout_trending give a real server: every library title has
TMDB's first page of recommendations and of similar titles recorded (`--related`, 20 + 20), a
share of them (`--outside-share`) titles known to TMDB but on no library (`--outside` of them,
with facts, vectors and votes), and a trending run of 40 titles. A user who liked hundreds of
titles thus has thousands of grab candidates, of which rank_user refines the GRAB_POOL strongest.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
from psycopg.rows import dict_row

from bench.serving import percentile
from recommendarr.functions.fit_taste_model import fit, read_inputs
from recommendarr.functions.rank_user import rank
from recommendarr.functions.refresh_profile import rebuild
from recommendarr.runtime import freeze_boot_objects, limit_numeric_threads
from recommendarr.shared import db
from recommendarr.shared.domain.hashed_features import hashed_vector
from recommendarr.shared.domain.item_text import ItemFacts
from recommendarr.shared.domain.taste_model import dump_model
from recommendarr.shared.facts_cache import FactsCache
from recommendarr.shared.library_cache import LibraryCache
from recommendarr.shared.relation_cache import RelationCache
from recommendarr.shared.store import change_logs, taste_models
from recommendarr.shared.taste_model_cache import TasteModelCache
from recommendarr.shared.vector_cache import VectorCache

GENRES = [
    "Drama",
    "Comedy",
    "Thriller",
    "Horror",
    "Science Fiction",
    "Animation",
    "Crime",
    "Romance",
    "Documentary",
    "Family",
    "Fantasy",
    "War",
    "Western",
    "Mystery",
]
MODEL = "builtin-hash-v1:768"


def synthetic_facts(n: int, rng: random.Random) -> ItemFacts:
    return ItemFacts(
        tmdb_id=n,
        media_type="movie",
        title=f"Title {n}",
        year=rng.randint(1950, 2024),
        genres=tuple(rng.sample(GENRES, 2)),
        keywords=tuple(f"kw{rng.randint(1, 3000)}" for _ in range(6)),
        directors=(f"Director {rng.randint(1, 2500)}",),
        cast=tuple(f"Actor {rng.randint(1, 12000)}" for _ in range(4)),
        language=rng.choice(["en", "en", "en", "fr", "ja", "ko"]),
    )


def populate(
    conn: db.Connection,
    n_items: int,
    n_watches: int,
    n_outside: int = 0,
    related: int = 0,
    outside_share: float = 0.5,
) -> int:
    """The catalog's first n_items titles are in the library, the n_outside after them are not."""
    rng = random.Random(5)
    facts = [synthetic_facts(n, rng) for n in range(1, n_items + n_outside + 1)]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO items (tmdb_id, media_type, title, year, genres, keywords, directors, "
            '"cast", language) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)',
            [
                (
                    f.tmdb_id,
                    f.media_type,
                    f.title,
                    f.year,
                    list(f.genres),
                    list(f.keywords),
                    list(f.directors),
                    list(f.cast),
                    f.language,
                )
                for f in facts
            ],
        )
        with cur.copy(
            "COPY item_embeddings (item_id, model, content_hash, embedding) FROM STDIN"
        ) as copy:
            for item_id, f in enumerate(facts, start=1):
                vector = hashed_vector(f, 768)
                copy.write_row(
                    (item_id, MODEL, "h", "[" + ",".join(f"{x:.6f}" for x in vector) + "]")
                )
    conn.execute("INSERT INTO servers (kind, machine_id) VALUES ('plex', 'bench')")
    conn.execute(
        "INSERT INTO libraries (server_id, section_key, name) SELECT id, '1', 'Movies' FROM servers"
    )
    conn.execute(
        "INSERT INTO library_items (library_id, item_id, rating_key) "
        "SELECT l.id, i.id, i.id::text FROM items i, libraries l WHERE i.id <= %s",
        (n_items,),
    )
    record_relations(conn, n_items, n_outside, related, outside_share, rng)
    user = conn.execute(
        "INSERT INTO users (username, plex_user_id) VALUES ('b', 'b') RETURNING id"
    ).fetchone()
    assert user is not None
    conn.execute(
        "INSERT INTO user_library_access (user_id, library_id) SELECT %s, id FROM libraries",
        (user["id"],),
    )
    watched = np.random.default_rng(3).choice(n_items, size=n_watches, replace=False) + 1
    now = datetime.now(UTC)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO watch_events (event_key, source, user_id, item_id, library_id, action, "
            "progress, occurred_at) "
            "VALUES (%s, 'bench', %s, %s, (SELECT id FROM libraries), %s, %s, %s)",
            [
                (
                    f"b{i}",
                    user["id"],
                    int(item),
                    "watched" if i % 10 else "stop",
                    1.0 if i % 10 else 0.1,
                    now - timedelta(days=i % 365),
                )
                for i, item in enumerate(watched)
            ],
        )
    conn.commit()
    # The import wrote a change-log row per statement; reconcile_derived folds them within
    # minutes, and the steady state measured here comes after that.
    for log in ("library_changes", "title_changes"):
        change_logs.fold(conn, log)
    conn.commit()
    # Autovacuum would otherwise vacuum the hundreds of megabytes just inserted (relations,
    # vectors) during the timed rankings, on one of the machine's two cores: the steady state
    # of a server comes after it has.
    conn.autocommit = True
    conn.execute("VACUUM ANALYZE")
    conn.autocommit = False
    return int(user["id"])


def record_relations(
    conn: db.Connection,
    n_items: int,
    n_outside: int,
    related: int,
    outside_share: float,
    rng: random.Random,
) -> None:
    """TMDB's recommended and similar titles for every library title, and one trending run."""
    if related <= 0:
        return

    def some_title(item_id: int) -> int:
        while True:
            if n_outside and rng.random() < outside_share:
                other = n_items + rng.randint(1, n_outside)
            else:
                other = rng.randint(1, n_items)
            if other != item_id:
                return other

    with conn.cursor() as cur:
        with cur.copy(
            "COPY item_relations (item_id, related_item_id, kind, position) FROM STDIN"
        ) as copy:
            for item_id in range(1, n_items + 1):
                for kind, count in (
                    ("recommended", related - related // 2),
                    ("similar", related // 2),
                ):
                    chosen: set[int] = set()
                    while len(chosen) < count:
                        chosen.add(some_title(item_id))
                    for position, other in enumerate(sorted(chosen, key=lambda _: rng.random())):
                        copy.write_row((item_id, other, kind, position))
        trending = sorted({some_title(0) for _ in range(40)})
        cur.executemany(
            "INSERT INTO trending_items (period_key, item_id, time_window, position) "
            "VALUES ('bench', %s, 'week', %s)",
            [(item_id, position) for position, item_id in enumerate(trending)],
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recommendarr bench rank", description=__doc__)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--watches", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--outside", type=int, default=10_000, help="titles known to TMDB but on no library"
    )
    parser.add_argument(
        "--related", type=int, default=40, help="recommended + similar titles per library title"
    )
    parser.add_argument(
        "--outside-share", type=float, default=0.5, help="share of related titles not on the server"
    )
    parser.add_argument("--profile", action="store_true", help="print where one run spends time")
    args = parser.parse_args(argv)
    limit_numeric_threads(1)  # as a worker process does at boot (RECOMMENDARR_NUMERIC_THREADS)
    freeze_boot_objects()  # and as it does once its actors are imported
    url = db.start_temporary_postgres("rcm-bench-rank-")
    db.apply_schema(url, 768)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        user_id = populate(
            conn, args.items, args.watches, args.outside, args.related, args.outside_share
        )
    timings: list[float] = []
    with db.open_pool(url, 2) as pool, pool.connection() as conn:
        started = time.perf_counter()
        with conn.transaction():
            rebuild(conn, user_id, MODEL)
        profile_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        model, n_interactions = fit(*read_inputs(conn))
        with conn.transaction():
            taste_models.save(
                conn, "bench", model.n_users, len(model.item_ids), n_interactions, dump_model(model)
            )
        fit_ms = (time.perf_counter() - started) * 1000
        cache = TasteModelCache()
        libraries = LibraryCache()
        vectors = VectorCache()
        facts = FactsCache()
        relations = RelationCache()
        # The first ranking after a worker boots also loads the fitted model and fills the
        # worker's caches; it is reported on its own, not mixed into the steady state.
        first_ms = 0.0
        backend = backend_cpu_reader(conn)
        python_cpu: list[float] = []
        database_cpu: list[float] = []
        speed_before = reference_loop_seconds()
        for run in range(args.runs + 1):
            with conn.transaction():
                conn.execute("DELETE FROM recommendation_runs WHERE user_id = %s", (user_id,))
            started = time.perf_counter()
            thread_started, backend_started = time.thread_time(), backend()
            with conn.transaction():
                rank(
                    conn,
                    user_id,
                    MODEL,
                    768,
                    cache.latest(conn),
                    libraries.membership(conn),
                    vectors,
                    facts,
                    relations,
                )
            elapsed = (time.perf_counter() - started) * 1000
            if run == 0:
                first_ms = elapsed
            else:
                timings.append(elapsed)
                python_cpu.append((time.thread_time() - thread_started) * 1000)
                database_cpu.append((backend() - backend_started) * 1000)
        speed_after = reference_loop_seconds()
        if args.profile:
            import cProfile
            import pstats

            with conn.transaction():
                conn.execute("DELETE FROM recommendation_runs WHERE user_id = %s", (user_id,))
            profiler = cProfile.Profile()
            with profiler, conn.transaction():
                rank(
                    conn,
                    user_id,
                    MODEL,
                    768,
                    cache.latest(conn),
                    libraries.membership(conn),
                    vectors,
                    facts,
                    relations,
                )
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        picks = conn.execute(
            "SELECT count(*) AS n FROM recommendations WHERE user_id = %s", (user_id,)
        ).fetchone()
        per_mode = conn.execute(
            "SELECT mode, count(*) AS n FROM recommendations WHERE user_id = %s "
            "GROUP BY mode ORDER BY mode",
            (user_id,),
        ).fetchall()
        lists = ", ".join(f"{r['mode']} {r['n']}" for r in per_mode)
    print("command:", "recommendarr bench rank " + shlex.join(argv or sys.argv[1:]))
    written = picks["n"] if picks else 0
    print(
        f"  catalog {args.items} titles in the library and {args.outside} outside it, "
        f"{args.watches} watches; picks written: {written} ({lists})"
    )
    print(f"  profile build: {profile_ms:.0f} ms; server-wide model fit: {fit_ms:.0f} ms")
    print(f"  first ranking after start-up (loads the model, fills caches): {first_ms:.0f} ms")
    for q in (50, 95, 99):
        print(f"  rank p{q}: {percentile(timings, q):.1f} ms")
    # Wall time on a shared machine moves with its neighbours; the work itself is the CPU.
    # Means: the backend's CPU is counted in clock ticks (10 ms), too coarse for a percentile.
    print(
        f"  CPU per ranking, mean: Python {sum(python_cpu) / len(python_cpu):.1f} ms, "
        f"PostgreSQL backend {sum(database_cpu) / len(database_cpu):.1f} ms"
    )
    print(
        f"  machine speed: a {REFERENCE_LOOP:,}-step Python loop took "
        f"{speed_before:.2f} s before the runs and {speed_after:.2f} s after"
    )
    return 0


REFERENCE_LOOP = 10_000_000


def reference_loop_seconds() -> float:
    """A fixed amount of pure Python work, timed: how fast the machine is right now."""
    started = time.perf_counter()
    for _ in range(REFERENCE_LOOP):
        pass
    return time.perf_counter() - started


def backend_cpu_reader(conn: db.Connection) -> Callable[[], float]:
    """Seconds of CPU the connection's PostgreSQL backend has used so far (Linux /proc; 0.0
    elsewhere)."""
    row = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()
    stat = Path(f"/proc/{row['pid'] if row else 0}/stat")
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def read() -> float:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return read


if __name__ == "__main__":
    raise SystemExit(main())
