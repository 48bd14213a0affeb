"""Titles worth adding to the server ("grab" mode): what a candidate is, and how strongly each
of the user's titles points at it.

A candidate is related (TMDB recommendations or similar titles) to a title the user liked, or is
trending. How strong a relation is: how much the user liked their title, times how much TMDB
stands behind the relation (its kind and its place in TMDB's list). These weights only order the
`related_to` list and decide which candidates survive a limit; the ranker scores them.

A user who liked hundreds of titles points at thousands of candidates through tens of thousands
of relations, so the weighing is done on arrays, one entry per relation; a candidate's
`related_to` is built only for the few hundred candidates a ranking refines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from recommendarr.shared.domain.taste import COMPLETED_AT, TitleFacts, TitleHistory

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
class TitleRelations:
    """TMDB's recommended and similar titles for one title, each related title once (by its
    stronger relation, when both lists name it): the related item ids, whether that relation is
    "similar" (else "recommended"), and its place in TMDB's list. Kept as the three rows of one
    array: a ranking joins the relations of hundreds of titles in one concatenation."""

    columns: np.ndarray  # (3, n) int64: related item id, 1 when "similar", place

    @property
    def related(self) -> np.ndarray:
        related: np.ndarray = self.columns[0]
        return related

    @property
    def similar(self) -> np.ndarray:
        similar: np.ndarray = self.columns[1].astype(np.bool_)
        return similar

    @property
    def positions(self) -> np.ndarray:
        positions: np.ndarray = self.columns[2]
        return positions

    @classmethod
    def of(cls, related: np.ndarray, similar: np.ndarray, positions: np.ndarray) -> TitleRelations:
        """From every relation of the title. How much the user liked the title scales all its
        relations alike, so which one is stronger is known before any user is."""
        order = np.lexsort(
            (-relation_strengths(np.ones(len(related)), similar, positions), related)
        )
        first = np.ones(len(order), dtype=bool)
        first[1:] = related[order][1:] != related[order][:-1]
        kept = order[first]
        return cls(
            np.stack([related[kept], similar[kept], positions[kept]]).astype(np.int64, copy=False)
        )

    def read_only(self) -> TitleRelations:
        """Shared by every ranking of a process: nobody may write into it."""
        self.columns.flags.writeable = False
        return self


@dataclass(frozen=True)
class Seeds:
    """The user's titles that may point at candidates, with their liking (0.5..1)."""

    item_ids: np.ndarray
    progress: np.ndarray
    ratings: np.ndarray  # NaN: not rated
    weights: np.ndarray


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


def seed_progress(title: TitleHistory) -> float:
    """How far the user got: a finished title counts as seen to the end, whatever the player
    reported."""
    return 1.0 if title.finished else title.max_progress


def seeds_of(titles: Iterable[TitleHistory]) -> Seeds:
    """A title the user got at least half way into (or finished) or rated 6/10 or more, unless
    their latest rating of it is below 6."""
    chosen = [
        (t.item_id, seed_progress(t), np.nan if t.rating is None else t.rating)
        for t in titles
        if (t.rating >= SEED_RATING if t.rating is not None else seed_progress(t) >= SEED_PROGRESS)
    ]
    item_ids = np.array([c[0] for c in chosen], dtype=np.int64)
    progress = np.array([c[1] for c in chosen], dtype=np.float64)
    ratings = np.array([c[2] for c in chosen], dtype=np.float64)
    return Seeds(item_ids, progress, ratings, seed_weights(progress, ratings))


