"""What the recommender needs from any media server, whatever its API, and the rules it applies.

Plex and Jellyfin clients implement `MediaServer`; Tautulli (and Jellyfin's activity log)
implement `WatchHistoryProvider`. Everything here is plain data and pure functions.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

DOMAINS = ("movies", "tv", "anime")
# Library kinds that hold titles the recommender ranks; music and photo libraries are skipped.
VIDEO_KINDS = frozenset({"movie", "show", "mixed"})
ANIME_WORD = re.compile(r"\banime\b", re.IGNORECASE)


class AllLibraries(enum.Enum):
    ALL = "all"


ALL = AllLibraries.ALL


@dataclass(frozen=True)
class ServerInfo:
    kind: str  # plex | jellyfin
    machine_id: str
    name: str
    version: str = ""


@dataclass(frozen=True)
class Library:
    key: str
    name: str
    kind: str  # movie | show | mixed | artist | photo | ...
    language: str | None = None
    hidden: bool = False

    @property
    def holds_titles(self) -> bool:
        return self.kind in VIDEO_KINDS


@dataclass(frozen=True)
class LibraryItem:
    rating_key: str
    media_type: str  # movie | tv
    tmdb_id: int | None
    imdb_id: str | None
    tvdb_id: int | None
    title: str
    year: int | None
    genres: tuple[str, ...]
    added_at: datetime | None
    user_rating: float | None = None
    file_size: int | None = None
    media_info: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class ServerUser:
    kind: str  # plex (key = plex.tv account id) | jellyfin (key = 32-hex user guid)
    key: str
    username: str
    friendly_name: str
    is_owner: bool


@dataclass(frozen=True)
class Access:
    """Which libraries a user may open: a set of library keys, or ALL (now and future ones)."""

    user_key: str
    library_keys: frozenset[str] | AllLibraries

    def allows(self, library_key: str) -> bool:
        return self.library_keys is ALL or library_key in self.library_keys


@dataclass(frozen=True)
class Rating:
    user_key: str
    rating_key: str
    rating: float | None  # 0-10
    favorite: bool = False


@dataclass(frozen=True)
class HistoryRow:
    """One finished play as a history source reports it; `ref` is stable across re-polls."""

    source: str
    ref: str
    user_key: str
    item_key: str
    title: str
    media_type: str  # the upstream's own type: movie, episode, track, ...
    stopped_at: datetime
    percent_complete: int | None
    watched: bool | None


@dataclass(frozen=True)
class ExternalIds:
    tmdb_id: int | None = None
    imdb_id: str | None = None
    tvdb_id: int | None = None


@dataclass(frozen=True)
class ServerSnapshot:
    """Everything a sync reads from one server, fetched before any transaction opens."""

    info: ServerInfo
    libraries: list[Library]
    items: dict[str, list[LibraryItem]]
    users: list[ServerUser]
    access: list[Access]

    @property
    def owner_key(self) -> str | None:
        owners = [u.key for u in self.users if u.is_owner and u.kind == "plex"]
        return owners[0] if owners else None

    def opens(self, user_key: str) -> list[str]:
        """The keys of this snapshot's libraries the user may open (none if not listed)."""
        grants = [a for a in self.access if a.user_key == user_key]
        return [lib.key for lib in self.libraries if any(a.allows(lib.key) for a in grants)]


class MediaServer(Protocol):
    def server_info(self) -> ServerInfo: ...

    def libraries(self) -> list[Library]: ...

    def library_items(self, library_key: str) -> list[LibraryItem]: ...

    def users(self) -> list[ServerUser]: ...

    def access(self) -> list[Access]: ...

    def ratings(self) -> list[Rating]: ...

    def check(self) -> str: ...


class WatchHistoryProvider(Protocol):
    def history_since(self, since: datetime) -> Iterator[HistoryRow]: ...


GUID = re.compile(r"^(?P<scheme>[a-z0-9.]+)://(?P<value>[^/?]+)")
AGENT_SCHEMES = {
    "tmdb": "tmdb",
    "themoviedb": "tmdb",
    "com.plexapp.agents.themoviedb": "tmdb",
    "com.plexapp.agents.tmdb": "tmdb",
    "imdb": "imdb",
    "com.plexapp.agents.imdb": "imdb",
    "tvdb": "tvdb",
    "thetvdb": "tvdb",
    "com.plexapp.agents.thetvdb": "tvdb",
    "com.plexapp.agents.tvdb": "tvdb",
}


def external_ids(guids: Iterable[str]) -> ExternalIds:
    """TMDB/IMDb/TVDB ids from Plex guids: the new agents' `Guid[]` ("tmdb://27205") and the
    legacy agents' single guid ("com.plexapp.agents.imdb://tt0137523?lang=en"). For a legacy
    TVDB episode guid (…thetvdb://81189/5/14) the first segment is the show's id."""
    found: dict[str, str] = {}
    for guid in guids:
        match = GUID.match(guid.strip())
        if match is None:
            continue
        kind = AGENT_SCHEMES.get(match["scheme"].lower())
        if kind is not None:
            found.setdefault(kind, match["value"])
    imdb = found.get("imdb")
    return ExternalIds(
        tmdb_id=positive_int(found.get("tmdb")),
        imdb_id=imdb if imdb and imdb.startswith("tt") else None,
        tvdb_id=positive_int(found.get("tvdb")),
    )


def positive_int(value: str | None) -> int | None:
    if value is None or not value.isdecimal():
        return None
    number = int(value)
    return number if number > 0 else None


def guess_domain(
    kind: str,
    name: str,
    genres: Iterable[str] = (),
    keywords: Iterable[str] = (),
    language: str | None = None,
    override: str | None = None,
) -> str:
    """movies, tv or anime. An operator's override wins; then "anime" in the name or keywords;
    then Animation in Japanese; otherwise the library kind decides."""
    if override in DOMAINS:
        return str(override)
    if ANIME_WORD.search(name) or any(k.strip().lower() == "anime" for k in keywords):
        return "anime"
    genre_set = {g.strip().lower() for g in genres}
    if "anime" in genre_set:
        return "anime"
    if "animation" in genre_set and (language or "").lower().startswith("ja"):
        return "anime"
    return "tv" if kind in ("show", "tvshows") else "movies"


def common_genres(items: Sequence[LibraryItem], share: float = 0.5) -> tuple[str, ...]:
    """Genres carried by at least `share` of a library's titles: what the library is about."""
    if not items:
        return ()
    counts = Counter(g for item in items for g in set(item.genres))
    return tuple(sorted(g for g, n in counts.items() if n / len(items) >= share))


def library_domain(library: Library, items: Sequence[LibraryItem], override: str | None) -> str:
    return guess_domain(
        library.kind, library.name, common_genres(items), (), library.language, override
    )
