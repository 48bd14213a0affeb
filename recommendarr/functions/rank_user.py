"""rank_user(user_id): write the user's ranked, explained lists, one per mode.

The fitted server-wide taste model scores every title the user may be offered from their
current history (a new watch counts at once; only the server's patterns wait for the next fit).
Then each mode takes its pool, the best few hundred get the user's own negatives (the pull of
what they abandoned), signals, the watched titles that drove them and an explanation.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dramatiq
import numpy as np

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.shared import resources
from recommendarr.shared.cached_titles import CachedTitles
from recommendarr.shared.db import Connection
from recommendarr.shared.domain import picks as pick_rules
from recommendarr.shared.domain.adjustments import Override, adjust_scores, title_key
from recommendarr.shared.domain.explain import Influence, PickContext, explain
from recommendarr.shared.domain.grab import GrabPool, RelatedTo
from recommendarr.shared.domain.ranking import (
    MAX_LIKED_INFLUENCES,
    MODEL_ANTI_WEIGHT,
    Candidate,
    Explainer,
    LikedTitles,
    Pick,
    person_affinity,
    rank_candidates,
    refine,
    signal_rows,
)
from recommendarr.shared.domain.taste import (
    TasteProfile,
    TitleFacts,
    TitleHistory,
    summarize_titles,
)
from recommendarr.shared.domain.taste_model import (
    Interaction,
    ServerModel,
    interactions_for_user,
    title_stars,
)
from recommendarr.shared.domain.user_settings import TasteSettings
from recommendarr.shared.errors import Permanent
from recommendarr.shared.facts_cache import FactsCache
from recommendarr.shared.library_cache import LibraryMembership
from recommendarr.shared.relation_cache import RelationCache
from recommendarr.shared.store import (
    events,
    feedback,
    onboarding,
    overrides,
    pending_requests,
    profiles,
    rankings,
    taste_models,
    user_settings,
    users,
)
from recommendarr.shared.store import grab_candidates as grab_store
from recommendarr.shared.store.pending_requests import Pending
from recommendarr.shared.vector_cache import VectorCache

log = logging.getLogger(__name__)
KEEP = 200
GRAB_POOL = 2000
REFINE = 300
REDISCOVER_POOL = 100
SCORED_CANDIDATES = 1000
REFIT_BELOW_COVERAGE = 0.9
REFIT_FITS_APART = 5.0


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
    with res.pool.connection() as conn:
        with conn.transaction():
            # Committed before the state is read, as refresh_profile does with its request.
            pending_requests.take(conn, Pending.RANKING, user_id)
        refit = rank_now(conn, res, user_id, model)
    if refit is not None:
        from recommendarr.functions.fit_taste_model import fit_taste_model

        period_key, delay_s = refit
        # No delay at all rather than a zero one: a delayed message waits in the delay queue.
        fit_taste_model.send_with_options(args=(period_key,), delay=int(delay_s * 1000) or None)


def rank_now(
    conn: Connection, res: resources.Resources, user_id: int, model: str
) -> tuple[str, float] | None:
    """Write the user's lists; the refit of the server's model to ask for (its period key, and
    in how many seconds), if any."""
    with conn.transaction():
        if users.get(conn, user_id) is None:
            log.warning("user %s is gone; nothing to rank", user_id)
            return None
        profiles.lock_user(conn, user_id)
        fitted = res.taste_models.latest(conn)
        library = res.libraries.membership(conn)
        coverage = rank(
            conn,
            user_id,
            model,
            res.settings.embedding_dim,
            fitted,
            library,
            res.vectors,
            res.facts,
            res.relations,
        )
        # New titles arrived since the last fit (or there is none yet): they score as average
        # until a refit, so ask for one now rather than at the next scheduled fit - once per
        # model, and not sooner than a few fits' time after the last one.
        if coverage >= REFIT_BELOW_COVERAGE:
            return None
        model_id = fitted[0] if fitted else None
        delay_s = taste_models.request_refit(
            conn, model_id, res.settings.refit_min_interval_s, REFIT_FITS_APART
        )
    return None if delay_s is None else (taste_models.refit_key(model_id), delay_s)


@dataclass(frozen=True)
class UserState:
    """Everything about the user the lists are built from."""

    user_id: int
    titles: dict[int, TitleHistory]
    history: list[Interaction]
    profiles: list[TasteProfile]
    pool: pick_rules.CandidatePool
    # The watched titles a library the user may see still holds: what rediscover may offer.
    still_held: frozenset[int]
    liked_vectors: dict[int, np.ndarray]
    liked_facts: dict[int, TitleFacts]
    overrides: list[Override]
    hidden_ids: list[int]
    hidden_vectors: np.ndarray | None
    grab: GrabPool
    settings: TasteSettings = field(default_factory=TasteSettings)
    unexplored: frozenset[str] = frozenset()
    quiz_titles: tuple[str, ...] = ()
    genre_sliders: dict[str, float] = field(default_factory=dict)
    # Filled as the modes ask: each domain's history is scored over the catalog once.
    opinions: dict[str, pick_rules.ModelOpinion] = field(default_factory=dict)
    liked_titles: dict[str, LikedTitles] = field(default_factory=dict)


def rank(
    conn: Connection,
    user_id: int,
    model: str,
    dim: int,
    fitted: tuple[int, ServerModel] | None,
    library: LibraryMembership,
    vectors: VectorCache,
    facts: FactsCache,
    relations: RelationCache,
) -> float:
    """Write the lists; the share of the user's candidates the model knows (0 without one)."""
    cached = CachedTitles.begin(conn, vectors, facts, relations, model)
    state = load_state(conn, user_id, library, cached)
    coverage = fitted[1].coverage(state.pool.item_ids) if fitted else 0.0
    digest = rank_input_hash(model, fitted[0] if fitted else None, state)
    if rankings.stored_input_hash(conn, user_id, "tonight") == digest:
        # The lists are already what the newest profile gives: they now reflect it.
        rankings.mark_current(conn, user_id)
        return coverage
    if fitted is None:
        tonight = content_only_tonight(conn, state, model)
        rankings.replace(conn, user_id, {"tonight": (tonight, len(state.pool))}, digest)
        return coverage
    server = fitted[1]
    tonight, scored, everyone = rank_tonight(conn, state, server, dim, cached)
    rediscover = rank_rediscover(conn, state, server, dim, cached)
    grab, considered = rank_grab(conn, state, server, dim, cached)
    lists = {
        "tonight": (tonight, len(state.pool)),
        "rediscover": (rediscover, len(rediscover)),
        "grab": (grab, considered),
    }
    rankings.replace(conn, user_id, lists, digest)
    rankings.replace_candidate_scores(conn, user_id, scored)
    rankings.replace_candidate_happiness(conn, user_id, *everyone)
    return coverage


