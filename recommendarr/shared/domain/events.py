"""The events every webhook source is normalized into, whatever its wire format."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime


class PayloadError(ValueError):
    """The body cannot be read; `field` names the culprit for the 4xx answer."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TitleRef:
    """A title as a source names it. Episodes are already lifted to their show here, or carry
    `show_key` (the server's own id of the show) for the mapper to look up.

    The ids are always the title's own (the show's, for an episode). A source that only knows
    the episode's ids (Plex's new agents, Jellyfin) puts them in `episode_*`: TMDB can still
    name the show from them.
    """

    tmdb_id: int | None
    media_type: str
    title: str
    year: int | None
    genres: tuple[str, ...]
    imdb_id: str | None = None
    tvdb_id: int | None = None
    show_key: str | None = None
    episode_imdb_id: str | None = None
    episode_tvdb_id: int | None = None


@dataclass(frozen=True)
class UserRef:
    """`kind` says which id space `key` is in: plex (plex.tv account id) or jellyfin (user guid).

    `owner_alias` marks Plex's server-local admin id 1, which stands for the server owner.
    """

    kind: str
    key: str
    username: str
    friendly_name: str = ""
    owner_alias: bool = False


@dataclass(frozen=True)
class LibraryRef:
    server_kind: str
    server_id: str
    section_id: str
    library_name: str
    rating_key: str


@dataclass(frozen=True)
class PlaybackEvent:
    source: str
    action: str
    user: UserRef
    title: TitleRef
    library: LibraryRef
    progress: float | None
    duration_s: int | None
    session_key: str | None
    occurred_at: datetime
    rating: float | None = None

    @property
    def user_key(self) -> str:
        return f"{self.user.kind}:{self.user.key}"

    @property
    def event_key(self) -> str:
        """Senders give no delivery id, so a re-delivery is recognised by what it describes."""
        ident = (
            f"{self.source}|{self.user_key}|{self.title.media_type}:{self.title.tmdb_id}"
            f"|{self.library.rating_key}|{self.action}|{int(self.occurred_at.timestamp())}"
        )
        return hashlib.sha256(ident.encode()).hexdigest()

    @property
    def ends_a_viewing(self) -> bool:
        return self.action in ("stop", "watched")

    @property
    def changes_taste(self) -> bool:
        return self.ends_a_viewing or self.action == "rate"


@dataclass(frozen=True)
class LibraryAddition:
    title: TitleRef
    library: LibraryRef
    occurred_at: datetime


@dataclass(frozen=True)
class IgnoredEvent:
    action: str
    reason: str


WebhookEvent = PlaybackEvent | LibraryAddition | IgnoredEvent


def merge_reports(
    kept_action: str, kept_progress: float | None, action: str, progress: float | None
) -> tuple[str, float | None]:
    """One viewing reported by two sources: the furthest progress, and 'watched' if either
    source saw it completed."""
    merged_action = "watched" if "watched" in (kept_action, action) else kept_action
    known = [p for p in (kept_progress, progress) if p is not None]
    return merged_action, max(known) if known else None
