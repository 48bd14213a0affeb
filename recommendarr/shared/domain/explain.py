"""Explanations from templates, filled only with titles and people from the user's own history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from recommendarr.shared.domain.taste import TasteProfile, TitleFacts


@dataclass(frozen=True)
class Influence:
    item_id: int
    title: str
    similarity: float
    finished: bool
    rewatched: bool
    shared_people: tuple[str, ...] = ()
    tmdb_id: int | None = None
    media_type: str | None = None


def join_titles(titles: Sequence[str]) -> str:
    if len(titles) <= 1:
        return "".join(titles)
    return ", ".join(titles[:-1]) + " and " + titles[-1]


def verb(influence: Influence) -> str:
    if influence.rewatched:
        return "rewatched"
    return "finished" if influence.finished else "watched"


def describe_viewings(influences: Sequence[Influence]) -> str:
    """ "rewatched Inception and finished Arrival": each title with what the user really did."""
    by_verb: dict[str, list[str]] = {}
    for influence in influences:
        by_verb.setdefault(verb(influence), []).append(influence.title)
    return " and ".join(f"{v} {join_titles(titles)}" for v, titles in by_verb.items())


def explain_pick(
    candidate: TitleFacts,
    influences: Sequence[Influence],
    signals: Mapping[str, float],
    profile: TasteProfile,
) -> str:
    people = shared_person(influences)
    if people is not None:
        person, sharing = people
        lead = f"Directed by {person}" if person in candidate.directors else f"With {person}"
        return f"{lead}: you {describe_viewings(sharing)}."
    top = list(influences[:2])
    genres = top_genres(candidate, profile)
    if top:
        reason = f"Because you {describe_viewings(top)}"
        if genres:
            return f"{reason}: more {join_titles(genres).lower()} in the same vein."
        return f"{reason}."
    if genres:
        return f"Matches the {join_titles(genres).lower()} you watch most."
    return "Close to the overall shape of what you watch."


def shared_person(influences: Sequence[Influence]) -> tuple[str, list[Influence]] | None:
    """A person the pick shares with at least one close watched title, with those titles."""
    for influence in influences:
        for person in influence.shared_people:
            sharing = [i for i in influences if person in i.shared_people]
            return person, sharing[:2]
    return None


def top_genres(candidate: TitleFacts, profile: TasteProfile) -> list[str]:
    liked = [g for g in candidate.genres if profile.genre_weights.get(g, 0.0) >= 0.4]
    return sorted(liked, key=lambda g: -profile.genre_weights[g])[:2]
