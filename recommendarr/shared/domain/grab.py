"""Titles worth adding to the server ("grab" mode): what a candidate is, and how strongly each
of the user's titles points at it.

A candidate is related (TMDB recommendations or similar titles) to a title the user liked, or is
trending. How strong a relation is: how much the user liked their title, times how much TMDB
stands behind the relation (its kind and its place in TMDB's list). These weights only order the
`related_to` list and decide which candidates survive a limit; the ranker scores them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from recommendarr.shared.domain.taste import COMPLETED_AT, TitleFacts

# A title the user got at least this far into, or rated at least this (0-10), is a seed; a
# rating below it outweighs having finished the title.
SEED_PROGRESS = 0.5
SEED_RATING = 6.0
# TMDB "recommendations" come from what its users watch together; "similar" only from shared
# genres and keywords, a weaker signal.
KIND_WEIGHTS = {"recommended": 1.0, "similar": 0.8}
# Halves the relation's weight at the 10th place of TMDB's list.
POSITION_HALF = 10.0
# A trending title ranks with a fairly strong relation when a limit has to cut candidates.
TRENDING_PRIORITY = 0.5


@dataclass(frozen=True)
class RelatedSeed:
    """One of the user's titles a candidate is related to."""

    item_id: int
    tmdb_id: int
    media_type: str
    title: str
    kind: str
    position: int
    finished: bool
    rating: float | None
    strength: float


@dataclass(frozen=True, eq=False)
class GrabCandidate:
    """A title in no library, not held or requested, and unseen and not dismissed by the user.

    `vector` is None when the title has no embedding for the model asked for yet. `related_to`
    is strongest first; it is empty for a title that is only trending.
    """

    item_id: int
    facts: TitleFacts
    vector: np.ndarray | None
    related_to: tuple[RelatedSeed, ...]
    trending: bool
    vote_average: float | None
    vote_count: int | None
    year: int | None = None
    popularity: float | None = None
    trending_position: int | None = None

    @property
    def priority(self) -> float:
        return candidate_priority(self.related_to, self.trending_position)


def seed_weight(progress: float, rating: float | None) -> float:
    """0.5..1: the rating when the user gave one, else how far they got."""
    if rating is not None:
        return max(0.0, min(1.0, rating / 10.0))
    return max(0.0, min(1.0, progress / COMPLETED_AT))


def position_weight(position: int) -> float:
    return 1.0 / (1.0 + max(0, position) / POSITION_HALF)


def relation_strength(kind: str, position: int, progress: float, rating: float | None) -> float:
    return seed_weight(progress, rating) * KIND_WEIGHTS.get(kind, 0.0) * position_weight(position)


def related_seed(
    *,
    item_id: int,
    tmdb_id: int,
    media_type: str,
    title: str,
    kind: str,
    position: int,
    progress: float,
    rating: float | None,
) -> RelatedSeed:
    return RelatedSeed(
        item_id=item_id,
        tmdb_id=tmdb_id,
        media_type=media_type,
        title=title,
        kind=kind,
        position=position,
        finished=progress >= COMPLETED_AT,
        rating=rating,
        strength=relation_strength(kind, position, progress, rating),
    )


def strongest_first(links: Iterable[RelatedSeed]) -> tuple[RelatedSeed, ...]:
    """One entry per seed title (its strongest relation), strongest first."""
    best: dict[int, RelatedSeed] = {}
    for link in links:
        kept = best.get(link.item_id)
        if kept is None or link.strength > kept.strength:
            best[link.item_id] = link
    return tuple(sorted(best.values(), key=lambda s: (-s.strength, s.title, s.item_id)))


def candidate_priority(related_to: Iterable[RelatedSeed], trending_position: int | None) -> float:
    """Several liked titles pointing at one candidate add up; trending adds a fixed share."""
    priority = sum(seed.strength for seed in related_to)
    if trending_position is not None:
        priority += TRENDING_PRIORITY * position_weight(trending_position)
    return priority
