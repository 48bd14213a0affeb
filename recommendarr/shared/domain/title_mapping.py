"""Naming a title by its TMDB id when its source gave other ids (a show's server key, an IMDb or
TVDB id). Pure: map_event does the lookups, this module reads their answers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from recommendarr.shared.domain.events import TitleRef

FIND_RESULTS = {"movie": "movie_results", "tv": "tv_results"}


@dataclass(frozen=True)
class ExternalIds:
    tmdb: int | None = None
    imdb: str | None = None
    tvdb: int | None = None


@dataclass(frozen=True)
class Alias:
    """What an external key stands for."""

    tmdb_id: int
    media_type: str


def alias_keys(title: TitleRef) -> tuple[str, ...]:
    """The keys a resolved title is cached under, the most specific first.

    TVDB ids are only used for shows: TVDB numbers its movies in a separate space.
    """
    keys = []
    if title.show_key:
        keys.append(title.show_key)
    if title.imdb_id:
        keys.append(f"imdb:{title.imdb_id}")
    if title.tvdb_id and title.media_type == "tv":
        keys.append(f"tvdb:{title.tvdb_id}")
    return tuple(keys)


def with_alias(title: TitleRef, alias: Alias) -> TitleRef:
    return replace(title, tmdb_id=alias.tmdb_id, media_type=alias.media_type)


def tmdb_id_from_find(response: dict[str, Any], media_type: str) -> int | None:
    """The title TMDB's /find answer names, of the wanted type."""
    return first_id(response.get(FIND_RESULTS[media_type]), "id")


def show_id_from_episode_find(response: dict[str, Any]) -> int | None:
    """The show of the episode (or season) TMDB's /find answer names."""
    return first_id(response.get("tv_episode_results"), "show_id") or first_id(
        response.get("tv_season_results"), "show_id"
    )


def first_id(results: object, key: str) -> int | None:
    if not isinstance(results, list):
        return None
    for result in results:
        value = result.get(key) if isinstance(result, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def parse_positive_int(value: object) -> int | None:
    """Ids arrive as numbers or digit strings; anything else is no id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip()) or None
    return None
