"""From raw viewings to a taste profile. Watched is not liked: completion, rewatches, abandons
and ratings decide how much (and in which direction) a title counts.

The weights are DESIGN section 6's seeds, to be tuned by the offline evaluation.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

COMPLETION_WEIGHT = 0.35
REWATCH_WEIGHT = 0.20
RATING_WEIGHT = 0.15
COMPLETED_AT = 0.85
ABANDONED_BELOW = 0.20
RECENCY_HALF_LIFE_DAYS = 180.0
DOMAINS = ("movies", "tv", "anime")


# Not frozen, but treated as values: a ranking builds thousands of these, and a frozen
# dataclass's __init__ is about five times slower (it sets each field through object.__setattr__).
@dataclass(slots=True)
class Viewing:
    item_id: int
    domain: str
    action: str
    progress: float | None
    rating: float | None
    session_key: str | None
    occurred_at: datetime


@dataclass(slots=True)
class TitleHistory:
    """Everything one user did with one title."""

    item_id: int
    domain: str
    max_progress: float
    completions: int
    abandoned: bool
    rating: float | None
    last_seen: datetime
    first_seen: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.completions > 0


@dataclass(slots=True)
class TitleFacts:
    """The facts of a watched title the profile keeps affinities for."""

    title: str
    genres: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    tmdb_id: int | None = None
    media_type: str | None = None


@dataclass(frozen=True)
class MoodCluster:
    """One of the moods a user's liked titles fall into: its centroid, its share of the user's
    positive weight, and its titles (strongest first)."""

    centroid: np.ndarray
    weight: float
    item_ids: tuple[int, ...]


@dataclass
class TasteProfile:
    domain: str
    centroid: np.ndarray | None
    anti_profile: np.ndarray | None
    item_weights: dict[int, float] = field(default_factory=dict)
    abandoned: dict[int, float] = field(default_factory=dict)
    genre_weights: dict[str, float] = field(default_factory=dict)
    person_weights: dict[str, float] = field(default_factory=dict)
    clusters: list[MoodCluster] = field(default_factory=list)

    @property
    def n_titles(self) -> int:
        return len(self.item_weights) + len(self.abandoned)


def summarize_titles(viewings: Iterable[Viewing]) -> list[TitleHistory]:
    by_item: dict[int, list[Viewing]] = defaultdict(list)
    for viewing in viewings:
        by_item[viewing.item_id].append(viewing)
    return [summarize_title(item_id, rows) for item_id, rows in sorted(by_item.items())]


def summarize_title(item_id: int, rows: Sequence[Viewing]) -> TitleHistory:
    if len(rows) == 1:
        return summarize_viewing(item_id, rows[0])
    progresses = [r.progress for r in rows if r.progress is not None]
    max_progress = max(progresses, default=0.0)
    completed_sessions = {
        r.session_key or r.occurred_at.date().isoformat()
        for r in rows
        if r.action == "watched" or (r.action == "stop" and (r.progress or 0.0) >= COMPLETED_AT)
    }
    ratings = [r.rating for r in sorted(rows, key=lambda r: r.occurred_at) if r.rating is not None]
    stopped = any(r.action == "stop" for r in rows)
    return TitleHistory(
        item_id=item_id,
        domain=rows[0].domain,
        max_progress=max_progress,
        completions=len(completed_sessions),
        abandoned=stopped and not completed_sessions and max_progress < ABANDONED_BELOW,
        rating=ratings[-1] if ratings else None,
        last_seen=max(r.occurred_at for r in rows),
        first_seen=min(r.occurred_at for r in rows),
    )


def summarize_viewing(item_id: int, row: Viewing) -> TitleHistory:
    """``summarize_title`` of a title seen once (most of a history): the same answer, without
    building the sets and lists a title seen several times needs."""
    progress = row.progress if row.progress is not None else 0.0
    completed = row.action == "watched" or (row.action == "stop" and progress >= COMPLETED_AT)
    return TitleHistory(
        item_id=item_id,
        domain=row.domain,
        max_progress=progress,
        completions=int(completed),
        abandoned=row.action == "stop" and not completed and progress < ABANDONED_BELOW,
        rating=row.rating,
        last_seen=row.occurred_at,
        first_seen=row.occurred_at,
    )


def recency_decay(last_seen: datetime, now: datetime) -> float:
    age_days = max(0.0, (now - last_seen).total_seconds() / 86400.0)
    return math.pow(0.5, age_days / RECENCY_HALF_LIFE_DAYS)


def rating_term(rating: float | None) -> float:
    """Ratings are on 0-10 (Plex) or 0-5 stars scaled to 10; 6/10 is neutral."""
    if rating is None:
        return 0.0
    return max(-1.0, min(1.0, (rating - 6.0) / 4.0))


def positive_weight(title: TitleHistory, now: datetime) -> float:
    """How much a title pulls the profile towards itself (0 for abandons and dislikes)."""
    if title.abandoned:
        return 0.0
    weight = COMPLETION_WEIGHT * title.max_progress
    weight += REWATCH_WEIGHT * min(1.0, float(max(0, title.completions - 1)))
    weight += RATING_WEIGHT * rating_term(title.rating)
    return max(0.0, weight) * recency_decay(title.last_seen, now)


def negative_weight(title: TitleHistory, now: datetime) -> float:
    """Abandoned early is a strong negative; a low rating is one too."""
    weight = 0.0
    if title.abandoned:
        weight += 1.0 - title.max_progress / ABANDONED_BELOW * 0.5
    if title.rating is not None and rating_term(title.rating) < 0:
        weight += -rating_term(title.rating)
    return weight * recency_decay(title.last_seen, now)


def build_profile(
    domain: str,
    titles: Sequence[TitleHistory],
    vectors: Mapping[int, np.ndarray],
    facts: Mapping[int, TitleFacts],
    now: datetime,
) -> TasteProfile:
    profile = TasteProfile(domain=domain, centroid=None, anti_profile=None)
    for title in titles:
        if title.domain != domain:
            continue
        positive = positive_weight(title, now)
        negative = negative_weight(title, now)
        if positive > 0:
            profile.item_weights[title.item_id] = round(positive, 6)
        if negative > 0:
            profile.abandoned[title.item_id] = round(negative, 6)
    profile.centroid = weighted_mean(profile.item_weights, vectors)
    profile.anti_profile = weighted_mean(profile.abandoned, vectors)
    profile.genre_weights = affinities(profile.item_weights, facts, lambda f: f.genres)
    profile.person_weights = affinities(
        profile.item_weights, facts, lambda f: (*f.directors, *f.cast[:3])
    )
    profile.clusters = mood_clusters(profile.item_weights, vectors)
    return profile


TITLES_PER_MOOD = 8
MAX_MOODS = 4
KMEANS_ROUNDS = 25


def mood_clusters(
    weights: Mapping[int, float], vectors: Mapping[int, np.ndarray]
) -> list[MoodCluster]:
    """Weighted spherical k-means over the liked titles' vectors: someone who loves both horror
    and animation has two moods, and a single centroid sits between them, near neither.
    One mood per ``TITLES_PER_MOOD`` liked titles, at most ``MAX_MOODS``; deterministic."""
    ids = sorted(i for i in weights if i in vectors and weights[i] > 0)
    k = min(MAX_MOODS, len(ids) // TITLES_PER_MOOD)
    if k < 2:
        return []
    matrix = np.stack([vectors[i] for i in ids]).astype(np.float64)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    mass = np.array([weights[i] for i in ids])
    centroids = farthest_first(matrix, mass, k)
    labels = np.zeros(len(ids), dtype=np.int64)
    for _ in range(KMEANS_ROUNDS):
        labels = np.argmax(matrix @ centroids.T, axis=1)
        moved = np.stack(
            [
                (mass[labels == c, None] * matrix[labels == c]).sum(axis=0)
                if (labels == c).any()
                else centroids[c]
                for c in range(k)
            ]
        )
        moved /= np.maximum(np.linalg.norm(moved, axis=1, keepdims=True), 1e-12)
        if np.allclose(moved, centroids):
            break
        centroids = moved
    total = float(mass.sum())
    moods = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if not len(members):
            continue
        strongest = members[np.argsort(-mass[members], kind="stable")]
        moods.append(
            MoodCluster(
                centroid=centroids[c].astype(np.float32),
                weight=round(float(mass[members].sum()) / total, 4),
                item_ids=tuple(ids[int(n)] for n in strongest),
            )
        )
    return sorted(moods, key=lambda m: -m.weight)


def farthest_first(matrix: np.ndarray, mass: np.ndarray, k: int) -> np.ndarray:
    """Deterministic seeds: the most liked title, then each time the title least like any seed."""
    chosen = [int(np.argmax(mass))]
    closest = matrix @ matrix[chosen[0]]
    while len(chosen) < k:
        chosen.append(int(np.argmin(closest)))
        closest = np.maximum(closest, matrix @ matrix[chosen[-1]])
    centroids: np.ndarray = matrix[chosen].copy()
    return centroids


def weighted_mean(
    weights: Mapping[int, float], vectors: Mapping[int, np.ndarray]
) -> np.ndarray | None:
    present = [(vectors[i], w) for i, w in weights.items() if i in vectors and w > 0]
    if not present:
        return None
    total = np.sum([v * w for v, w in present], axis=0)
    norm = float(np.linalg.norm(total))
    return None if norm == 0.0 else (total / norm).astype(np.float32)


def affinities(
    weights: Mapping[int, float],
    facts: Mapping[int, TitleFacts],
    keys: Callable[[TitleFacts], Iterable[str]],
) -> dict[str, float]:
    """Each genre's or person's share of the user's positive weight, top scaled to 1."""
    totals: dict[str, float] = defaultdict(float)
    for item_id, weight in weights.items():
        if item_id in facts:
            for key in keys(facts[item_id]):
                totals[key] += weight
    if not totals:
        return {}
    top = max(totals.values())
    return {k: round(v / top, 4) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])[:50]}


def input_hash(viewings: Sequence[Viewing], model: str, vector_ids: Iterable[int]) -> str:
    """What a profile was built from; equal hashes mean a rebuild would change nothing."""
    digest = hashlib.sha256(model.encode())
    for v in sorted(viewings, key=lambda v: (v.item_id, v.occurred_at, v.action)):
        digest.update(
            f"{v.item_id}|{v.action}|{v.progress}|{v.rating}|{v.occurred_at.isoformat()}".encode()
        )
    digest.update(",".join(str(i) for i in sorted(vector_ids)).encode())
    return digest.hexdigest()[:32]
