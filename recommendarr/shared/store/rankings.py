"""What rank_user reads and writes: a user's candidates and their ranked, explained lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
from psycopg.rows import tuple_row

from recommendarr.shared.db import Connection, as_array, number_array
from recommendarr.shared.domain.explain import Influence
from recommendarr.shared.domain.picks import CandidatePool
from recommendarr.shared.domain.ranking import Candidate, Pick
from recommendarr.shared.library_cache import LibraryMembership
from recommendarr.shared.store.profiles import facts_from_tuple, title_facts
from recommendarr.shared.vector_cache import VectorCache


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


# Rewritten in place, rank by rank: a row's new version lands on its own page without touching
# an index (a HOT update; the table keeps free room on each page for it). Deleting the old list
# and copying in the new one left every old row behind until autovacuum came round: a user
# re-ranked at each watch of a backfill grew the table and its indexes by the whole list each
# time, and each ranking wrote slower than the one before.
# The text columns travel as one JSON array each: an array of JSON strings as a text[]
# parameter is quoted element by element on the client, which cost more than the write.
UPSERT_PICKS = """
INSERT INTO recommendations AS r (user_id, mode, rank, item_id, score, confidence, signals,
                                  influenced_by, explanation)
SELECT %(user)s, %(mode)s, p.rank, p.item_id, p.score, p.confidence, p.signals, p.influenced_by,
       p.explanation
FROM ROWS FROM (unnest(%(items)s::bigint[]), unnest(%(scores)s::real[]),
                unnest(%(confidences)s::text[]), jsonb_array_elements(%(signals)s::jsonb),
                jsonb_array_elements(%(influences)s::jsonb),
                jsonb_array_elements_text(%(explanations)s::jsonb)) WITH ORDINALITY
     AS p(item_id, score, confidence, signals, influenced_by, explanation, rank)
ON CONFLICT (user_id, mode, rank) DO UPDATE SET
    item_id = EXCLUDED.item_id, score = EXCLUDED.score, confidence = EXCLUDED.confidence,
    signals = EXCLUDED.signals, influenced_by = EXCLUDED.influenced_by,
    explanation = EXCLUDED.explanation, generated_at = now()
