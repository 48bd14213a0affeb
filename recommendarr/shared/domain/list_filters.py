"""The filters of GET /users/{id}/recommendations, parsed from query strings into plain values.

Every mode takes the same filters; the store turns each one that is set into a WHERE clause of
the single statement that builds the answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

CONFIDENCE_LEVELS = ("low", "medium", "high")
YEAR_RANGE = (1800, 2200)
MAX_GENRES = 20
MAX_GENRE_LENGTH = 60
TITLE_KEY = re.compile(r"(movie|tv):([1-9][0-9]{0,9})")
LANGUAGE = re.compile(r"[a-z]{2}")
FILTER_NAMES = (
    "library",
    "genres",
    "exclude_genres",
    "year_min",
    "year_max",
    "language",
    "min_confidence",
    "influenced_by",
    "exclude_influence",
)


class InvalidFilterError(ValueError):
    """A query parameter that cannot be used; `name` is the parameter the message is about."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"query parameter {name!r} {message}")
        self.name = name


class LibraryNotVisibleError(LookupError):
    """The library filter names a library the user cannot see (or that does not exist: the two
    look the same, so the answer does not reveal other people's libraries)."""

    def __init__(self, library_id: int) -> None:
        super().__init__(f"query parameter 'library': no library {library_id} for this user")
        self.library_id = library_id


@dataclass(frozen=True)
class TitleKey:
    media_type: str
    tmdb_id: int

    def __str__(self) -> str:
        return f"{self.media_type}:{self.tmdb_id}"


@dataclass(frozen=True)
class ListFilters:
    library: int | None = None
    genres: tuple[str, ...] = ()  # lower-cased; a title matches when it has any of them
    exclude_genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    language: str | None = None
    min_confidence: str | None = None
    influenced_by: TitleKey | None = None
    exclude_influence: TitleKey | None = None

    def active(self) -> tuple[str, ...]:
        """The names of the filters that are set, in a fixed order (a statement per shape)."""
        return tuple(n for n in FILTER_NAMES if getattr(self, n) not in (None, ()))

    def confidences(self) -> list[str]:
        """The confidence levels at or above min_confidence."""
        floor = CONFIDENCE_LEVELS.index(self.min_confidence or "low")
        return list(CONFIDENCE_LEVELS[floor:])


NO_FILTERS = ListFilters()


def parse_filters(query: Mapping[str, str]) -> ListFilters:
    """The filters a query string asks for; InvalidFilterError names the first bad parameter."""
    year_min = parse_int(query, "year_min", *YEAR_RANGE)
    year_max = parse_int(query, "year_max", *YEAR_RANGE)
    if year_min is not None and year_max is not None and year_min > year_max:
        raise InvalidFilterError("year_min", f"({year_min}) is after year_max ({year_max})")
    return ListFilters(
        library=parse_int(query, "library", 1, 2**62),
        genres=parse_genres(query, "genres"),
        exclude_genres=parse_genres(query, "exclude_genres"),
        year_min=year_min,
        year_max=year_max,
        language=parse_language(query),
        min_confidence=parse_confidence(query),
        influenced_by=parse_title_key(query, "influenced_by"),
        exclude_influence=parse_title_key(query, "exclude_influence"),
    )


def given(query: Mapping[str, str], name: str) -> str | None:
    raw = query.get(name)
    return raw.strip() if raw is not None and raw.strip() else None


def parse_int(query: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = given(query, name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise InvalidFilterError(name, f"must be an integer from {low} to {high}, got {raw[:40]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidFilterError(name, f"must be between {low} and {high}")
    return value


def parse_genres(query: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = given(query, name)
    if raw is None:
        return ()
    names = [g.strip() for g in raw.split(",") if g.strip()]
    if len(names) > MAX_GENRES:
        raise InvalidFilterError(name, f"lists more than {MAX_GENRES} genres")
    for genre in names:
        if len(genre) > MAX_GENRE_LENGTH or not genre.isprintable():
            raise InvalidFilterError(name, f"has an unusable genre name {genre[:40]!r}")
    return tuple(dict.fromkeys(g.lower() for g in names))


def parse_language(query: Mapping[str, str]) -> str | None:
    raw = given(query, "language")
    if raw is None:
        return None
    if not LANGUAGE.fullmatch(raw.lower()):
        raise InvalidFilterError(
            "language", f"must be a two-letter ISO 639-1 code, got {raw[:40]!r}"
        )
    return raw.lower()


def parse_confidence(query: Mapping[str, str]) -> str | None:
    raw = given(query, "min_confidence")
    if raw is None:
        return None
    if raw not in CONFIDENCE_LEVELS:
        raise InvalidFilterError(
            "min_confidence", f"must be one of {', '.join(CONFIDENCE_LEVELS)}, got {raw[:40]!r}"
        )
    return raw


def parse_title_key(query: Mapping[str, str], name: str) -> TitleKey | None:
    raw = given(query, name)
    if raw is None:
        return None
    found = TITLE_KEY.fullmatch(raw)
    if found is None or int(found[2]) > 2**31 - 1:
        raise InvalidFilterError(
            name, f"must be a title key like movie:603 or tv:1396, got {raw[:40]!r}"
        )
    return TitleKey(found[1], int(found[2]))
