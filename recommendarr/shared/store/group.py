"""Group night's reads: each member's happiness for their whole pool (candidate_happiness), the
shortlisted titles' facts, the reasons the members' own rankings gave (candidate_scores), and,
for a title a member's ranking did not refine, the title they liked that pulls hardest towards
it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.rows import tuple_row

from recommendarr.shared.cached_titles import CachedTitles
from recommendarr.shared.db import Connection
from recommendarr.shared.domain import group_night
from recommendarr.shared.domain.explain import Influence
from recommendarr.shared.domain.group_night import GroupTitle, MemberHappiness
from recommendarr.shared.domain.taste import TasteProfile
from recommendarr.shared.store import profiles, rankings
from recommendarr.shared.store.profiles import title_facts

# Shortlisted per title asked for, so that titles seen or hidden since the members' rankings
# (checked against the database, not the stored pools) leave enough behind.
SHORTLIST_FACTOR = 4
SHORTLIST_EXTRA = 50


def members(conn: Connection, user_ids: list[int]) -> list[dict[str, Any]]:
    """The listed users that exist, in the order given, and whether each has been ranked (none:
    their ranking has not run yet)."""
    return conn.execute(
        "SELECT u.id, u.username, "
        "  EXISTS (SELECT 1 FROM candidate_happiness c WHERE c.user_id = u.id) AS ranked "
        "FROM users u WHERE u.id = ANY(%(users)s::bigint[]) "
        "ORDER BY array_position(%(users)s::bigint[], u.id)",
        {"users": user_ids},
    ).fetchall()


def happiness(conn: Connection, user_ids: Sequence[int]) -> list[MemberHappiness]:
    """Each ranked member's happiness for every title of their pool, in the order given."""
    stored = rankings.candidate_happiness(conn, user_ids)
    return [MemberHappiness(u, *stored[u]) for u in user_ids if u in stored]


def titles(
    conn: Connection, item_ids: Sequence[int], user_ids: Sequence[int]
) -> dict[int, GroupTitle]:
    """Those titles no member has watched, dismissed, hidden or voted down since their
    ranking."""
    rows = conn.execute(
        'SELECT i.id, i.tmdb_id, i.media_type, i.title, i.genres, i.directors, i."cast", '
        "i.year, i.poster_path, i.vote_count, "
        "  coalesce((SELECT l.domain FROM library_items li "
        "   JOIN libraries l ON l.id = li.library_id "
        "   WHERE li.item_id = i.id ORDER BY l.domain LIMIT 1), 'movies') AS domain "
        "FROM items i WHERE i.id = ANY(%(items)s::bigint[]) "
        "AND NOT EXISTS (SELECT 1 FROM watch_events w "
        "  WHERE w.user_id = ANY(%(users)s::bigint[]) AND w.item_id = i.id) "
        "AND NOT EXISTS (SELECT 1 FROM feedback f "
        "  WHERE f.user_id = ANY(%(users)s::bigint[]) AND f.item_id = i.id "
        "  AND f.kind IN ('dismiss', 'hide', 'down') AND (f.until IS NULL OR f.until > now()))",
        {"items": list(item_ids), "users": list(user_ids)},
    ).fetchall()
    return {
        int(r["id"]): GroupTitle(
            item_id=int(r["id"]),
            facts=title_facts(r),
            domain=str(r["domain"]),
            year=r["year"],
            poster_path=r["poster_path"],
            vote_count=r["vote_count"],
        )
        for r in rows
    }


def stored_reasons(
    conn: Connection, user_ids: Sequence[int], item_ids: Sequence[int]
) -> dict[tuple[int, int], str]:
    """The reasons the members' rankings gave for those of the titles they refined."""
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT user_id, item_id, reason FROM candidate_scores "
            "WHERE user_id = ANY(%s::bigint[]) AND item_id = ANY(%s::bigint[])",
            (list(user_ids), list(item_ids)),
        ).fetchall()
    return {(int(r[0]), int(r[1])): str(r[2]) for r in rows}


def closest_liked(
    conn: Connection,
    asked: Sequence[tuple[int, GroupTitle]],
    taste: Mapping[int, Sequence[TasteProfile]],
    cached: CachedTitles,
) -> dict[tuple[int, int], Influence]:
    """For each (member, title) asked, the title the member liked (in their profile for its
    domain) that pulls hardest towards it, when close enough to be named: vectors and facts
    through the process's caches, a few hundred liked titles per member."""
    needed = {(u, title.domain) for u, title in asked}
    liked = {
        (u, p.domain): group_night.liked_to_name(p)
        for u in taste
        for p in taste[u]
        if (u, p.domain) in needed
    }
    pairs = [(u, title) for u, title in asked if (u, title.domain) in liked]
    wanted = {i for ranked in liked.values() for i, _ in ranked}
    vectors = cached.vectors(conn, sorted(wanted | {title.item_id for _, title in pairs}))
    pulls = group_night.closest_liked(pairs, liked, vectors)
    facts = cached.facts(conn, sorted({liked_id for liked_id, _ in pulls.values()}))
    found = {}
    for user_id, title in pairs:
        pull = pulls.get((user_id, title.item_id))
        if pull is None or pull[0] not in facts:
            continue
        influence = group_night.named_influence(title.facts, pull[0], facts[pull[0]], pull[1])
        if influence is not None:
            found[user_id, title.item_id] = influence
    return found


def picks(
    conn: Connection, found: Sequence[dict[str, Any]], limit: int, cached: CachedTitles
) -> list[dict[str, Any]]:
    """The best titles for all of ``found`` (members() rows) together, best first, each with
    every member's happiness and reason (in the members' order). ``cached``: the process's
    caches, through which the liked title to name is found where a member's ranking gave no
    reason."""
    user_ids = [int(m["id"]) for m in found]
    members_happiness = happiness(conn, user_ids)
    if len(members_happiness) < len(user_ids):
        return []
    shared = group_night.shortlist(members_happiness, limit * SHORTLIST_FACTOR + SHORTLIST_EXTRA)
    chosen = group_night.best_first(
        shared, titles(conn, [s.item_id for s in shared], user_ids), limit
    )
    reasons = stored_reasons(conn, user_ids, [s.item_id for s, _ in chosen])
    unexplained = [
        (u, title) for s, title in chosen for u in user_ids if (u, s.item_id) not in reasons
    ]
    taste = {u: profiles.load(conn, u) for u in sorted({u for u, _ in unexplained})}
    closest = closest_liked(conn, unexplained, taste, cached)
    answer = []
    for entry, title in chosen:
        entries = []
        for member, happy in zip(found, entry.each, strict=True):
            user_id = int(member["id"])
            profile = next((p for p in taste.get(user_id, []) if p.domain == title.domain), None)
            entries.append(
                {
                    "user_id": user_id,
                    "username": member["username"],
                    "happiness": round(happy, 4),
                    "reason": group_night.member_reason(
                        reasons.get((user_id, entry.item_id)),
                        title.facts,
                        profile,
                        closest.get((user_id, entry.item_id)),
                    ),
                }
            )
        answer.append(
            {
                "tmdb_id": title.facts.tmdb_id,
                "media_type": title.facts.media_type,
                "title": title.facts.title,
                "year": title.year,
                "poster_path": title.poster_path,
                "least": round(entry.least, 4),
                "mean": round(entry.mean, 4),
                "members": entries,
            }
        )
    return answer
