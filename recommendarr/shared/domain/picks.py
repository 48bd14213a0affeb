"""One user's candidates scored by the fitted taste model, and the mode-specific touches.

``model_opinion`` is the model's view of every title for one history (the same blend the offline
benchmark measures); ``score_pool`` reads one pool of it. The modes then add what only
production knows: vote-based quality (never in the benchmark: its vote counts come from the
future), genre diversity for newcomers, and the rediscover bonus for a title someone loved long
ago.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recommendarr.shared.domain import collaborative as collab
from recommendarr.shared.domain.taste_model import (
    MODEL_WINDOW,
    Interaction,
    ModelWindow,
    ServerModel,
    history_row,
)

COLD_START_TITLES = 10
QUALITY_PRIOR_VOTES = 200.0
QUALITY_WEIGHT = 0.15
COLD_QUALITY_WEIGHT = 0.6
DIVERSITY_PENALTY = 0.35
# A director or lead the user keeps finishing, in standard deviations of the model's score: the
# metadata model dilutes one person among every other token, people choose by them.
PERSON_WEIGHT = 1.0
# Grab: nobody here has seen these titles, so what the wider audience thinks and what TMDB
# relates them to weigh more than in tonight's list.
GRAB_QUALITY_WEIGHT = 0.5
GRAB_RELATED_WEIGHT = 0.75
GRAB_TRENDING_WEIGHT = 0.25
# Onboarding genre sliders (-1..1), in standard deviations of the model's score: what someone
# says outright about a genre counts, but never buries a title the model is sure about.
SLIDER_WEIGHT = 0.75
# Until a newcomer has watched ten titles, what they said is most of what is known.
COLD_SLIDER_WEIGHT = 1.5
REDISCOVER_AFTER_DAYS = 180
REDISCOVER_MIN_STARS = 3.5


@dataclass(frozen=True)
class CandidatePool:
    """The titles a user may be offered tonight, sorted by id: each one's library domain (as an
    index into ``domain_names``) and whether they asked for it anyway. Arrays, not tuples: a
    big library holds twenty thousand of them and every ranking walks the whole pool."""

    item_ids: np.ndarray
    domain_codes: np.ndarray
    domain_names: tuple[str, ...]
    allowed: np.ndarray

    @classmethod
    def empty(cls) -> CandidatePool:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int16), (), np.zeros(0, dtype=bool))

    def __len__(self) -> int:
        return len(self.item_ids)

    def by_domain(self) -> dict[str, np.ndarray]:
        """Each domain's item ids (sorted), domains in name order."""
        return {
            name: self.item_ids[self.domain_codes == code]
            for code, name in enumerate(self.domain_names)
            if (self.domain_codes == code).any()
        }

    def without(self, item_ids: Iterable[int]) -> CandidatePool:
        keep = ~np.isin(self.item_ids, np.fromiter(item_ids, dtype=np.int64))
        return CandidatePool(
            self.item_ids[keep], self.domain_codes[keep], self.domain_names, self.allowed[keep]
        )

    def with_allowed(self, titles: Sequence[tuple[int, str]]) -> CandidatePool:
        """Add (or mark) the titles the user asked to be offered whatever they did with them."""
        if not titles:
            return self
        names = tuple(sorted(set(self.domain_names) | {domain for _, domain in titles}))
        remap = np.array([names.index(n) for n in self.domain_names], dtype=np.int16)
        codes = remap[self.domain_codes] if len(remap) else self.domain_codes.copy()
        allowed = self.allowed.copy()
        asked_ids = np.array([i for i, _ in titles], dtype=np.int64)
        asked_codes = np.array([names.index(d) for _, d in titles], dtype=np.int16)
        positions = np.searchsorted(self.item_ids, asked_ids)
        present = positions < len(self.item_ids)
        present[present] = self.item_ids[positions[present]] == asked_ids[present]
        codes[positions[present]] = asked_codes[present]
        allowed[positions[present]] = True
        ids = np.concatenate([self.item_ids, asked_ids[~present]])
        order = np.argsort(ids, kind="stable")
        return CandidatePool(
            ids[order],
            np.concatenate([codes, asked_codes[~present]])[order],
            names,
            np.concatenate([allowed, np.ones(int((~present).sum()), dtype=bool)])[order],
        )

    def digest_bytes(self) -> bytes:
        """What the pool is, as bytes to hash: equal bytes, equal pools."""
        names = "|".join(self.domain_names).encode()
        return (
            names + self.item_ids.tobytes() + self.domain_codes.tobytes() + self.allowed.tobytes()
        )


