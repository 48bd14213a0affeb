"""The stored rows a why-not answer is built from: reads only, nothing is computed here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.adjustments import title_key
from recommendarr.shared.domain.taste import summarize_titles
from recommendarr.shared.domain.why_not import CandidateScore, WhyNotInputs
from recommendarr.shared.store import events, feedback, overrides, profiles, rankings

MODE = "tonight"


def item(conn: Connection, media_type: str, tmdb_id: int) -> dict[str, Any] | None:
    return conn.execute(
        'SELECT id, tmdb_id, media_type, title, year, genres, directors, "cast", fetched_at '
        "FROM items WHERE tmdb_id = %s AND media_type = %s",
        (tmdb_id, media_type),
    ).fetchone()


def visible_domain(conn: Connection, user_id: int, item_id: int) -> str | None:
    """The domain of a library the user can see that holds the title; None when there is none.
    Libraries the user cannot see are never read, so nothing about them can leak."""
    row = conn.execute(
        "SELECT l.domain FROM library_items li "
        "JOIN user_visible_libraries a ON a.library_id = li.library_id AND a.user_id = %s "
        "JOIN libraries l ON l.id = li.library_id WHERE li.item_id = %s "
        "ORDER BY l.domain LIMIT 1",
        (user_id, item_id),
    ).fetchone()
    return None if row is None else str(row["domain"])


def candidate_score(conn: Connection, user_id: int, item_id: int) -> CandidateScore | None:
    """The title's score when the user's last ranking refined it; otherwise its happiness
    among everything they could be offered (no score), when it was one of those."""
    row = conn.execute(
        "SELECT score, happiness FROM candidate_scores WHERE user_id = %s AND item_id = %s",
        (user_id, item_id),
    ).fetchone()
    if row is not None:
        return CandidateScore(float(row["score"]), float(row["happiness"]))
    pool = rankings.candidate_happiness(conn, [user_id]).get(user_id)
    if pool is None:
        return None
    ids, happiness = pool
    at = int(ids.searchsorted(item_id))
    if at == len(ids) or ids[at] != item_id:
        return None
    return CandidateScore(None, round(float(happiness[at]), 4))


def pick_rank(conn: Connection, user_id: int, item_id: int) -> int | None:
    row = conn.execute(
        "SELECT rank FROM recommendations WHERE user_id = %s AND mode = %s AND item_id = %s",
        (user_id, MODE, item_id),
    ).fetchone()
    return None if row is None else int(row["rank"])


def typical_content(conn: Connection, user_id: int) -> float | None:
    row = conn.execute(
        "SELECT avg((signals->>'content_similarity')::float8) AS mean FROM recommendations "
        "WHERE user_id = %s AND mode = %s "
        "AND json_typeof(signals->'content_similarity') = 'number'",
        (user_id, MODE),
    ).fetchone()
    return None if row is None or row["mean"] is None else float(row["mean"])


def gather(
    conn: Connection, user_id: int, row: dict[str, Any], model: str, now: datetime
) -> WhyNotInputs:
    """Everything stored about one user and the title in `row` (from `item`)."""
    item_id = int(row["id"])
    titles = summarize_titles(events.viewings(conn, user_id))
    seen = next((t for t in titles if t.item_id == item_id), None)
    fallback = "tv" if row["media_type"] == "tv" else "movies"
    library_domain = visible_domain(conn, user_id, item_id)
    domain = seen.domain if seen is not None else library_domain or fallback
    profile = next((p for p in profiles.load(conn, user_id) if p.domain == domain), None)
    hidden = feedback.hidden_until(conn, user_id)
    disliked = set(profile.abandoned) if profile is not None else set()
    vectors = profiles.vectors_for(conn, {item_id, *hidden, *disliked}, model)
    return WhyNotInputs(
        item_id=item_id,
        key=title_key(str(row["media_type"]), int(row["tmdb_id"])),
        facts=profiles.title_facts(row),
        domain=domain,
        enriched=row["fetched_at"] is not None,
        vector=vectors.pop(item_id, None),
        visible=library_domain is not None,
        titles=titles,
        known=profiles.facts_for(conn, {*(t.item_id for t in titles), *hidden}),
        vectors=vectors,
        profile=profile,
        feedback=feedback.on_item(conn, user_id, item_id),
        hidden={i: until for i, until in hidden.items() if i != item_id},
        overrides=overrides.overrides_for(conn, user_id),
        candidate=candidate_score(conn, user_id, item_id),
        scored_candidates=rankings.pool_size(conn, user_id),
        rank=pick_rank(conn, user_id, item_id),
        typical_content=typical_content(conn, user_id),
        now=now,
    )
