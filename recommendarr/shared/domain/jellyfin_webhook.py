"""Normalizing Jellyfin webhook-plugin bodies: the recommended template (snake_case, every value
a string, booleans as True/False, missing ones "") and "Send All Properties" (PascalCase, typed).

An episode's provider ids are the episode's own; the show is only named by `SeriesId`, so an
episode carries that as its show key for map_event, and its own ids for TMDB's /find.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
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
    required_text,
    text,
)
from recommendarr.shared.domain.title_mapping import ExternalIds, parse_positive_int

# Our name for a field -> its key in the recommended template.
TEMPLATE_KEYS = {
    "notification_type": "notification_type",
    "server_id": "server_id",
    "user_id": "user_id",
    "username": "username",
    "item_id": "item_id",
    "item_type": "item_type",
    "name": "name",
    "year": "year",
    "series_id": "series_id",
    "series_name": "series_name",
    "provider_tmdb": "provider_tmdb",
    "provider_imdb": "provider_imdb",
    "provider_tvdb": "provider_tvdb",
    "genres": "genres",
    "run_time_ticks": "run_time_ticks",
    "playback_position_ticks": "playback_position_ticks",
    "played_to_completion": "played_to_completion",
    "session_id": "session_id",
    "utc_timestamp": "utc_timestamp",
}
# ... and its key when the destination sends all properties.
ALL_PROPERTIES_KEYS = {
    "notification_type": "NotificationType",
    "server_id": "ServerId",
    "user_id": "UserId",
    "username": "NotificationUsername",
    "item_id": "ItemId",
    "item_type": "ItemType",
    "name": "Name",
    "year": "Year",
    "series_id": "SeriesId",
    "series_name": "SeriesName",
    "provider_tmdb": "Provider_tmdb",
    "provider_imdb": "Provider_imdb",
    "provider_tvdb": "Provider_tvdb",
    "genres": "Genres",
    "run_time_ticks": "RunTimeTicks",
    "playback_position_ticks": "PlaybackPositionTicks",
    "played_to_completion": "PlayedToCompletion",
    "session_id": "Id",
    "utc_timestamp": "UtcTimestamp",
}
PLAYBACK_TYPES = {"PlaybackStart": "play", "PlaybackStop": "stop"}
LIBRARY_TYPES = frozenset({"ItemAdded"})
ITEM_TYPES = {"Movie": "movie", "Series": "tv", "Season": "tv", "Episode": "tv"}
TICKS_PER_SECOND = 10_000_000
MAX_DURATION_S = 24 * 3600 * 7
GUID = re.compile(r"[0-9a-f]{32}")


class Fields:
    """One payload read through the key names of its shape; errors name the key as sent."""

    def __init__(self, payload: dict[str, Any], keys: dict[str, str]) -> None:
        self.payload = payload
        self.keys = keys

    def text(self, name: str) -> str | None:
        return text(self.payload, self.keys[name])

    def required_text(self, name: str) -> str:
        return required_text(self.payload, self.keys[name])

    def integer(
        self, name: str, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        return integer(self.payload, self.keys[name], minimum=minimum, maximum=maximum)

    def boolean(self, name: str) -> bool | None:
        return boolean(self.payload, self.keys[name])

    def guid(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        normalized = normalize_guid(value)
        if not GUID.fullmatch(normalized):
            raise PayloadError(self.keys[name], f"is not a Jellyfin id: {value!r}")
        return normalized

    def required_guid(self, name: str) -> str:
        value = self.guid(name)
        if value is None:
            raise PayloadError(self.keys[name], "is required")
        return value


def parse_jellyfin(body: bytes, received_at: datetime | None = None) -> WebhookEvent:
    """`received_at` (the inbox's) dates template bodies, which carry no time of their own."""
    fields = read_fields(json_object(body, "the Jellyfin webhook template, or all properties"))
    notification = fields.required_text("notification_type")
    action = PLAYBACK_TYPES.get(notification)
    if action is None and notification not in LIBRARY_TYPES:
        return IgnoredEvent(notification, f"Jellyfin {notification!r} carries no taste signal")
    item_type = fields.required_text("item_type")
    if item_type not in ITEM_TYPES:
        return IgnoredEvent(notification, f"item type {item_type!r} is not a movie or TV title")
    title = parse_title(fields, item_type)
    library = parse_library(fields, title)
    occurred_at = parse_time(fields, received_at)
    if action is None:
        return LibraryAddition(title, library, occurred_at)
    if action == "stop" and fields.boolean("played_to_completion"):
        action = "watched"
    user_id = fields.required_guid("user_id")
    username = fields.text("username") or user_id
    return PlaybackEvent(
        source="jellyfin",
        action=action,
        user=UserRef(kind="jellyfin", key=user_id, username=username, friendly_name=username),
        title=title,
        library=library,
        progress=parse_progress(fields),
        duration_s=parse_duration_s(fields),
        session_key=fields.text("session_id"),
        occurred_at=occurred_at,
    )


def read_fields(payload: dict[str, Any]) -> Fields:
    if "NotificationType" in payload:
        return Fields(payload, ALL_PROPERTIES_KEYS)
    if "notification_type" in payload:
        return Fields(payload, TEMPLATE_KEYS)
    raise PayloadError(
        "notification_type",
        "is required (the recommended template's field, or NotificationType when the "
        "destination sends all properties)",
    )


def parse_title(fields: Fields, item_type: str) -> TitleRef:
    ids = ExternalIds(
        tmdb=positive_id(fields, "provider_tmdb"),
        imdb=imdb_id(fields),
        tvdb=positive_id(fields, "provider_tvdb"),
    )
    year = fields.integer("year", minimum=1870, maximum=2200)
    genres = tuple(g.strip() for g in (fields.text("genres") or "").split(",") if g.strip())
    if item_type in ("Movie", "Series"):
        return TitleRef(
            tmdb_id=ids.tmdb,
            media_type=ITEM_TYPES[item_type],
            title=fields.required_text("name"),
            year=year,
            genres=genres,
            imdb_id=ids.imdb,
            tvdb_id=ids.tvdb,
            show_key=fields.required_guid("item_id") if item_type == "Series" else None,
        )
    episode = item_type == "Episode"
    return TitleRef(
        tmdb_id=None,
        media_type="tv",
        title=fields.required_text("series_name"),
        # For episodes the plugin overwrites Year with the series' production year.
        year=year if episode else None,
        genres=genres,
        show_key=fields.required_guid("series_id"),
        episode_imdb_id=ids.imdb if episode else None,
        episode_tvdb_id=ids.tvdb if episode else None,
    )


def parse_library(fields: Fields, title: TitleRef) -> LibraryRef:
    """Webhooks do not say which library an item is in: one per media type stands in for it
    until a library sync knows better."""
    return LibraryRef(
        server_kind="jellyfin",
        server_id=fields.required_guid("server_id"),
        section_id=f"webhook:{title.media_type}",
        library_name="Movies" if title.media_type == "movie" else "Shows",
        rating_key=title.show_key or fields.required_guid("item_id"),
    )


def parse_progress(fields: Fields) -> float | None:
    position = fields.integer("playback_position_ticks", minimum=0)
    runtime = fields.integer("run_time_ticks", minimum=0)
    if position is None or not runtime:
        return None
    return min(1.0, position / runtime)


def parse_duration_s(fields: Fields) -> int | None:
    runtime = fields.integer("run_time_ticks", minimum=0)
    return None if runtime is None else min(runtime // TICKS_PER_SECOND, MAX_DURATION_S)


def parse_time(fields: Fields, received_at: datetime | None) -> datetime:
    stamp = fields.text("utc_timestamp")
    if stamp is not None:
        try:
            parsed = datetime.fromisoformat(stamp)
        except ValueError as exc:
            key = fields.keys["utc_timestamp"]
            raise PayloadError(key, f"is not an ISO timestamp: {stamp!r}") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    # Only a request being validated has no receipt time; that parse is not stored.
    return received_at or datetime.now(UTC)


def positive_id(fields: Fields, name: str) -> int | None:
    value = fields.text(name)
    if value is None:
        return None
    parsed = parse_positive_int(value)
    if parsed is None:
        raise PayloadError(fields.keys[name], f"must be a positive number, got {value!r}")
    return parsed


def imdb_id(fields: Fields) -> str | None:
    value = fields.text("provider_imdb")
    if value is not None and not value.startswith("tt"):
        raise PayloadError(fields.keys["provider_imdb"], f"is not an IMDb id: {value!r}")
    return value


def provider_ids(item: dict[str, Any]) -> ExternalIds:
    """The ids in a Jellyfin API item's `ProviderIds` (keys are provider names, any case)."""
    raw = item.get("ProviderIds")
    found = {str(k).lower(): v for k, v in raw.items()} if isinstance(raw, dict) else {}
    imdb = found.get("imdb")
    return ExternalIds(
        tmdb=parse_positive_int(found.get("tmdb")),
        imdb=imdb if isinstance(imdb, str) and imdb.startswith("tt") else None,
        tvdb=parse_positive_int(found.get("tvdb")),
    )


def normalize_guid(value: str) -> str:
    """Templates render guids hyphenated; the API and all-properties bodies use 32 hex."""
    return value.replace("-", "").strip().lower()