@dataclass(frozen=True)
class PoolScores:
    """Per candidate (in the order asked for): the blend and its standardized parts."""

    item_ids: np.ndarray
    blended: np.ndarray
    collaborative: np.ndarray
    content: np.ndarray
    trust: float
    history_size: int

    def subset(self, positions: np.ndarray) -> PoolScores:
        """The scores of the candidates at these positions, in that order."""
        return PoolScores(
            item_ids=self.item_ids[positions],
            blended=self.blended[positions],
            collaborative=self.collaborative[positions],
            content=self.content[positions],
            trust=self.trust,
            history_size=self.history_size,
        )


@dataclass(frozen=True)
class ModelOpinion:
    """What the model makes of one user history: every title it knows, by model column. A
    ranking asks it about several pools (tonight's, rediscover's, grab's), so it is computed
    once per domain history, not once per pool."""

    model: ServerModel
    blended: np.ndarray
    collaborative: np.ndarray
    content: np.ndarray
    trust: float
    history_size: int

    def pool(self, item_ids: Sequence[int] | np.ndarray) -> PoolScores:
        """The scores of ``item_ids``; titles the model was fitted without score 0 (the mean)."""
        ids = np.asarray(item_ids, dtype=np.int64)
        if len(self.model.item_ids) == 0:  # a model fitted before any title existed
            zeros = np.zeros(len(ids))
            return PoolScores(ids, zeros, zeros, zeros, 0.0, 0)
        columns = self.model.columns(ids)
        known = columns >= 0

        def pick(values: np.ndarray) -> np.ndarray:
            return np.where(known, values[np.maximum(columns, 0)], 0.0)

        return PoolScores(
            item_ids=ids,
            blended=pick(self.blended),
            collaborative=pick(self.collaborative),
            content=pick(self.content),
            trust=self.trust,
            history_size=self.history_size,
        )


def model_opinion(
    model: ServerModel,
    history: Sequence[Interaction],
    window_days: float | ModelWindow | None = MODEL_WINDOW,
) -> ModelOpinion:
    if len(model.item_ids) == 0:
        empty = np.zeros(0)
        return ModelOpinion(model, empty, empty, empty, 0.0, 0)
    row, size = history_row(model, history, window_days)
    hybrid = model.hybrid
    collaborative = collab.score_item_item(hybrid.item_model, row[None, :])
    content = collab.score_content(hybrid.features, row[None, :])
    sizes = np.array([float(size)])
    blended = collab.blend_scores(
        collaborative,
        content,
        hybrid.popularity,
        sizes,
        hybrid.server_interactions,
        model.params.blend,
    )[0]
    trust = float(
        collab.collaborative_trust(sizes, hybrid.server_interactions, model.params.blend)[0]
    )
    return ModelOpinion(
        model=model,
        blended=blended,
        collaborative=collab.standardize_rows(collaborative)[0],
        content=collab.standardize_rows(content)[0],
        trust=trust,
        history_size=size,
    )


def score_pool(
    model: ServerModel,
    history: Sequence[Interaction],
    item_ids: Sequence[int] | np.ndarray,
    window_days: float | ModelWindow | None = MODEL_WINDOW,
) -> PoolScores:
    """Score ``item_ids`` for a user; titles the model was fitted without score 0 (the mean)."""
    return model_opinion(model, history, window_days).pool(item_ids)


def bayesian_quality(
    averages: np.ndarray, counts: np.ndarray, prior_votes: float = QUALITY_PRIOR_VOTES
) -> np.ndarray:
    """``(v*R + m*C)/(v+m)``: a title with few votes is pulled to the mean of the others."""
    counts = np.nan_to_num(np.asarray(counts, dtype=np.float64))
    averages = np.asarray(averages, dtype=np.float64)
    rated = counts > 0
    prior = float(np.average(averages[rated], weights=counts[rated])) if rated.any() else 0.0
    averages = np.where(rated, np.nan_to_num(averages, nan=prior), prior)
    quality: np.ndarray = (counts * averages + prior_votes * prior) / (counts + prior_votes)
    return quality


def vote_confidence(counts: np.ndarray, prior_votes: float = QUALITY_PRIOR_VOTES) -> np.ndarray:
    counts = np.nan_to_num(np.asarray(counts, dtype=np.float64))
    confidence: np.ndarray = counts / (counts + prior_votes)
    return confidence


def standardize(values: np.ndarray) -> np.ndarray:
    standardized: np.ndarray = collab.standardize_rows(np.atleast_2d(values))[0]
    return standardized


def pool_happiness(scores: np.ndarray) -> np.ndarray:
    """The percentile of every score among all of them, 0 (worst) to 1 (best); equal scores rank
    by position, as a stable sort orders them."""
    order = stable_ascending(scores)
    percentile = np.empty(len(scores), dtype=np.float64)
    percentile[order] = np.arange(1, len(scores) + 1) / max(len(scores), 1)
    return percentile