def seed_weights(progress: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    """0.5..1: the rating when the user gave one, else how far they got."""
    rated = np.clip(np.nan_to_num(ratings) / 10.0, 0.0, 1.0)
    return np.where(np.isnan(ratings), np.clip(progress / COMPLETED_AT, 0.0, 1.0), rated)


def position_weights(positions: np.ndarray) -> np.ndarray:
    weights: np.ndarray = 1.0 / (1.0 + np.maximum(positions, 0) / POSITION_HALF)
    return weights


def relation_strengths(
    seed_weight: np.ndarray, similar: np.ndarray, positions: np.ndarray
) -> np.ndarray:
    kind = np.where(similar, KIND_WEIGHTS["similar"], KIND_WEIGHTS["recommended"])
    strengths: np.ndarray = seed_weight * kind * position_weights(positions)
    return strengths


@dataclass(frozen=True)
class Links:
    """Relations from the user's seeds, one entry per (seed, related title), by the seed's
    strongest relation to it: which seed (an index into the Seeds), the related item, its kind,
    place and strength."""

    seed: np.ndarray
    related: np.ndarray
    similar: np.ndarray
    positions: np.ndarray
    strengths: np.ndarray

    @classmethod
    def of(cls, seeds: Seeds, relations: Mapping[int, TitleRelations]) -> Links:
        parts = [
            (n, relations[item_id])
            for n, item_id in enumerate(seeds.item_ids.tolist())
            if item_id in relations
        ]
        counts = np.array([r.columns.shape[1] for _, r in parts], dtype=np.int64)
        seed = np.repeat(np.array([n for n, _ in parts], dtype=np.int64), counts)
        columns = (
            np.concatenate([r.columns for _, r in parts], axis=1)
            if parts
            else np.zeros((3, 0), dtype=np.int64)
        )
        related, similar, positions = columns[0], columns[1].astype(np.bool_), columns[2]
        strengths = relation_strengths(seeds.weights[seed], similar, positions)
        return cls(seed, related, similar, positions, strengths)

    def where(self, keep: np.ndarray) -> Links:
        return Links(
            self.seed[keep],
            self.related[keep],
            self.similar[keep],
            self.positions[keep],
            self.strengths[keep],
        )


@dataclass(frozen=True)
class Pool:
    """Every candidate once, strongest first (ties by item id): its priority and, when
    trending, its place in the trending list (-1 when not)."""

    item_ids: np.ndarray
    priorities: np.ndarray
    trending_positions: np.ndarray


def candidate_pool(links: Links, trending_ids: np.ndarray, trending_positions: np.ndarray) -> Pool:
    """Several liked titles pointing at one candidate add up (each seed once, by its strongest
    relation); trending adds a fixed share."""
    item_ids, inverse = np.unique(
        np.concatenate([links.related, trending_ids.astype(np.int64)]), return_inverse=True
    )
    related_part, trending_part = inverse[: len(links.related)], inverse[len(links.related) :]
    priorities = np.asarray(
        np.bincount(related_part, weights=links.strengths, minlength=len(item_ids)),
        dtype=np.float64,
    )
    priorities[trending_part] += TRENDING_PRIORITY * position_weights(trending_positions)
    positions = np.full(len(item_ids), -1, dtype=np.int64)
    positions[trending_part] = trending_positions
    order = np.lexsort((item_ids, -priorities))
    return Pool(item_ids[order], priorities[order], positions[order])


class RelatedTo:
    """Each candidate's seeds, strongest first, built from the relations when asked for."""

    def __init__(self, links: Links, seeds: Seeds, titles: Mapping[int, TitleFacts]) -> None:
        """``titles``: the facts of the seeds; a seed without them is not named. The links are
        put in the order every answer wants (by candidate, then strongest first, then by the
        seed's title and id) once, so that each answer is a slice."""
        seed_ids = seeds.item_ids.tolist()
        named = sorted(
            (facts.title, item_id, n)
            for n, item_id in enumerate(seed_ids)
            if (facts := titles.get(item_id)) is not None and facts.tmdb_id is not None
        )
        by_title = np.full(len(seed_ids), -1, dtype=np.int64)
        by_title[[n for _, _, n in named]] = np.arange(len(named))
        place = by_title[links.seed]
        links = links.where(place >= 0)
        order = np.lexsort((place[place >= 0], -links.strengths, links.related))
        self._links = links.where(order)
        self._seeds = seeds
        self._titles = titles

    def of(self, item_id: int) -> tuple[RelatedSeed, ...]:
        """One entry per seed title (its strongest relation), strongest first."""
        entries = []
        for n in self._slice(item_id):
            seed = int(self._links.seed[n])
            seed_id = int(self._seeds.item_ids[seed])
            facts = self._titles[seed_id]
            rating = float(self._seeds.ratings[seed])
            entries.append(
                RelatedSeed(
                    item_id=seed_id,
                    tmdb_id=facts.tmdb_id or 0,
                    media_type=facts.media_type or "movie",
                    title=facts.title,
                    kind="similar" if self._links.similar[n] else "recommended",
                    position=int(self._links.positions[n]),
                    finished=bool(self._seeds.progress[seed] >= COMPLETED_AT),
                    rating=None if np.isnan(rating) else rating,
                    strength=float(self._links.strengths[n]),
                )
            )
        return tuple(entries)

    def titles(self, item_id: int, count: int) -> tuple[str, ...]:
        """The titles of the ``count`` strongest seeds: what an explanation names (a popular
        candidate is related to dozens of a long history's titles)."""
        seeds = self._links.seed[self._slice(item_id)[:count]]
        return tuple(self._titles[i].title for i in self._seeds.item_ids[seeds].tolist())

    def _slice(self, item_id: int) -> range:
        related = self._links.related
        return range(
            int(related.searchsorted(item_id)), int(related.searchsorted(item_id, side="right"))
        )


@dataclass(frozen=True)
class GrabPool:
    """The candidates that may be offered, strongest first (ties by item id), with what scoring
    every one of them needs as arrays; facts and vectors are read only for those refined."""

    item_ids: np.ndarray
    tv: np.ndarray
    priorities: np.ndarray
    trending_positions: np.ndarray  # -1: not trending
    vote_averages: np.ndarray  # NaN: no votes known
    vote_counts: np.ndarray
    # The relations behind the candidates (titles in a library or seen by the user left out),
    # and the seeds they start from: what a refined candidate's related_to is built from.
    links: Links
    seeds: Seeds

    def __len__(self) -> int:
        return len(self.item_ids)

    @property
    def trending(self) -> np.ndarray:
        trending: np.ndarray = self.trending_positions >= 0
        return trending

    def subset(self, positions: np.ndarray) -> GrabPool:
        return GrabPool(
            self.item_ids[positions],
            self.tv[positions],
            self.priorities[positions],
            self.trending_positions[positions],
            self.vote_averages[positions],
            self.vote_counts[positions],
            self.links,
            self.seeds,
        )

    def links_to(self, item_ids: np.ndarray) -> Links:
        """The relations pointing at these candidates only: a ranking names the seeds of the
        few hundred it refines, not of the thousands in the pool."""
        return self.links.where(np.isin(self.links.related, item_ids))

    def digest_bytes(self) -> bytes:
        """What a ranking's input hash needs of the pool."""
        return (
            self.item_ids.tobytes()
            + np.round(self.priorities, 4).tobytes()
            + self.trending_positions.tobytes()
        )
