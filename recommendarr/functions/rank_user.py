"""rank_user(user_id): write the user's ranked, explained "tonight" list."""

from __future__ import annotations

import hashlib
import logging

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.shared import resources
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.ranking import Candidate, Pick, rank_candidates
from recommendarr.shared.domain.taste import TasteProfile, summarize_titles
from recommendarr.shared.errors import Permanent
from recommendarr.shared.store import events, profiles, recommendations, users

log = logging.getLogger(__name__)
MODE = "tonight"
KEEP = 50


@dramatiq.actor(
    actor_name="rank_user",
    queue_name="profiles",
    max_retries=3,
    min_backoff=1_000,
    max_backoff=30_000,
    time_limit=60_000,
    throws=(Permanent,),
)
def rank_user(user_id: int) -> None:
    res = resources.current()
    model = res.embedder.model_name
    with res.pool.connection() as conn, conn.transaction():
        if users.get(conn, user_id) is None:
            log.warning("user %s is gone; nothing to rank", user_id)
            return
        profiles.lock_user(conn, user_id)
        rank(conn, user_id, model)


def rank(conn: Connection, user_id: int, model: str) -> None:
    stored_profiles = profiles.load(conn, user_id)
    candidates = recommendations.tonight_candidates(conn, user_id, model)
    digest = rank_input_hash(model, stored_profiles, candidates)
    if recommendations.stored_input_hash(conn, user_id, MODE) == digest:
        return
    picks = pick_across_domains(conn, user_id, model, stored_profiles, candidates)
    total = sum(len(c) for c in candidates.values())
    recommendations.replace(conn, user_id, MODE, picks, digest, total)


def pick_across_domains(
    conn: Connection,
    user_id: int,
    model: str,
    stored_profiles: list[TasteProfile],
    candidates: dict[str, list[Candidate]],
) -> list[Pick]:
    """Each domain is ranked by its own profile (no cross-domain blending), then merged."""
    titles = {t.item_id: t for t in summarize_titles(events.viewings(conn, user_id))}
    liked = {i for p in stored_profiles for i in p.item_weights}
    vectors = profiles.vectors_for(conn, liked, model)
    facts = profiles.facts_for(conn, liked)
    picks: list[Pick] = []
    for profile in stored_profiles:
        pool = candidates.get(profile.domain, [])
        picks += rank_candidates(profile, pool, titles, vectors, facts, KEEP)
    return sorted(picks, key=lambda p: -p.score)[:KEEP]


def rank_input_hash(
    model: str, stored_profiles: list[TasteProfile], candidates: dict[str, list[Candidate]]
) -> str:
    digest = hashlib.sha256(model.encode())
    for profile in stored_profiles:
        digest.update(profile.domain.encode())
        digest.update(repr(sorted(profile.item_weights.items())).encode())
        digest.update(repr(sorted(profile.abandoned.items())).encode())
    for domain in sorted(candidates):
        digest.update(f"{domain}:{sorted(c.item_id for c in candidates[domain])}".encode())
    return digest.hexdigest()[:32]
