"""A user's own corrections applied on top of the model's scores: influence overrides (boost,
suppress, block, allow a genre, a person or a title) and the shadow of titles they hid.

Scores come in standardized per user (about zero mean, unit variance), so every magnitude below
is in the user's own standard deviations and means the same thing for every user:

* boost / suppress of a genre or person: +0.5 / -0.75. Enough to move a title about a fifth of
  the way through a typical list, never enough on its own to turn a poor match into a top pick.
  Suppress is stronger than boost: people suppress what annoys them and expect to notice it.
  When several of a title's genres (or people) match, only the strongest boost and the strongest
  suppress count, so a title with three boosted genres is not tripled.
* boost / suppress of a title: +1.0 / -1.0, an explicit word about that very title.
* block (genre, person or title): the title is removed (score -inf).
* allow (titles only): "recommend it anyway". The title beats every block and lands above the
  best other title, by ALLOW_LIFT, keeping the order among allowed titles.
* hidden: a title similar to one the user hid (until the hide expires) loses up to 1.5 standard
  deviations, growing linearly from nothing at cosine HIDE_SIMILARITY_FLOOR to the full
  penalty at 1.0. The floor sits above what unrelated titles share in the built-in hashed
  embedding (~0.03) and what titles sharing only a genre share (~0.2); a neural embedding with a
  higher baseline wants a higher floor, so both are parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from recommendarr.shared.domain.taste import TitleFacts

KINDS = ("genre", "person", "title")
ACTIONS = ("boost", "suppress", "block", "allow")

GENRE_BOOST = 0.5
GENRE_SUPPRESS = -0.75
PERSON_BOOST = 0.5
PERSON_SUPPRESS = -0.75
TITLE_BOOST = 1.0
TITLE_SUPPRESS = -1.0
ALLOW_LIFT = 1.0
HIDE_SIMILARITY_FLOOR = 0.35
HIDE_PENALTY = 1.5

DELTAS = {
    ("genre", "boost"): GENRE_BOOST,
    ("genre", "suppress"): GENRE_SUPPRESS,
    ("person", "boost"): PERSON_BOOST,
    ("person", "suppress"): PERSON_SUPPRESS,
    ("title", "boost"): TITLE_BOOST,
    ("title", "suppress"): TITLE_SUPPRESS,
}


@dataclass(frozen=True)
class Override:
    kind: str  # 'genre' | 'person' | 'title'
    key: str  # genre name, person name, or 'movie:603' / 'tv:1399'
    action: str  # 'boost' | 'suppress' | 'block' | 'allow'
    id: int | None = None


@dataclass(frozen=True)
class Adjusted:
    scores: np.ndarray  # new scores; blocked titles are -np.inf
    # Per candidate, the adjustments applied, in standard deviations: boost_genre,
    # suppress_genre, boost_person, suppress_person, boost_title, suppress_title,
    # hidden_similarity, allow (the lift given). block_genre / block_person / block_title are
    # flags (1.0): the score itself is -inf.
    notes: list[dict[str, float]]
    # Per candidate, the overrides that matched it (for explanations).
    matched: list[tuple[Override, ...]] = field(default_factory=list)


def title_key(media_type: str, tmdb_id: int) -> str:
    return f"{media_type}:{tmdb_id}"


def fold(name: str) -> str:
    """Names as users type them: "horror" and " Horror " are the same genre."""
    return " ".join(name.split()).casefold()


def people_of(facts: TitleFacts) -> tuple[str, ...]:
    return (*facts.directors, *facts.cast)


def matching(key: str, facts: TitleFacts, overrides: Sequence[Override]) -> list[Override]:
    """The overrides that speak about this title: its own, its genres' and its people's."""
    if not overrides:  # most users have none; folding every name of every candidate adds up
        return []
    genres = {fold(g) for g in facts.genres}
    people = {fold(p) for p in people_of(facts)}
    found = []
    for override in overrides:
        name = fold(override.key)
        if (
            (override.kind == "title" and override.key == key)
            or (override.kind == "genre" and name in genres)
            or (override.kind == "person" and name in people)
        ):
            found.append(override)
    return found


def override_notes(applied: Sequence[Override]) -> dict[str, float]:
    """What the matching overrides do to one title (without allow and without hides)."""
    notes: dict[str, float] = {}
    for override in applied:
        if override.action == "block":
            notes[f"block_{override.kind}"] = 1.0
            continue
        delta = DELTAS.get((override.kind, override.action))
        if delta is None:
            continue
        name = f"{override.action}_{override.kind}"
        strongest = max if delta > 0 else min
        notes[name] = strongest(notes.get(name, delta), delta)
    return notes


def hidden_penalty(
    similarity: float, floor: float = HIDE_SIMILARITY_FLOOR, weight: float = HIDE_PENALTY
) -> float:
    """The (negative) adjustment for a title this close to one the user hid."""
    if similarity <= floor:
        return 0.0
    return -weight * min(1.0, (similarity - floor) / (1.0 - floor))


def nearest_hidden(vectors: np.ndarray | None, hidden_vectors: np.ndarray | None) -> np.ndarray:
    """Each candidate's highest cosine similarity to a hidden title (0 with nothing to compare)."""
    if vectors is None or hidden_vectors is None or len(hidden_vectors) == 0 or len(vectors) == 0:
        return np.zeros(0 if vectors is None else len(vectors))
    similarity: np.ndarray = np.max(vectors @ np.asarray(hidden_vectors).T, axis=1)
    return similarity


