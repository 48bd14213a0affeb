"""Scoring candidate titles against a taste profile, and saying which watched titles drove it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from recommendarr.shared.domain.explain import Influence, PickContext, explain
from recommendarr.shared.domain.taste import TasteProfile, TitleFacts, TitleHistory

ANTI_WEIGHT = 0.3
# The taste model's scores are standardized (one unit = one standard deviation over the
# catalog), so the pull of abandoned titles is stated on that scale.
MODEL_ANTI_WEIGHT = 2.0
GENRE_WEIGHT = 0.10
PERSON_WEIGHT = 0.05
MAX_INFLUENCES = 3
MAX_LIKED_INFLUENCES = 300


# Not frozen, but treated as values: a ranking builds thousands of these, and a frozen
# dataclass's __init__ is about five times slower (it sets each field through object.__setattr__).
@dataclass(slots=True)
class Candidate:
    item_id: int
    facts: TitleFacts
    vector: np.ndarray


@dataclass(slots=True)
class Pick:
    item_id: int
    score: float
    confidence: str
    signals: dict[str, float]
    influenced_by: list[Influence] = field(default_factory=list)
    explanation: str = ""


def rank_candidates(
    profile: TasteProfile,
    candidates: Sequence[Candidate],
    history: Mapping[int, TitleHistory],
    vectors: Mapping[int, np.ndarray],
    facts: Mapping[int, TitleFacts],
    limit: int,
) -> list[Pick]:
    """Content-only ranking, for a server whose taste model has not been fitted yet."""
    if profile.centroid is None or not candidates:
        return []
    matrix = np.stack([c.vector for c in candidates])
    content = matrix @ profile.centroid
    genre = np.array([genre_affinity(c.facts, profile.genre_weights) for c in candidates])
    person = np.array([person_affinity(c.facts, profile.person_weights)[0] for c in candidates])
    base = content + GENRE_WEIGHT * genre + PERSON_WEIGHT * person
    return refine(
        profile, candidates, base, [{} for _ in candidates], history, vectors, facts, limit
    )


Explainer = Callable[[Candidate, Sequence[Influence], Mapping[str, float], TasteProfile], str]


def default_explainer(
    candidate: Candidate,
    influences: Sequence[Influence],
    signals: Mapping[str, float],
    profile: TasteProfile,
) -> str:
    return explain(candidate.facts, influences, signals, profile, PickContext("tonight"))


def refine(
    profile: TasteProfile,
    candidates: Sequence[Candidate],
    base: np.ndarray,
    extra_signals: Sequence[Mapping[str, float]],
    history: Mapping[int, TitleHistory],
    vectors: Mapping[int, np.ndarray],
    facts: Mapping[int, TitleFacts],
    limit: int,
    explainer: Explainer = default_explainer,
    anti_weight: float = ANTI_WEIGHT,
    liked: LikedTitles | None = None,
) -> list[Pick]:
    """The final order: ``base`` less the pull of what the user abandoned, each pick with its
    signals, the watched titles that drove it, and an explanation. ``extra_signals`` are the
    caller's, already rounded (signal_rows). ``liked`` may be passed when already built for
    this profile, these vectors and this history (a ranking refines several pools)."""
    if not candidates:
        return []
    matrix = np.stack([c.vector for c in candidates])
    content = matrix @ profile.centroid if profile.centroid is not None else np.zeros(len(base))
    anti = (
        matrix @ profile.anti_profile
        if profile.anti_profile is not None
        else np.zeros(len(candidates))
    )
    moods = (
        matrix @ np.stack([c.centroid for c in profile.clusters]).T
        if profile.clusters
        else np.zeros((len(candidates), 0))
    )
    # A title the user asked for anyway keeps its place whatever it resembles.
    asked = np.array(["allow" in signals for signals in extra_signals], dtype=bool)
    scores = base - anti_weight * np.where(asked, 0.0, np.maximum(anti, 0.0))
    order = np.argsort(-scores, kind="stable")[:limit]
    liked = liked or LikedTitles.of(profile, vectors)
    notes = liked.notes(history, facts)
    neighbours = liked.similarity(matrix[order])
    pulls = strongest_pulls(neighbours, liked.ids, profile, liked.root_weights)
    # Rounded and converted for every pick at once: per-pick numpy calls would cost more than
    # the rest of the loop.
    content_of = rounded(content[order])
    raw_content = content[order].tolist()
    anti_of = rounded(anti[order])
    scores_of = rounded(scores[order])
    moods_of = mood_columns(moods[order])
    # A few dozen genre combinations cover hundreds of picks.
    genre_of: dict[tuple[str, ...], float] = {}
    picks = []
    for position, index in enumerate(order.tolist()):
        candidate = candidates[index]
        genres = candidate.facts.genres
        genre = genre_of.get(genres)
        if genre is None:
            genre = genre_of[genres] = round(
                genre_affinity(candidate.facts, profile.genre_weights), 4
            )
        signals = {
            **extra_signals[index],
            "content_similarity": content_of[position],
            "anti_similarity": anti_of[position],
            "genre_affinity": genre,
            "person_affinity": round(
                person_affinity(candidate.facts, profile.person_weights)[0], 4
            ),
            **moods_of[position],
        }
        influences = influences_of(candidate, notes, pulls[position])
        signals["neighbor_similarity"] = round(influences[0].similarity, 4) if influences else 0.0
        picks.append(
            Pick(
                item_id=candidate.item_id,
                score=scores_of[position],
                confidence=confidence(
                    signals["neighbor_similarity"], raw_content[position], profile, signals
                ),
                signals=signals,
                influenced_by=influences,
                explanation=explainer(candidate, influences, signals, profile),
            )
        )
    return picks


def strongest_liked(profile: TasteProfile, vectors: Mapping[int, np.ndarray]) -> list[int]:
    """The liked titles that may be named as influences: the most liked ones. A title liked a
    tenth as much as the top ones is rarely what drives a pick, and comparing every candidate
    with every one of a long history costs more than the rest of the ranking."""
    ranked = sorted(profile.item_weights.items(), key=lambda kv: (-kv[1], kv[0]))
    return [i for i, _ in ranked if i in vectors][:MAX_LIKED_INFLUENCES]


def signal_rows(columns: Mapping[str, np.ndarray | float], count: int) -> list[dict[str, float]]:
    """``count`` picks' signals from one column (or one value for all) per signal, each column
    rounded to 4 places at once rather than value by value."""
    names = list(columns)
    values = [
        rounded(np.broadcast_to(np.asarray(columns[name], dtype=np.float64), (count,)))
        for name in names
    ]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)] or [
        {} for _ in range(count)
    ]


def rounded(values: np.ndarray) -> list[float]:
    """To 4 places, as Python floats. Vectors are float32: rounded in float32, 0.5312 comes out
    as 0.5311999917030334 in the picks' JSON."""
    as_list: list[float] = np.round(values.astype(np.float64), 4).tolist()
    return as_list