def stable_ascending(scores: np.ndarray) -> np.ndarray:
    """What ``np.argsort(scores, kind="stable")`` gives, at a fifth of its cost on a library's
    pool: numpy's default sort, then the few runs of equal scores (titles a model does not know
    score alike) put back in position order. Mostly ties: the stable sort is the cheaper."""
    order = np.argsort(scores)
    ordered = scores[order]
    tied = ordered[1:] == ordered[:-1]
    ties = int(np.count_nonzero(tied))
    if not ties:
        return order
    if ties > len(order) // 4:
        stable: np.ndarray = np.argsort(scores, kind="stable")
        return stable
    in_run = np.zeros(len(order), dtype=bool)
    in_run[1:] |= tied
    in_run[:-1] |= tied
    places = np.flatnonzero(in_run)
    run = np.cumsum(np.concatenate([[True], ~tied]))[places]
    # One distinct key per tied title: its run, then its position.
    order[places] = order[places][np.argsort(run * len(order) + order[places])]
    return order


def top_positions(scores: np.ndarray, count: int) -> np.ndarray:
    """Positions of the ``count`` highest scores, best first, ties by position: what a stable
    descending sort would put first, without sorting the whole pool."""
    if len(scores) <= count:
        return np.argsort(-scores, kind="stable")
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    threshold = np.partition(scores, len(scores) - count)[len(scores) - count]
    above = np.flatnonzero(scores > threshold)
    tied = np.flatnonzero(scores == threshold)[: count - len(above)]
    chosen = np.concatenate([above, tied])
    ordered: np.ndarray = chosen[np.argsort(-scores[chosen], kind="stable")]
    return ordered


def diversify(scores: np.ndarray, genres: Sequence[Sequence[str]], limit: int) -> list[int]:
    """Greedy re-ranking: each genre already picked costs the next title that shares it, so a
    newcomer sees a spread of genres instead of ten dramas."""
    remaining = list(np.argsort(-scores, kind="stable")[: limit * 4])
    picked: list[int] = []
    seen: dict[str, int] = {}
    while remaining and len(picked) < limit:
        best = max(
            remaining,
            key=lambda i: (
                scores[i]
                - DIVERSITY_PENALTY
                * sum(seen.get(g, 0) for g in genres[i])
                / max(1, len(genres[i]))
            ),
        )
        remaining.remove(best)
        picked.append(int(best))
        for genre in genres[best]:
            seen[genre] = seen.get(genre, 0) + 1
    return picked


def is_cold(history: Sequence[Interaction]) -> bool:
    return len(history) < COLD_START_TITLES


def slider_scores(genres: Sequence[Sequence[str]], sliders: dict[str, float]) -> np.ndarray:
    """Per title, the mean slider of its genres that the user set (0 when none)."""
    folded = {name.casefold(): value for name, value in sliders.items()}
    scores = []
    for title_genres in genres:
        values = [folded[g.casefold()] for g in title_genres if g.casefold() in folded]
        scores.append(sum(values) / len(values) if values else 0.0)
    return np.array(scores, dtype=np.float64)


UNEXPLORED_MIN_HISTORY = 20
UNEXPLORED_MIN_TITLES = 10
UNEXPLORED_MIN_SHARE = 0.03
UNEXPLORED_WEIGHT = 0.3


def unexplored_genres(
    available: Iterable[Sequence[str]], watched: Iterable[Sequence[str]], history_size: int
) -> set[str]:
    """Genres the user's libraries hold plenty of and that they never started once: an
    implicit, mild negative - only once their history is long enough to mean something."""
    if history_size < UNEXPLORED_MIN_HISTORY:
        return set()
    titles = list(available)
    offered = Counter(g for genres in titles for g in genres)
    return unexplored_among(offered, len(titles), watched, history_size)


def unexplored_among(
    offered: Mapping[str, int],
    n_titles: int,
    watched: Iterable[Sequence[str]],
    history_size: int,
) -> set[str]:
    """``unexplored_genres`` from genre counts over ``n_titles`` offered titles."""
    if history_size < UNEXPLORED_MIN_HISTORY:
        return set()
    seen = {g for genres in watched for g in genres}
    total = max(1, n_titles)
    return {
        genre
        for genre, count in offered.items()
        if genre not in seen
        and count >= UNEXPLORED_MIN_TITLES
        and count / total >= UNEXPLORED_MIN_SHARE
    }


def unexplored_penalty(genres: Sequence[Sequence[str]], unexplored: set[str]) -> np.ndarray:
    """Per title, the share of its genres the user never went near."""
    return np.array(
        [sum(g in unexplored for g in title) / len(title) if title else 0.0 for title in genres],
        dtype=np.float64,
    )