def load_state(
    conn: Connection, user_id: int, library: LibraryMembership, cached: CachedTitles
) -> UserState:
    titles = summarize_titles(events.viewings(conn, user_id))
    by_id = {t.item_id: t for t in titles}
    votes = feedback.votes(conn, user_id)
    quiz = onboarding.quiz_answers(conn, user_id) or ([], {})
    quiz_facts = cached.facts(conn, quiz[0])
    quiz_liked = [
        (i, "tv" if quiz_facts[i].media_type == "tv" else "movies")
        for i in quiz[0]
        if i in quiz_facts
    ]
    stored = profiles.load(conn, user_id)
    liked = {i for p in stored for i in strongest_liked_ids(p)}
    # A title picked in the quiz has been seen, like a watched one.
    visible = rankings.visible_libraries(conn, user_id)
    pool = rankings.candidate_pool(conn, user_id, library, visible).without(quiz_facts)
    hidden_ids = feedback.hidden_item_ids(conn, user_id)
    hidden = list(cached.vectors(conn, hidden_ids).values())
    return UserState(
        user_id=user_id,
        titles=by_id,
        history=interactions_for_user(
            user_id,
            titles,
            votes,
            quiz_liked,
            library.added_at,
        ),
        profiles=stored,
        pool=pool,
        still_held=frozenset(library.held_in((t.item_id for t in titles), visible)),
        settings=user_settings.taste_settings(conn, user_id),
        liked_vectors=cached.vectors(conn, liked),
        liked_facts=cached.facts(conn, liked),
        overrides=overrides.overrides_for(conn, user_id),
        hidden_ids=hidden_ids,
        hidden_vectors=np.stack(hidden) if hidden else None,
        grab=grab_store.grab_pool(conn, user_id, by_id, library, cached, GRAB_POOL),
        unexplored=frozenset(
            pick_rules.unexplored_among(
                library.offered_genres(pool.item_ids),
                len(pool),
                (library.genres.get(t.item_id, ()) for t in titles),
                len(titles),
            )
        ),
        quiz_titles=tuple(quiz_facts[i].title for i, _ in quiz_liked),
        genre_sliders=quiz[1],
    )