def mood_signals(similarities: np.ndarray) -> dict[str, float]:
    """Which of the user's moods the pick belongs to (1 = their biggest), and how closely."""
    return mood_columns(similarities[None, :])[0]


def mood_columns(similarities: np.ndarray) -> list[dict[str, float]]:
    """``mood_signals`` of every row of a picks x moods matrix."""
    if not similarities.shape[1]:
        return [{} for _ in range(len(similarities))]
    best = np.argmax(similarities, axis=1)
    closeness = rounded(similarities[np.arange(len(best)), best])
    return [
        {"mood": float(b + 1), "mood_similarity": c}
        for b, c in zip(best.tolist(), closeness, strict=True)
    ]


@dataclass(slots=True)
class LikedNote:
    """What an influence may say of one liked title: from the user's history and its facts."""

    item_id: int
    title: str
    tmdb_id: int | None
    media_type: str | None
    finished: bool
    rewatched: bool
    rating: float | None
    # Whom it may be said to share with a pick: its directors and top cast.
    people: frozenset[str]


@dataclass(slots=True)
class LikedTitles:
    """The liked titles that may be named as influences, their vectors stacked and the square
    roots of their weights. Built for one ranking: ``notes`` are read from that ranking's
    history and facts, once for all its modes."""

    ids: list[int]
    matrix: np.ndarray
    root_weights: np.ndarray
    named: list[LikedNote | None] | None = None

    @classmethod
    def of(cls, profile: TasteProfile, vectors: Mapping[int, np.ndarray]) -> LikedTitles:
        ids = strongest_liked(profile, vectors)
        matrix = np.stack([vectors[i] for i in ids]) if ids else np.zeros((0, 0))
        root_weights = np.sqrt(np.array([profile.item_weights[i] for i in ids]))
        return cls(ids, matrix, root_weights)

    def similarity(self, candidates: np.ndarray) -> np.ndarray:
        """Similarity of each candidate row to each liked title (one product for all)."""
        if not self.ids or candidates.size == 0:
            return np.zeros((len(candidates), 0))
        similarity: np.ndarray = candidates @ self.matrix.T
        return similarity

    def notes(
        self, history: Mapping[int, TitleHistory], facts: Mapping[int, TitleFacts]
    ) -> list[LikedNote | None]:
        """Per liked title (in ``ids`` order) what an influence says of it; None when its
        history or facts are missing. The same few liked titles drive most of a ranking's
        picks: reading them per pick was most of the time spent naming influences."""
        if self.named is None:
            self.named = [liked_note(i, history.get(i), facts.get(i)) for i in self.ids]
        return self.named