def adjust_scores(
    scores: np.ndarray,
    keys: Sequence[str],
    facts: Sequence[TitleFacts],
    vectors: np.ndarray | None,
    overrides: Sequence[Override],
    hidden_vectors: np.ndarray | None,
    *,
    hide_floor: float = HIDE_SIMILARITY_FLOOR,
    hide_weight: float = HIDE_PENALTY,
) -> Adjusted:
    n = len(scores)
    if len(keys) != n or len(facts) != n or (vectors is not None and len(vectors) != n):
        raise ValueError("scores, keys, facts and vectors must describe the same candidates")
    adjusted = np.asarray(scores, dtype=np.float64).copy()
    similarity = nearest_hidden(vectors, hidden_vectors)
    notes: list[dict[str, float]] = []
    matched: list[tuple[Override, ...]] = []
    allowed: list[int] = []
    for index in range(n):
        applied = matching(keys[index], facts[index], overrides)
        matched.append(tuple(applied))
        if any(o.kind == "title" and o.action == "allow" for o in applied):
            allowed.append(index)
            notes.append({})
            continue
        note = override_notes(applied)
        delta = sum(note.values())
        if len(similarity):
            penalty = hidden_penalty(float(similarity[index]), hide_floor, hide_weight)
            if penalty < 0:
                delta += penalty
                note["hidden_similarity"] = round(penalty, 4)
        if any(k.startswith("block_") for k in note):
            adjusted[index] = -np.inf
        else:
            adjusted[index] += delta
        notes.append(note)
    lift_allowed(adjusted, scores, allowed, notes)
    return Adjusted(scores=adjusted, notes=notes, matched=matched)


def lift_allowed(
    adjusted: np.ndarray,
    original: np.ndarray,
    allowed: Sequence[int],
    notes: list[dict[str, float]],
) -> None:
    """Allowed titles go above every other title, in their own original order."""
    if not allowed:
        return
    others = np.ones(len(adjusted), dtype=bool)
    others[list(allowed)] = False
    finite_others = adjusted[others & np.isfinite(adjusted)]
    top = float(finite_others.max()) if len(finite_others) else 0.0
    own = np.nan_to_num(np.asarray(original, dtype=np.float64)[list(allowed)], neginf=0.0)
    base = float(own.min())
    for index, score in zip(allowed, own, strict=True):
        adjusted[index] = top + ALLOW_LIFT + (float(score) - base)
        notes[index]["allow"] = round(float(adjusted[index]) - float(score), 4)