"""


def replace(
    conn: Connection,
    user_id: int,
    mode: str,
    picks: Sequence[Pick],
    input_hash: str,
    total_candidates: int,
) -> None:
    item_ids = [p.item_id for p in picks]
    if len(set(item_ids)) != len(item_ids):
        # The table no longer has a unique key on the title (it would refuse a title moving up
        # a rank mid-update), so the lists' own rule is kept here.
        raise ValueError(f"a {mode} list names a title twice")
    conn.execute(
        UPSERT_PICKS,
        {
            "user": user_id,
            "mode": mode,
            "items": number_array(item_ids),
            "scores": number_array(p.score for p in picks),
            "confidences": [p.confidence for p in picks],
            "signals": orjson.dumps([p.signals for p in picks]).decode(),
            "influences": orjson.dumps(
                [[influence_json(i) for i in p.influenced_by] for p in picks]
            ).decode(),
            "explanations": orjson.dumps([p.explanation for p in picks]).decode(),
        },
    )
    conn.execute(
        "DELETE FROM recommendations WHERE user_id = %s AND mode = %s AND rank > %s",
        (user_id, mode, len(picks)),
    )
    conn.execute(
        "INSERT INTO recommendation_runs (user_id, mode, input_hash, total_candidates, "
        "profile_built_at) VALUES (%s, %s, %s, %s, "
        "(SELECT max(built_at) FROM taste_profiles WHERE user_id = %s)) "
        "ON CONFLICT (user_id, mode) DO UPDATE SET input_hash = EXCLUDED.input_hash, "
        "total_candidates = EXCLUDED.total_candidates, "
        "profile_built_at = EXCLUDED.profile_built_at, generated_at = now()",
        (user_id, mode, input_hash, total_candidates, user_id),
    )


def mark_current(conn: Connection, user_id: int) -> None:
    """Record that the user's stored lists reflect their newest profile build: a rebuild that
    changes nothing a ranking reads leaves the lists as they are, but not stale."""
    conn.execute(
        "UPDATE recommendation_runs r SET profile_built_at = p.newest "
        "FROM (SELECT max(built_at) AS newest FROM taste_profiles WHERE user_id = %(user)s) p "
        "WHERE r.user_id = %(user)s AND r.profile_built_at IS DISTINCT FROM p.newest",
        {"user": user_id},
    )


def candidate_pool(conn: Connection, user_id: int, library: LibraryMembership) -> CandidatePool:
    """Every title the user may be offered tonight: in a library they can see, never played by
    them, not dismissed, hidden or voted down - unless they asked for it anyway (an 'allow'
    override)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        visible = cur.execute(
            "SELECT library_id FROM user_visible_libraries WHERE user_id = %s", (user_id,)
        ).fetchall()
        excluded = cur.execute(
            "SELECT item_id FROM watch_events WHERE user_id = %(user)s UNION "
            "SELECT item_id FROM feedback WHERE user_id = %(user)s "
            "AND kind IN ('dismiss', 'hide', 'down') AND (until IS NULL OR until > now())",
            {"user": user_id},
        ).fetchall()
    offered = np.isin(library.library_ids, [r[0] for r in visible]) & ~np.isin(
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


def visible_item_ids(conn: Connection, user_id: int, item_ids: Sequence[int]) -> set[int]:
    rows = conn.execute(
        "SELECT DISTINCT li.item_id FROM library_items li JOIN user_visible_libraries a "
        "ON a.library_id = li.library_id AND a.user_id = %s WHERE li.item_id = ANY(%s::bigint[])",
        (user_id, number_array(item_ids)),
    ).fetchall()
    return {int(r["item_id"]) for r in rows}


def candidate_details(
    conn: Connection, item_ids: Sequence[int], model: str, dim: int, vectors: VectorCache
) -> dict[int, tuple[Candidate, float | None, int | None]]:
    """Facts, vector (zeros while not embedded yet: it then neither pulls nor repels) and TMDB
    votes of each title."""
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            'SELECT i.id, i.tmdb_id, i.media_type, i.title, i.genres, i.directors, i."cast", '
            "i.vote_average, i.vote_count, e.embedded_at FROM items i "
            "LEFT JOIN item_embeddings e ON e.item_id = i.id AND e.model = %s "
            "WHERE i.id = ANY(%s::bigint[])",
            (model, number_array(item_ids)),
        ).fetchall()
    found = vectors.with_versions(
        conn, {int(r[0]): r[-1] for r in rows if r[-1] is not None}, model
    )
    absent = np.zeros(dim, np.float32)
    details = {}
    for *facts, vote_average, vote_count, _ in rows:
        item_id = int(facts[0])
        candidate = Candidate(item_id, facts_from_tuple(facts), found.get(item_id, absent))
        details[item_id] = (candidate, vote_average, vote_count)
    return details


# As with the lists: a title still among the best keeps its row and gets a HOT update (only
# titles entering or leaving the set touch the indexes), instead of a delete and re-insert of
# every row at every ranking.
UPSERT_CANDIDATES = """
INSERT INTO candidate_scores AS c (user_id, item_id, score, happiness, reason)
SELECT %(user)s, s.item_id, s.score, s.happiness, s.reason
FROM ROWS FROM (unnest(%(items)s::bigint[]), unnest(%(scores)s::real[]),
                unnest(%(happiness)s::real[]), jsonb_array_elements_text(%(reasons)s::jsonb))
     AS s(item_id, score, happiness, reason)
ON CONFLICT (user_id, item_id) DO UPDATE SET
    score = EXCLUDED.score, happiness = EXCLUDED.happiness, reason = EXCLUDED.reason
"""


def replace_candidate_scores(
    conn: Connection, user_id: int, rows: Sequence[tuple[int, float, float, str]]
) -> None:
    """(item id, score, happiness, reason) of the user's best candidates, replacing the old."""
    item_ids = [r[0] for r in rows]
    conn.execute(
        "DELETE FROM candidate_scores WHERE user_id = %s AND item_id <> ALL(%s::bigint[])",
        (user_id, number_array(item_ids)),
    )
    conn.execute(
        UPSERT_CANDIDATES,
        {
            "user": user_id,
            "items": number_array(item_ids),
            "scores": number_array(r[1] for r in rows),
            "happiness": number_array(r[2] for r in rows),
            "reasons": orjson.dumps([r[3] for r in rows]).decode(),
        },
    )
