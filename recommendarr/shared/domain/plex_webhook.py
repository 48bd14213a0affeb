"""Normalizing Plex Media Server webhooks (the JSON of the multipart `payload` field).

Plex types its JSON, sends no event time, names its own owner with the server-local account id
1, and gives an episode the episode's ids in `Guid[]`: an episode therefore carries its show's
server key (`grandparentRatingKey`) for map_event to resolve, never the episode's TMDB id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from recommendarr.shared.domain.events import (
    IgnoredEvent,
    LibraryAddition,
    LibraryRef,
    PayloadError,
    PlaybackEvent,
    TitleRef,
    UserRef,
    WebhookEvent,
)
from recommendarr.shared.domain.payload_fields import (
    boolean,
    integer,
    json_object,
    number,
    required_child,
    required_integer,
    required_text,
    text,
)
from recommendarr.shared.domain.title_mapping import ExternalIds, parse_positive_int

PLAYBACK_EVENTS = {
    "media.play": "play",
    "media.pause": "pause",
    "media.resume": "resume",
    "media.stop": "stop",
    "media.scrobble": "watched",
    "media.rate": "rate",
}
LIBRARY_EVENTS = frozenset({"library.new"})
MEDIA_TYPES = {"movie": "movie", "show": "tv", "season": "tv", "episode": "tv"}
# Where the show sits for each kind of TV item: (its rating key, its title).
SHOW_FIELDS = {
    "show": ("ratingKey", "title"),
    "season": ("parentRatingKey", "parentTitle"),
    "episode": ("grandparentRatingKey", "grandparentTitle"),
}
# The payload's own time of the event, when it has one.
EVENT_TIME_FIELDS = {"watched": "lastViewedAt", "rate": "lastRatedAt"}
OWNER_ALIAS_ID = 1
MAX_RATING = 10.0
MAX_DURATION_S = 24 * 3600 * 7
# A payload time this far from the receipt belongs to an earlier viewing (lastViewedAt is only
# fresh on a scrobble once Plex has stored it), so the receipt time wins.
STALE_AFTER = timedelta(hours=1)
NEW_AGENT_SCHEMES = {"tmdb": "tmdb", "imdb": "imdb", "tvdb": "tvdb"}
LEGACY_AGENTS = {
    "com.plexapp.agents.themoviedb": "tmdb",
    "com.plexapp.agents.imdb": "imdb",
    "com.plexapp.agents.thetvdb": "tvdb",
}


def parse_plex(body: bytes, received_at: datetime | None = None) -> WebhookEvent:
    """`received_at` (the inbox's) dates events Plex sends without a time of their own."""
    payload = json_object(body, "the JSON of a Plex webhook's `payload` form field")
    event = required_text(payload, "event")
    action = PLAYBACK_EVENTS.get(event)
    if action is None and event not in LIBRARY_EVENTS:
        return IgnoredEvent(event, f"Plex event {event!r} carries no taste signal")
    metadata = required_child(payload, "Metadata")
    raw_type = required_text(metadata, "type", "Metadata.")
    if raw_type not in MEDIA_TYPES:
        return IgnoredEvent(event, f"Metadata.type {raw_type!r} is not a movie or TV title")
    title = parse_title(metadata, raw_type)
    library = parse_library(payload, metadata, raw_type)
    if action is None:
        added_at = event_time(unix_time(metadata, "addedAt"), received_at)
        return LibraryAddition(title, library, added_at)
    rating = parse_rating(payload, metadata) if action == "rate" else None
    if action == "rate" and rating is None:
        return IgnoredEvent(event, "media.rate without a rating (a rating was cleared)")
    time_field = EVENT_TIME_FIELDS.get(action)
    payload_time = unix_time(metadata, time_field) if time_field else None
    return PlaybackEvent(
        source="plex",
        action=action,
        user=parse_user(payload),
        title=title,
        library=library,
        progress=parse_progress(metadata),
        duration_s=parse_duration_s(metadata),
        session_key=None,
        occurred_at=event_time(payload_time, received_at),
        rating=rating,
    )


def parse_title(metadata: dict[str, Any], raw_type: str) -> TitleRef:
    ids = external_ids(metadata)
    genres = tuple(
        tag
        for g in metadata.get("Genre") or []
        if isinstance(g, dict) and (tag := text(g, "tag", "Metadata.Genre[]."))
    )
    if raw_type == "movie":
        return TitleRef(
            tmdb_id=ids.tmdb,
            media_type="movie",
            title=required_text(metadata, "title", "Metadata."),
            year=integer(metadata, "year", "Metadata.", minimum=1870, maximum=2200),
            genres=genres,
            imdb_id=ids.imdb,
            tvdb_id=ids.tvdb,
        )
    key_field, title_field = SHOW_FIELDS[raw_type]
    if raw_type == "show":
        # A show's own Guid[] are the show's ids.
        return TitleRef(
            tmdb_id=ids.tmdb,
            media_type="tv",
            title=required_text(metadata, title_field, "Metadata."),
            year=integer(metadata, "year", "Metadata.", minimum=1870, maximum=2200),
            genres=genres,
            imdb_id=ids.imdb,
            tvdb_id=ids.tvdb,
            show_key=required_text(metadata, key_field, "Metadata."),
        )
    show_ids = legacy_show_ids(metadata)
    episode = raw_type == "episode"
    return TitleRef(
        tmdb_id=show_ids.tmdb,
        media_type="tv",
        title=required_text(metadata, title_field, "Metadata."),
        # Metadata.year is the episode's (or season's) air year, not the show's.
        year=None,
        genres=(),
        tvdb_id=show_ids.tvdb,
        show_key=required_text(metadata, key_field, "Metadata."),
        episode_imdb_id=ids.imdb if episode else None,
        episode_tvdb_id=ids.tvdb if episode else None,
    )


def external_ids(metadata: dict[str, Any]) -> ExternalIds:
    """The item's own ids: `Guid[]` on the new agents, the legacy `guid` string otherwise.

    Also reads the Metadata that the Plex API returns for a show (map_event uses it).
    """
    found: dict[str, str] = {}
    for guid in guid_strings(metadata):
        scheme, _, value = guid.partition("://")
        if scheme in NEW_AGENT_SCHEMES and value:
            found.setdefault(NEW_AGENT_SCHEMES[scheme], value)
    if not found:
        found = legacy_ids(text(metadata, "guid", "Metadata.") or "", whole_path=True)
    return ids_from(found)


def guid_strings(metadata: dict[str, Any]) -> list[str]:
    guids = metadata.get("Guid")
    if guids is None:
        return []
    if not isinstance(guids, list):
        raise PayloadError("Metadata.Guid", f"must be a list, got {type(guids).__name__}")
    return [text(g, "id", "Metadata.Guid[].") or "" for g in guids if isinstance(g, dict)]


def legacy_show_ids(metadata: dict[str, Any]) -> ExternalIds:
    """A legacy TV agent names an episode `<agent>://<show id>/<season>/<episode>`: the first
    part is the show's id, the only show id an episode's own payload carries."""
    guid = text(metadata, "guid", "Metadata.") or ""
    return ids_from(legacy_ids(guid, whole_path=False))


def legacy_ids(guid: str, *, whole_path: bool) -> dict[str, str]:
    agent, _, rest = guid.partition("://")
    kind = LEGACY_AGENTS.get(agent)
    if kind is None or not rest:
        return {}
    path = rest.split("?", 1)[0]
    parts = path.split("/")
    if whole_path and len(parts) > 1:
        return {}  # an episode's or season's path: its first part is the show, not the item
    if not whole_path and len(parts) < 2:
        return {}
    return {kind: parts[0]} if parts[0] else {}


def ids_from(found: dict[str, str]) -> ExternalIds:
    imdb = found.get("imdb")
    return ExternalIds(
        tmdb=parse_positive_int(found.get("tmdb")),
        imdb=imdb if imdb and imdb.startswith("tt") else None,
        tvdb=parse_positive_int(found.get("tvdb")),
    )


def parse_library(payload: dict[str, Any], metadata: dict[str, Any], raw_type: str) -> LibraryRef:
    server = required_child(payload, "Server")
    rating_key_field = "ratingKey" if raw_type == "movie" else SHOW_FIELDS[raw_type][0]
    return LibraryRef(
        server_kind="plex",
        server_id=required_text(server, "uuid", "Server."),
        section_id=str(required_integer(metadata, "librarySectionID", "Metadata.", minimum=0)),
        library_name=text(metadata, "librarySectionTitle", "Metadata.") or "",
        rating_key=required_text(metadata, rating_key_field, "Metadata."),
    )


def parse_user(payload: dict[str, Any]) -> UserRef:
    account = required_child(payload, "Account")
    account_id = required_integer(account, "id", "Account.", minimum=0)
    username = text(account, "title", "Account.") or str(account_id)
    # The owner's own plays come as the server-local admin id 1, not their plex.tv id.
    owner_alias = account_id == OWNER_ALIAS_ID and boolean(payload, "owner") is True
    return UserRef(
        kind="plex",
        key=str(account_id),
        username=username,
        friendly_name=username,
        owner_alias=owner_alias,
    )


def parse_progress(metadata: dict[str, Any]) -> float | None:
    offset = integer(metadata, "viewOffset", "Metadata.", minimum=0)
    duration = integer(metadata, "duration", "Metadata.", minimum=0)
    if offset is None or not duration:
        return None
    return min(1.0, offset / duration)


def parse_duration_s(metadata: dict[str, Any]) -> int | None:
    duration_ms = integer(metadata, "duration", "Metadata.", minimum=0)
    return None if duration_ms is None else min(duration_ms // 1000, MAX_DURATION_S)


def parse_rating(payload: dict[str, Any], metadata: dict[str, Any]) -> float | None:
    """Plex's 0-10 scale (five stars, halves allowed); a cleared rating comes as -1 or nothing."""
    top = number(payload, "rating", maximum=MAX_RATING)
    rating = (
        top if top is not None else number(metadata, "userRating", "Metadata.", maximum=MAX_RATING)
    )
    return None if rating is None or rating < 0 else rating


def unix_time(metadata: dict[str, Any], field: str) -> datetime | None:
    seconds = integer(metadata, field, "Metadata.", minimum=0)
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def event_time(payload_time: datetime | None, received_at: datetime | None) -> datetime:
    if received_at is None:
        # Only when validating a request: the event is not stored from this parse.
        return payload_time or datetime.now(UTC)
    if payload_time is None or abs(payload_time - received_at) > STALE_AFTER:
        return received_at
    return payload_time
