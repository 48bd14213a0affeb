"""Scoring candidate titles against a taste profile, and saying which watched titles drove it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from recommendarr.shared.domain.explain import Influence, explain_pick
from recommendarr.shared.domain.taste import TasteProfile, TitleFacts, TitleHistory

ANTI_WEIGHT = 0.3
GENRE_WEIGHT = 0.10
PERSON_WEIGHT = 0.05
MAX_INFLUENCES = 3


@dataclass(frozen=True)
class Candidate:
    item_id: int
    facts: TitleFacts
    vector: np.ndarray


@dataclass(frozen=True)
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
    if profile.centroid is None or not candidates:
        return []
    matrix = np.stack([c.vector for c in candidates])
    content = matrix @ profile.centroid
    anti = (
        matrix @ profile.anti_profile
        if profile.anti_profile is not None
        else np.zeros(len(candidates))
    )
    genre = np.array([genre_affinity(c.facts, profile.genre_weights) for c in candidates])
    person = np.array([person_affinity(c.facts, profile.person_weights)[0] for c in candidates])
    scores = content - ANTI_WEIGHT * anti + GENRE_WEIGHT * genre + PERSON_WEIGHT * person
    order = np.argsort(-scores, kind="stable")[:limit]
    liked_ids = [i for i in profile.item_weights if i in vectors]
    liked = (
        np.stack([vectors[i] for i in liked_ids]) if liked_ids else np.zeros((0, matrix.shape[1]))
    )
    picks = []
    for index in order:
        candidate = candidates[int(index)]
        signals = {
            "content_similarity": round(float(content[index]), 4),
            "anti_similarity": round(float(anti[index]), 4),
            "genre_affinity": round(float(genre[index]), 4),
            "person_affinity": round(float(person[index]), 4),
        }
        influences = top_influences(candidate, liked_ids, liked, profile, history, facts)
        signals["neighbor_similarity"] = round(influences[0].similarity, 4) if influences else 0.0
        picks.append(
            Pick(
                item_id=candidate.item_id,
                score=round(float(scores[index]), 4),
                confidence=confidence(
                    signals["neighbor_similarity"], float(content[index]), profile
                ),
                signals=signals,
                influenced_by=influences,
                explanation=explain_pick(candidate.facts, influences, signals, profile),
            )
        )
    return picks


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


def top_influences(
    candidate: Candidate,
    liked_ids: Sequence[int],
    liked: np.ndarray,
    profile: TasteProfile,
    history: Mapping[int, TitleHistory],
    facts: Mapping[int, TitleFacts],
) -> list[Influence]:
    if not liked_ids:
        return []
    similarity = liked @ candidate.vector
    weights = np.array([profile.item_weights[i] for i in liked_ids])
    pull = similarity * np.sqrt(weights)
    influences = []
    for index in np.argsort(-pull, kind="stable")[:MAX_INFLUENCES]:
        item_id = liked_ids[int(index)]
        if similarity[index] <= 0.05:
            break
        title = history.get(item_id)
        watched = facts.get(item_id)
        if title is None or watched is None:
            continue
        influences.append(
            Influence(
                item_id=item_id,
                title=watched.title,
                tmdb_id=watched.tmdb_id,
                media_type=watched.media_type,
                similarity=float(similarity[index]),
                finished=title.finished,
                rewatched=title.completions > 1,
                shared_people=tuple(shared_people(candidate.facts, watched)),
            )
        )
    return influences


def shared_people(candidate: TitleFacts, watched: TitleFacts) -> list[str]:
    theirs = set(watched.directors) | set(watched.cast[:5])
    return [p for p in (*candidate.directors, *candidate.cast[:5]) if p in theirs]


def confidence(neighbor: float, content: float, profile: TasteProfile) -> str:
    """High needs both a close watched neighbour and enough history to trust the profile."""
    if profile.n_titles >= 5 and neighbor >= 0.45 and content >= 0.3:
        return "high"
    if neighbor >= 0.25 and content >= 0.15:
        return "medium"
    return "low"