def strongest_liked_ids(profile: TasteProfile) -> list[int]:
    ranked = sorted(profile.item_weights.items(), key=lambda kv: (-kv[1], kv[0]))
    return [i for i, _ in ranked[:MAX_LIKED_INFLUENCES]]


def domain_history(state: UserState, domain: str) -> list[Interaction]:
    """Without cross-domain blending (the default) anime taste does not decide which dramas to
    suggest; a user may turn it on."""
    if state.settings.cross_domain_blend:
        return state.history
    return [i for i in state.history if i.domain == domain]


def opinion_of(state: UserState, server: ServerModel, domain: str) -> pick_rules.ModelOpinion:
    """The model's scores of every title for the user's history in this domain."""
    if domain not in state.opinions:
        state.opinions[domain] = pick_rules.model_opinion(
            server, domain_history(state, domain), state.settings.window_days()
        )
    return state.opinions[domain]


def liked_titles_of(state: UserState, domain: str) -> LikedTitles:
    """The domain's liked titles that may be named as influences, built once per ranking."""
    if domain not in state.liked_titles:
        state.liked_titles[domain] = LikedTitles.of(profile_for(state, domain), state.liked_vectors)
    return state.liked_titles[domain]


def profile_for(state: UserState, domain: str) -> TasteProfile:
    for profile in state.profiles:
        if profile.domain == domain:
            return profile
    return TasteProfile(domain=domain, centroid=None, anti_profile=None)


def rank_tonight(
    conn: Connection,
    state: UserState,
    server: ServerModel,
    dim: int,
    cached: CachedTitles,
) -> tuple[list[Pick], list[tuple[int, float, float, str]], tuple[np.ndarray, np.ndarray]]:
    """The tonight list, the refined candidates shuffle and group night read, and the user's
    happiness for every title of the pool (item ids ascending) that group night ranks by."""
    allowed = state.pool.item_ids[state.pool.allowed]
    picks: list[Pick] = []
    happiness: dict[int, float] = {}
    pool_ids: list[np.ndarray] = []
    pool_happiness: list[np.ndarray] = []
    for domain, item_ids in state.pool.by_domain().items():
        history = domain_history(state, domain)
        scores = opinion_of(state, server, domain).pool(item_ids)
        everyone = pick_rules.pool_happiness(scores.blended)
        pool_ids.append(item_ids)
        pool_happiness.append(everyone)
        top = pick_rules.top_positions(scores.blended, REFINE)
        # Titles the user asked for anyway are refined wherever the model put them.
        asked = np.flatnonzero(np.isin(item_ids, allowed))
        top = np.concatenate([top, np.setdiff1d(asked, top).astype(top.dtype)])
        happiness.update(zip(item_ids[top].tolist(), everyone[top].tolist(), strict=True))
        picks += refine_domain(conn, state, domain, scores, top, history, dim, cached)
    picks.sort(key=lambda p: -p.score)
    scored = [
        (p.item_id, p.score, round(happiness[p.item_id], 4), p.explanation)
        for p in picks[:SCORED_CANDIDATES]
    ]
    ids = np.concatenate(pool_ids) if pool_ids else np.zeros(0, dtype=np.int64)
    values = np.concatenate(pool_happiness) if pool_happiness else np.zeros(0)
    order = np.argsort(ids, kind="stable")
    return picks[:KEEP], scored, (ids[order], values[order])


