"""What an embedding provider reads about a title, and the hash that decides re-embedding."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ItemFacts:
    tmdb_id: int
    media_type: str
    title: str
    year: int | None = None
    genres: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    language: str | None = None
    runtime: int | None = None
    overview: str | None = field(default=None)


def item_document(item: ItemFacts) -> str:
    """A stable plain-text description; language models embed this, the hash guards it."""
    parts = [f"{item.title} ({item.year})" if item.year else item.title]
    if item.genres:
        parts.append("Genres: " + ", ".join(item.genres))
    if item.keywords:
        parts.append("Keywords: " + ", ".join(item.keywords))
    if item.directors:
        parts.append("Directed by " + ", ".join(item.directors))
    if item.cast:
        parts.append("Starring " + ", ".join(item.cast))
    if item.language:
        parts.append(f"Language: {item.language}")
    if item.overview:
        parts.append(item.overview.strip())
    return ". ".join(parts)


def content_hash(item: ItemFacts) -> str:
    return hashlib.sha256(item_document(item).encode()).hexdigest()[:32]
