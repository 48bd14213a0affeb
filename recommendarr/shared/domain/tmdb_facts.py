"""TMDB movie and TV details (with appended sub-responses) as the facts we embed and store.

Every field may be missing or null; a missing field becomes an empty value, never an error.
The one difference in nesting that matters: movie keywords are `keywords.keywords[]`, TV
keywords are `keywords.results[]`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from recommendarr.shared.domain.item_text import ItemFacts

MAX_KEYWORDS = 20
MAX_CAST = 5


class TmdbShapeError(ValueError):
    """The details body is not an object with a title; nothing can be taken from it."""


@dataclass(frozen=True)
class TmdbExtras:
    """What we store beside the facts but do not embed."""

    imdb_id: str | None = None
    tvdb_id: int | None = None
    collection_id: int | None = None
    poster_path: str | None = None
    vote_average: float | None = None
    vote_count: int | None = None
    popularity: float | None = None


def parse_details(
    media_type: str, tmdb_id: int, details: Mapping[str, Any]
) -> tuple[ItemFacts, TmdbExtras]:
    """`media_type` is "movie" or "tv", as requested; `tmdb_id` is the id that was asked for."""
    if not isinstance(details, Mapping):
        raise TmdbShapeError(f"TMDB details for {media_type} {tmdb_id} are not a JSON object")
    is_movie = media_type == "movie"
    title = first_text(
        details, ("title", "original_title") if is_movie else ("name", "original_name")
    )
    if title is None:
        raise TmdbShapeError(f"TMDB details for {media_type} {tmdb_id} have no title")
    facts = ItemFacts(
        tmdb_id=tmdb_id,
        media_type=media_type,
        title=title,
        year=year_of(details.get("release_date" if is_movie else "first_air_date")),
        genres=names(as_list(details.get("genres"))),
        keywords=keywords_of(details)[:MAX_KEYWORDS],
        directors=directors_of(details) if is_movie else creators_of(details),
        cast=top_cast(details),
        language=text(details.get("original_language")),
        runtime=movie_runtime(details) if is_movie else episode_runtime(details),
        overview=text(details.get("overview")),
    )
    return facts, extras_of(details)


def extras_of(details: Mapping[str, Any]) -> TmdbExtras:
    external = as_dict(details.get("external_ids"))
    collection = as_dict(details.get("belongs_to_collection"))
    return TmdbExtras(
        imdb_id=text(external.get("imdb_id")) or text(details.get("imdb_id")),
        tvdb_id=positive_int(external.get("tvdb_id")),
        collection_id=positive_int(collection.get("id")),
        poster_path=text(details.get("poster_path")),
        vote_average=number(details.get("vote_average")),
        vote_count=non_negative_int(details.get("vote_count")),
        popularity=number(details.get("popularity")),
    )


def keywords_of(details: Mapping[str, Any]) -> tuple[str, ...]:
    block = as_dict(details.get("keywords"))
    # Accept either nesting whatever the media type: a wrong guess would silently drop them.
    entries = as_list(block.get("keywords")) or as_list(block.get("results"))
    return names(entries)


def directors_of(details: Mapping[str, Any]) -> tuple[str, ...]:
    crew = as_list(as_dict(details.get("credits")).get("crew"))
    return names(member for member in crew if as_dict(member).get("job") == "Director")


def creators_of(details: Mapping[str, Any]) -> tuple[str, ...]:
    return names(as_list(details.get("created_by")))


def top_cast(details: Mapping[str, Any]) -> tuple[str, ...]:
    cast = [as_dict(member) for member in as_list(as_dict(details.get("credits")).get("cast"))]
    return names(sorted(cast, key=billing))[:MAX_CAST]


def billing(member: Mapping[str, Any]) -> float:
    """A member without an order is billed last; sorted() keeps TMDB's order among equals."""
    order = non_negative_int(member.get("order"))
    return float("inf") if order is None else float(order)


def movie_runtime(details: Mapping[str, Any]) -> int | None:
    return positive_int(details.get("runtime"))


def episode_runtime(details: Mapping[str, Any]) -> int | None:
    runtimes = [positive_int(value) for value in as_list(details.get("episode_run_time"))]
    first = next((value for value in runtimes if value is not None), None)
    if first is not None:
        return first
    # TMDB has been emptying episode_run_time; the latest episode's runtime is the best guess.
    return positive_int(as_dict(details.get("last_episode_to_air")).get("runtime"))


def names(entries: Iterable[Any]) -> tuple[str, ...]:
    """The distinct `name`s of a list of objects, in order; entries without one are skipped."""
    seen: dict[str, None] = {}
    for entry in entries:
        name = text(as_dict(entry).get("name"))
        if name is not None:
            seen.setdefault(name, None)
    return tuple(seen)


def first_text(details: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    return next((t for t in (text(details.get(k)) for k in keys) if t is not None), None)


def year_of(date: Any) -> int | None:
    """The year of a TMDB date ("2010-07-15"); unreleased titles have "" or null."""
    value = text(date)
    if value is None or len(value) < 4 or not value[:4].isdecimal():
        return None
    return int(value[:4])


def text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    return stripped or None


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def non_negative_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value >= 0 else None


def positive_int(value: Any) -> int | None:
    whole = non_negative_int(value)
    return whole if whole else None


def as_dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