def refine_domain(
    conn: Connection,
    state: UserState,
    domain: str,
    scores: pick_rules.PoolScores,
    top: np.ndarray,
    history: Sequence[Interaction],
    dim: int,
    cached: CachedTitles,
) -> list[Pick]:
    ids = scores.item_ids[top].tolist()
    details = rankings.candidate_details(conn, ids, dim, cached)
    kept = [n for n, item_id in enumerate(ids) if item_id in details]
    candidates = [details[ids[n]][0] for n in kept]
    averages = np.array([details[ids[n]][1] or np.nan for n in kept], dtype=np.float64)
    counts = np.array([details[ids[n]][2] or 0 for n in kept], dtype=np.float64)
    quality = pick_rules.bayesian_quality(averages, counts)
    blended = scores.blended[top[kept]]
    cold = pick_rules.is_cold(history)
    weight = pick_rules.COLD_QUALITY_WEIGHT if cold else pick_rules.QUALITY_WEIGHT
    profile = profile_for(state, domain)
    unexplored = pick_rules.unexplored_penalty(
        [c.facts.genres for c in candidates], set(state.unexplored)
    )
    people = np.array([person_affinity(c.facts, profile.person_weights)[0] for c in candidates])
    base = (
        blended
        + weight * pick_rules.standardize(quality)
        + pick_rules.PERSON_WEIGHT * people.reshape(blended.shape)
        + (pick_rules.COLD_SLIDER_WEIGHT if cold else pick_rules.SLIDER_WEIGHT)
        * pick_rules.slider_scores([c.facts.genres for c in candidates], state.genre_sliders)
        - pick_rules.UNEXPLORED_WEIGHT * unexplored
    )
    signals = signal_rows(
        {
            "model_score": blended,
            "collaborative": scores.collaborative[top[kept]],
            "content": scores.content[top[kept]],
            "trust": scores.trust,
            "quality": quality,
            "cold_start": float(cold),
            "unexplored_genres": unexplored,
        },
        len(kept),
    )
    if cold:
        order = pick_rules.diversify(base, [c.facts.genres for c in candidates], len(base))
        # Diversity decides the order: give each title a score that keeps it.
        base = base.copy()
        base[order] = np.linspace(float(base.max()) + 1.0, float(base.max()), len(order))
    candidates, base, signals = apply_user_rules(state, candidates, base, signals)
    return refine(
        profile,
        candidates,
        base,
        signals,
        state.titles,
        state.liked_vectors,
        state.liked_facts,
        len(candidates),
        explainer=explainer_for(state, "cold" if cold else "tonight"),
        anti_weight=MODEL_ANTI_WEIGHT,
        liked=liked_titles_of(state, domain),
    )


def explainer_for(
    state: UserState, mode: str, per_title: Callable[[int], dict[str, Any]] | None = None
) -> Explainer:
    """Explanations for one mode, told what only this user's state knows (and, per title,
    what the mode found out about it: asked only of the picks explained)."""
    boosted = tuple(o.key for o in state.overrides if o.action == "boost" and o.kind != "title")
    shared: dict[tuple[str, bool], PickContext] = {}

    def explainer(
        candidate: Candidate,
        influences: Sequence[Influence],
        signals: Mapping[str, float],
        profile: TasteProfile,
    ) -> str:
        # A newcomer's pick that does echo something they finished says so.
        told = "tonight" if mode == "cold" and influences else mode
        allowed = "allow" in signals
        own = mode_facts(state, candidate, mode)
        if per_title is not None:
            own = {**own, **per_title(candidate.item_id)}
        if own:
            context = PickContext(told, boosted=boosted, allowed_by_user=allowed, **own)
        else:
            # Most picks have nothing of their own to say: they share a context (never changed).
            context = shared.get((told, allowed)) or shared.setdefault(
                (told, allowed), PickContext(told, boosted=boosted, allowed_by_user=allowed)
            )
        return explain(candidate.facts, influences, signals, profile, context)

    return explainer


