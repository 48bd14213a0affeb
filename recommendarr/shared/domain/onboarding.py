"""The onboarding quiz: which well-known titles to show a new user, spread over genres."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

QUIZ_SIZE = 20


@dataclass(frozen=True)
class QuizTitle:
    item_id: int
    tmdb_id: int
    media_type: str
    title: str
    year: int | None
    poster_path: str | None
    genres: tuple[str, ...]
    vote_count: int


def pick_quiz_titles(titles: Sequence[QuizTitle], size: int = QUIZ_SIZE) -> list[QuizTitle]:
    """Round-robin over genres (the most common genre first), each turn taking that genre's
    best-known title not yet picked, so twenty titles are not twenty action films. Titles
    without genres, or anything left when the genres run dry, fill up by vote count."""
    by_votes = sorted(titles, key=lambda t: (-t.vote_count, t.title, t.item_id))
    counts = Counter(g for t in by_votes for g in set(t.genres))
    genres = sorted(counts, key=lambda g: (-counts[g], g))
    queues = {g: [t for t in by_votes if g in t.genres] for g in genres}
    picked: list[QuizTitle] = []
    taken: set[int] = set()
    progress = True
    while len(picked) < size and progress:
        progress = False
        for genre in genres:
            queue = queues[genre]
            while queue and queue[0].item_id in taken:
                queue.pop(0)
            if queue and len(picked) < size:
                title = queue.pop(0)
                picked.append(title)
                taken.add(title.item_id)
                progress = True
    picked += [t for t in by_votes if t.item_id not in taken][: size - len(picked)]
    return picked


def unknown_genres(asked: Sequence[str], known: Sequence[str]) -> list[str]:
    """Slider genres that no title the user can see has (a typo like 'Sci-Fi' for
    'Science Fiction' would otherwise be stored and silently do nothing)."""
    present = {g.lower() for g in known}
    return [g for g in asked if g.lower() not in present]


def canonical_genres(sliders: dict[str, float], known: Sequence[str]) -> dict[str, float]:
    """The sliders under the genre names as the items spell them (answers may differ in case)."""
    spelled = {g.lower(): g for g in known}
    return {spelled.get(name.lower(), name): value for name, value in sliders.items()}
