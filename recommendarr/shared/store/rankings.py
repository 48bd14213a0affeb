"""What rank_user reads and writes: a user's candidates and their ranked, explained lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
from psycopg.rows import tuple_row

from recommendarr.shared.cached_titles import CachedTitles
from recommendarr.shared.db import Connection, as_array, number_array
from recommendarr.shared.domain.explain import Influence
from recommendarr.shared.domain.picks import CandidatePool
from recommendarr.shared.domain.ranking import Candidate, Pick
from recommendarr.shared.library_cache import LibraryMembership
from recommendarr.shared.store.profiles import title_facts


def tonight_candidates(conn: Connection, user_id: int, model: str) -> dict[str, list[Candidate]]:
    """In the user's libraries, never played by them, with a vector; grouped by library domain."""
    rows = conn.execute(
        'SELECT DISTINCT ON (i.id) i.id, i.title, i.genres, i.directors, i."cast", l.domain, '
        "e.embedding FROM items i "
        "JOIN library_items li ON li.item_id = i.id "
        "JOIN libraries l ON l.id = li.library_id "
        "JOIN user_visible_libraries a ON a.library_id = l.id AND a.user_id = %s "
        "JOIN item_embeddings e ON e.item_id = i.id AND e.model = %s "
        "WHERE NOT EXISTS (SELECT 1 FROM watch_events w WHERE w.user_id = %s AND w.item_id = i.id) "
        "AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.user_id = %s AND f.item_id = i.id "
        "  AND f.kind IN ('dismiss', 'hide', 'down') AND (f.until IS NULL OR f.until > now())) "
        "ORDER BY i.id, l.domain",
        (user_id, model, user_id, user_id),
        binary=True,  # vectors load ten times faster in binary than parsed from text
    ).fetchall()
    grouped: dict[str, list[Candidate]] = {}
    for r in rows:
        candidate = Candidate(
            item_id=int(r["id"]),
            facts=title_facts(r),
            vector=as_array(r["embedding"]),
        )
        grouped.setdefault(str(r["domain"]), []).append(candidate)
    return grouped


def influence_json(influence: Influence) -> dict[str, Any]:
    return {
        "tmdb_id": influence.tmdb_id,
        "media_type": influence.media_type,
        "title": influence.title,
        "similarity": round(influence.similarity, 4),
        "finished": influence.finished,
    }


def stored_input_hash(conn: Connection, user_id: int, mode: str) -> str | None:
    row = conn.execute(
        "SELECT input_hash FROM recommendation_runs WHERE user_id = %s AND mode = %s",
        (user_id, mode),
    ).fetchone()
    return None if row is None else str(row["input_hash"])


# A list is deleted and copied in whole. The table has no unique key: under one, every copied
# row's key check walked past each earlier ranking's dead row with that key until autovacuum
# came round, so a user re-ranked at every watch of a backfill wrote slower each time (11 ms
# growing past 30 ms within 30 rankings). rank_user holds the user's lock while it writes, and
# the check below keeps a title to one rank.
def replace(
    conn: Connection,
    user_id: int,
    lists: Mapping[str, tuple[Sequence[Pick], int]],
    input_hash: str,
) -> None:
    """Replace the user's list of each mode given, as (picks, how many candidates were
    considered): one delete, one copy and one run record for all of them."""
    for mode, (picks, _) in lists.items():
        if len({p.item_id for p in picks}) != len(picks):
            raise ValueError(f"a {mode} list names a title twice")
    modes = list(lists)
    conn.execute(
        "DELETE FROM recommendations WHERE user_id = %s AND mode = ANY(%s::text[])",
        (user_id, modes),
    )
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY recommendations (user_id, mode, rank, item_id, score, confidence, signals, "
            "influenced_by, explanation) FROM STDIN"
        ) as copy,
    ):
        for mode, (picks, _) in lists.items():
            for rank, p in enumerate(picks, start=1):
                copy.write_row(
                    (
                        user_id,
                        mode,
                        rank,
                        p.item_id,
                        p.score,
                        p.confidence,
                        orjson.dumps(p.signals).decode(),
                        orjson.dumps([influence_json(i) for i in p.influenced_by]).decode(),
                        p.explanation,
                    )
                )
    conn.execute(
        "INSERT INTO recommendation_runs (user_id, mode, input_hash, total_candidates, "
        "profile_built_at) "
        "SELECT %(user)s, m.mode, %(hash)s, m.total, "
        "(SELECT max(built_at) FROM taste_profiles WHERE user_id = %(user)s) "
        "FROM unnest(%(modes)s::text[], %(totals)s::integer[]) AS m(mode, total) "
        "ON CONFLICT (user_id, mode) DO UPDATE SET input_hash = EXCLUDED.input_hash, "
        "total_candidates = EXCLUDED.total_candidates, "
        "profile_built_at = EXCLUDED.profile_built_at, generated_at = now()",
        {
            "user": user_id,
            "hash": input_hash,
            "modes": modes,
            "totals": number_array(total for _, total in lists.values()),
        },
    )


# How candidate_happiness packs a pool (schema.sql): its item ids, then the happiness of each.
PACKED_IDS = np.dtype("<i8")
PACKED_HAPPINESS = np.dtype("<f4")


def replace_candidate_happiness(
    conn: Connection, user_id: int, item_ids: np.ndarray, happiness: np.ndarray
) -> None:
    """The user's happiness for every title of their pool (item ids ascending), packed as
    schema.sql describes: one row, whatever the size of the library."""
    conn.execute(
        "INSERT INTO candidate_happiness (user_id, item_ids, happiness) VALUES (%s, %s, %s) "
        "ON CONFLICT (user_id) DO UPDATE SET item_ids = EXCLUDED.item_ids, "
        "happiness = EXCLUDED.happiness, generated_at = now()",
        (
            user_id,
            np.asarray(item_ids, dtype=PACKED_IDS).tobytes(),
            np.asarray(happiness, dtype=PACKED_HAPPINESS).tobytes(),
        ),
    )