def mode_facts(state: UserState, candidate: Candidate, mode: str) -> dict[str, Any]:
    """The facts of the user's own past with this title that a rediscover pick may cite."""
    title = state.titles.get(candidate.item_id) if mode == "rediscover" else None
    if title is None:
        return {}
    return {
        "months_since_watched": int((datetime.now(UTC) - title.last_seen).days // 30.4),
        "last_progress": title.max_progress,
        "times_finished": title.completions,
        "rating": title.rating,
    }


def apply_user_rules(
    state: UserState,
    candidates: list[Candidate],
    base: np.ndarray,
    signals: list[dict[str, float]],
) -> tuple[list[Candidate], np.ndarray, list[dict[str, float]]]:
    """The user's own boosts, suppressions, blocks and hides; blocked titles leave the list."""
    if not candidates:
        return candidates, base, signals
    if not state.overrides and state.hidden_vectors is None and np.isfinite(base).all():
        return candidates, base, signals  # nothing of the user's to apply, nothing to drop
    adjusted = adjust_scores(
        base,
        [title_key(c.facts.media_type or "movie", c.facts.tmdb_id or 0) for c in candidates],
        [c.facts for c in candidates],
        # Only a hidden title's shadow compares vectors.
        np.stack([c.vector for c in candidates]) if state.hidden_vectors is not None else None,
        state.overrides,
        state.hidden_vectors,
    )
    kept = [n for n in range(len(candidates)) if np.isfinite(adjusted.scores[n])]
    return (
        [candidates[n] for n in kept],
        adjusted.scores[kept],
        [{**signals[n], **adjusted.notes[n]} for n in kept],
    )


def rank_rediscover(
    conn: Connection,
    state: UserState,
    server: ServerModel,
    dim: int,
    cached: CachedTitles,
) -> list[Pick]:
    """Titles the user loved long ago that a library they can see still holds."""
    now = datetime.now(UTC)
    loved = [
        t
        for t in state.titles.values()
        if t.finished
        and (now - t.last_seen).days >= pick_rules.REDISCOVER_AFTER_DAYS
        and title_stars(t) >= pick_rules.REDISCOVER_MIN_STARS
    ]
    picks: list[Pick] = []
    for domain in sorted({t.domain for t in loved if t.item_id in state.still_held}):
        everything = [t for t in loved if t.item_id in state.still_held and t.domain == domain]
        model_scores = opinion_of(state, server, domain).pool([t.item_id for t in everything])
        best = np.argsort(-model_scores.blended, kind="stable")[:REDISCOVER_POOL]
        titles = [everything[int(n)] for n in best]
        ids = [t.item_id for t in titles]
        scores = model_scores.subset(best)
        details = rankings.candidate_details(conn, ids, dim, cached)
        kept = [n for n, item_id in enumerate(ids) if item_id in details]
        months = [(now - titles[n].last_seen).days / 30.4 for n in kept]
        base = np.array(
            [
                scores.blended[n] + 0.5 * (title_stars(titles[n]) - 3.5) + 0.02 * months[k]
                for k, n in enumerate(kept)
            ]
        )
        signals = signal_rows(
            {
                "model_score": scores.blended[kept],
                "months_since_watched": np.round(months, 1),
                "times_finished": np.array([titles[n].completions for n in kept], dtype=float),
                "stars": np.array([title_stars(titles[n]) for n in kept], dtype=float),
            },
            len(kept),
        )
        picks += refine(
            profile_for(state, domain),
            [details[ids[n]][0] for n in kept],
            base,
            signals,
            state.titles,
            state.liked_vectors,
            state.liked_facts,
            KEEP,
            explainer=explainer_for(state, "rediscover"),
            anti_weight=MODEL_ANTI_WEIGHT,
            liked=liked_titles_of(state, domain),
        )
    return sorted(picks, key=lambda p: -p.score)[:KEEP]


def rank_grab(
    conn: Connection,
    state: UserState,
    server: ServerModel,
    dim: int,
    cached: CachedTitles,
) -> tuple[list[Pick], int]:
    """Titles worth adding: related to what the user liked, or trending; in no library and not
    already held or requested. Vote-based quality counts more here: nobody on the server has
    seen these, so the model knows them by their metadata alone. As for tonight, the best few
    hundred by that score are refined."""
    found = state.grab
    picks: list[Pick] = []
    for domain, tv in (("movies", False), ("tv", True)):
        pool = found.subset(np.flatnonzero(found.tv == tv))
        if not len(pool):
            continue
        scores = opinion_of(state, server, domain).pool(pool.item_ids)
        quality = pick_rules.bayesian_quality(pool.vote_averages, pool.vote_counts)
        related = np.minimum(1.0, pool.priorities)
        trending = pool.trending.astype(np.float64)
        base = (
            scores.blended
            + pick_rules.GRAB_QUALITY_WEIGHT * pick_rules.standardize(quality)
            + pick_rules.GRAB_RELATED_WEIGHT * related
            + pick_rules.GRAB_TRENDING_WEIGHT * trending
        )
        top = pick_rules.top_positions(base, REFINE)
        details = rankings.candidate_details(conn, pool.item_ids[top].tolist(), dim, cached)
        kept = [n for n in top.tolist() if int(pool.item_ids[n]) in details]
        candidates = [details[int(pool.item_ids[n])][0] for n in kept]
        related_to = grab_store.related_to(conn, pool, pool.item_ids[kept], cached)
        trending_now = set(pool.item_ids[kept][trending[kept] > 0].tolist())
        signals = signal_rows(
            {
                "model_score": scores.blended[kept],
                "collaborative": scores.collaborative[kept],
                "content": scores.content[kept],
                "quality": np.round(quality[kept], 2),
                "related": related[kept],
                "trending": trending[kept],
            },
            len(kept),
        )
        candidates, adjusted, signals = apply_user_rules(state, candidates, base[kept], signals)

        def context(
            item_id: int, related_to: RelatedTo = related_to, trending_now: set[int] = trending_now
        ) -> dict[str, Any]:
            return {
                "related_to": related_to.titles(item_id, 2),
                "trending": item_id in trending_now,
            }

        picks += refine(
            profile_for(state, domain),
            candidates,
            adjusted,
            signals,
            state.titles,
            state.liked_vectors,
            state.liked_facts,
            KEEP,
            explainer=explainer_for(state, "grab", context),
            anti_weight=MODEL_ANTI_WEIGHT,
            liked=liked_titles_of(state, domain),
        )
    return sorted(picks, key=lambda p: -p.score)[:KEEP], len(found)


def content_only_tonight(conn: Connection, state: UserState, model: str) -> list[Pick]:
    """Before the first fit: each domain ranked by its profile's vectors alone."""
    candidates = rankings.tonight_candidates(conn, state.user_id, model)
    picks: list[Pick] = []
    for profile in state.profiles:
        pool = candidates.get(profile.domain, [])
        picks += rank_candidates(
            profile, pool, state.titles, state.liked_vectors, state.liked_facts, KEEP
        )
    return sorted(picks, key=lambda p: -p.score)[:KEEP]


def rank_input_hash(model: str, model_id: int | None, state: UserState) -> str:
    """Equal hashes mean re-ranking would write the same lists."""
    digest = hashlib.sha256(f"{model}|{model_id}".encode())
    # One pass over a long history, as columns: (id, stars, age, abandoned, domain's initial).
    history = np.array(
        [(i.item_id, i.stars, i.age_days, i.abandoned, ord(i.domain[0])) for i in state.history],
        dtype=np.float64,
    ).reshape(-1, 5)
    history = history[np.argsort(history[:, 0], kind="stable")]
    digest.update(len(history).to_bytes(8, "little") + history.tobytes())
    for profile in state.profiles:
        digest.update(profile.domain.encode())
        for weights in (profile.item_weights, profile.abandoned):
            # As arrays: the repr of a long history's sorted weights cost milliseconds.
            ids = np.fromiter(weights, dtype=np.int64, count=len(weights))
            values = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
            order = np.argsort(ids)
            digest.update(len(ids).to_bytes(8, "little"))
            digest.update(ids[order].tobytes() + values[order].tobytes())
    digest.update(state.pool.digest_bytes())
    digest.update(np.array(sorted(state.still_held), dtype=np.int64).tobytes())
    digest.update(repr(sorted((o.kind, o.key, o.action) for o in state.overrides)).encode())
    digest.update(repr(sorted(state.hidden_ids)).encode())
    digest.update(repr(sorted(state.genre_sliders.items())).encode())
    digest.update(repr(sorted(state.unexplored)).encode())
    digest.update(repr(state.settings).encode())
    digest.update(state.grab.digest_bytes())
    digest.update(datetime.now(UTC).date().isoformat().encode())  # rediscover ages by the day
    return digest.hexdigest()[:32]