def liked_note(
    item_id: int, title: TitleHistory | None, watched: TitleFacts | None
) -> LikedNote | None:
    if title is None or watched is None:
        return None
    return LikedNote(
        item_id=item_id,
        title=watched.title,
        tmdb_id=watched.tmdb_id,
        media_type=watched.media_type,
        finished=title.finished,
        rewatched=title.completions > 1,
        rating=title.rating,
        people=frozenset((*watched.directors, *watched.cast[:5])),
    )


def genre_affinity(facts: TitleFacts, weights: Mapping[str, float]) -> float:
    if not facts.genres:
        return 0.0
    # Called once per candidate: plain arithmetic, numpy's per-call overhead would dominate.
    top = sorted((weights.get(g, 0.0) for g in facts.genres), reverse=True)[:2]
    return sum(top) / len(top)


def person_affinity(facts: TitleFacts, weights: Mapping[str, float]) -> tuple[float, str | None]:
    """The strongest affinity among the title's director and top cast, and whose it is."""
    best, who = 0.0, None
    for person in (*facts.directors, *facts.cast[:3]):
        weight = weights.get(person, 0.0)
        if weight > best:
            best, who = weight, person
    return best, who


def strongest_pulls(
    similarity: np.ndarray,
    liked_ids: Sequence[int],
    profile: TasteProfile,
    root_weights: np.ndarray | None = None,
) -> list[list[tuple[int, float]]]:
    """Per row of a candidates x liked-titles similarity matrix, the MAX_INFLUENCES
    strongest pulls, strongest first, as (column, similarity): taken out of numpy for all rows
    at once, which per pick would cost more than the rest of it."""
    if not liked_ids or not similarity.size:
        return [[] for _ in range(len(similarity))]
    if root_weights is None:
        root_weights = np.sqrt(np.array([profile.item_weights[i] for i in liked_ids]))
    pull = similarity * root_weights
    count = min(MAX_INFLUENCES, pull.shape[1])
    strongest = np.argpartition(-pull, count - 1, axis=1)[:, :count]
    rows = np.arange(len(pull))[:, None]
    ranked = np.argsort(-pull[rows, strongest], axis=1, kind="stable")
    columns = np.take_along_axis(strongest, ranked, axis=1)
    closeness = np.take_along_axis(similarity, columns, axis=1).tolist()
    return [
        list(zip(row, close, strict=True))
        for row, close in zip(columns.tolist(), closeness, strict=True)
    ]


def influences_of(
    candidate: Candidate,
    notes: Sequence[LikedNote | None],
    pulls: Sequence[tuple[int, float]],
) -> list[Influence]:
    """The liked titles behind the pick's strongest pulls (columns of ``notes``), strongest
    first, each naming the people it shares with the pick."""
    own = (*candidate.facts.directors, *candidate.facts.cast[:5])
    influences = []
    for index, closeness in pulls:
        if closeness <= 0.05:
            break
        note = notes[index]
        if note is None:
            continue
        influences.append(
            Influence(
                item_id=note.item_id,
                title=note.title,
                tmdb_id=note.tmdb_id,
                media_type=note.media_type,
                similarity=closeness,
                finished=note.finished,
                rewatched=note.rewatched,
                # Most picks share nobody with their influences: no tuple built for them.
                shared_people=()
                if note.people.isdisjoint(own)
                else tuple(p for p in own if p in note.people),
                rating=note.rating,
            )
        )
    return influences


def confidence(
    neighbor: float,
    content: float,
    profile: TasteProfile,
    signals: Mapping[str, float] | None = None,
) -> str:
    """High needs enough history and either a close watched neighbour or a strong pattern among
    this server's viewers that the model trusts."""
    signals = signals or {}
    strong_pattern = signals.get("collaborative", 0.0) >= 2.0 and signals.get("trust", 0.0) >= 0.3
    if profile.n_titles >= 5 and ((neighbor >= 0.45 and content >= 0.3) or strong_pattern):
        return "high"
    if neighbor >= 0.25 and content >= 0.15:
        return "medium"
    return "low"