def candidate_happiness(
    conn: Connection, user_ids: Sequence[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Each of those users' happiness for every title of their pool at their last ranking:
    (item ids ascending, happiness), for the users that have been ranked."""
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT user_id, item_ids, happiness FROM candidate_happiness "
            "WHERE user_id = ANY(%s::bigint[])",
            (list(user_ids),),
            binary=True,
        ).fetchall()
    return {
        int(r[0]): (
            np.frombuffer(r[1], dtype=PACKED_IDS).astype(np.int64),
            np.frombuffer(r[2], dtype=PACKED_HAPPINESS).astype(np.float64),
        )
        for r in rows
    }


def pool_size(conn: Connection, user_id: int) -> int:
    """How many titles the user's last ranking gave a happiness (0: not ranked yet), without
    reading them."""
    row = conn.execute(
        "SELECT length(item_ids) / %s AS n FROM candidate_happiness WHERE user_id = %s",
        (PACKED_IDS.itemsize, user_id),
    ).fetchone()
    return 0 if row is None else int(row["n"])


def mark_current(conn: Connection, user_id: int) -> None:
    """Record that the user's stored lists reflect their newest profile build: a rebuild that
    changes nothing a ranking reads leaves the lists as they are, but not stale."""
    conn.execute(
        "UPDATE recommendation_runs r SET profile_built_at = p.newest "
        "FROM (SELECT max(built_at) AS newest FROM taste_profiles WHERE user_id = %(user)s) p "
        "WHERE r.user_id = %(user)s AND r.profile_built_at IS DISTINCT FROM p.newest",
        {"user": user_id},
    )


def visible_libraries(conn: Connection, user_id: int) -> list[int]:
    rows = conn.execute(
        "SELECT library_id FROM user_visible_libraries WHERE user_id = %s", (user_id,)
    ).fetchall()
    return [int(r["library_id"]) for r in rows]


def candidate_pool(
    conn: Connection, user_id: int, library: LibraryMembership, visible: Sequence[int]
) -> CandidatePool:
    """Every title the user may be offered tonight: in a library they can see (``visible``),
    never played by them, not dismissed, hidden or voted down - unless they asked for it
    anyway (an 'allow' override)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        excluded = cur.execute(
            "SELECT item_id FROM watch_events WHERE user_id = %(user)s UNION "
            "SELECT item_id FROM feedback WHERE user_id = %(user)s "
            "AND kind IN ('dismiss', 'hide', 'down') AND (until IS NULL OR until > now())",
            {"user": user_id},
        ).fetchall()
    offered = np.isin(library.library_ids, np.asarray(visible, dtype=np.int64)) & ~np.isin(
        library.item_ids, [r[0] for r in excluded]
    )
    rows = np.flatnonzero(offered)
    # Rows are sorted by title then domain: a title's first row names its domain.
    item_ids, first = np.unique(library.item_ids[rows], return_index=True)
    pool = CandidatePool(
        item_ids=item_ids,
        domain_codes=library.domain_codes[rows[first]],
        domain_names=library.domain_names,
        allowed=np.zeros(len(item_ids), dtype=bool),
    )
    return pool.with_allowed(allowed_anyway(conn, user_id))


def allowed_anyway(conn: Connection, user_id: int) -> list[tuple[int, str]]:
    """Visible titles the user asked to be offered whatever they did with them."""
    rows = conn.execute(
        "SELECT DISTINCT ON (i.id) i.id, l.domain FROM influence_overrides o "
        "JOIN items i ON lower(o.key) = i.media_type || ':' || i.tmdb_id "
        "JOIN library_items li ON li.item_id = i.id JOIN libraries l ON l.id = li.library_id "
        "JOIN user_visible_libraries a ON a.library_id = l.id AND a.user_id = o.user_id "
        "WHERE o.user_id = %s AND o.kind = 'title' AND o.action = 'allow' "
        "ORDER BY i.id, l.domain",
        (user_id,),
    ).fetchall()
    return [(int(r["id"]), str(r["domain"])) for r in rows]


def candidate_details(
    conn: Connection, item_ids: Sequence[int], dim: int, cached: CachedTitles
) -> dict[int, tuple[Candidate, float | None, int | None]]:
    """Facts, vector (zeros while not embedded yet: it then neither pulls nor repels) and TMDB
    votes of each title, through the worker's caches."""
    records = cached.records(conn, item_ids)
    found = cached.vectors(conn, records)
    absent = np.zeros(dim, np.float32)
    return {
        item_id: (
            Candidate(item_id, record.facts, found.get(item_id, absent)),
            record.vote_average,
            record.vote_count,
        )
        for item_id, record in records.items()
    }


def replace_candidate_scores(
    conn: Connection, user_id: int, rows: Sequence[tuple[int, float, float, str]]
) -> None:
    """(item id, score, happiness, reason) of the user's best candidates, replacing the old
    (copied in whole, without a unique key, as the lists are)."""
    if len({r[0] for r in rows}) != len(rows):
        raise ValueError("the scored candidates name a title twice")
    conn.execute("DELETE FROM candidate_scores WHERE user_id = %s", (user_id,))
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY candidate_scores (user_id, item_id, score, happiness, reason) FROM STDIN"
        ) as copy,
    ):
        for item_id, score, happy, reason in rows:
            copy.write_row((user_id, item_id, score, happy, reason))
