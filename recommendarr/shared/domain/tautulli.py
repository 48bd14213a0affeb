"""Normalizing Tautulli webhook bodies (the recommended JSON template) into domain events.

Tautulli renders every placeholder as a JSON string, leaves inapplicable ones as "" and unknown
ones verbatim ("{typo}"), so every field is coerced here, and a bad one is named in the error.
"""

from __future__ import annotations

import json
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

PLAYBACK_ACTIONS = frozenset({"play", "pause", "resume", "stop", "watched"})
LIBRARY_ACTIONS = frozenset({"created"})
# Tautulli's other triggers (buffer, error, intro, ...) say nothing about taste.
MEDIA_TYPES = {"movie": "movie", "episode": "tv", "season": "tv", "show": "tv"}
MAX_DURATION_S = 24 * 3600 * 7


def parse_body(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("body", f"is not valid JSON ({exc})") from exc
    if not isinstance(payload, dict):
        raise PayloadError("body", "must be a JSON object (the Tautulli webhook JSON template)")
    return payload


def parse_tautulli(body: bytes) -> WebhookEvent:
    payload = parse_body(body)
    action = required_text(payload, "action").lower()
    if action not in PLAYBACK_ACTIONS | LIBRARY_ACTIONS:
        return IgnoredEvent(action, f"Tautulli action {action!r} carries no taste signal")
    raw_media_type = required_text(payload, "media_type").lower()
    media_type = MEDIA_TYPES.get(raw_media_type)
    if media_type is None:
        return IgnoredEvent(action, f"media_type {raw_media_type!r} is not a movie or TV title")
    title = parse_title(payload, media_type, raw_media_type)
    library = LibraryRef(
        server_kind="plex",
        server_id=optional_text(payload, "server_id") or "tautulli",
        section_id=required_text(payload, "section_id"),
        library_name=optional_text(payload, "library_name") or "",
        rating_key=required_text(payload, "rating_key"),
    )
    occurred_at = parse_timestamp(payload)
    if action in LIBRARY_ACTIONS:
        return LibraryAddition(title, library, occurred_at)
    # Tautulli's user_id is the plex.tv account id, the same number plex.tv sharing uses.
    user_key = required_text(payload, "user_id")
    return PlaybackEvent(
        source="tautulli",
        action=action,
        user=UserRef(
            kind="plex",
            key=user_key,
            username=optional_text(payload, "username") or user_key,
            friendly_name=optional_text(payload, "user")
            or optional_text(payload, "username")
            or "",
        ),
        title=title,
        library=library,
        progress=parse_progress(payload),
        duration_s=parse_duration_s(payload),
        session_key=optional_text(payload, "session_key"),
        occurred_at=occurred_at,
    )


def parse_title(payload: dict[str, Any], media_type: str, raw_media_type: str) -> TitleRef:
    # For episodes Tautulli's tmdb id and the useful name are the show's.
    name = optional_text(payload, "show_name") if media_type == "tv" else None
    return TitleRef(
        tmdb_id=optional_int(payload, "themoviedb_id", minimum=1),
        imdb_id=optional_text(payload, "imdb_id"),
        tvdb_id=optional_int(payload, "thetvdb_id", minimum=1),
        media_type=media_type,
        title=name or required_text(payload, "title"),
        year=optional_int(payload, "year", minimum=1870, maximum=2200),
        genres=tuple(
            g.strip() for g in (optional_text(payload, "genres") or "").split(",") if g.strip()
        ),
    )


def parse_progress(payload: dict[str, Any]) -> float | None:
    percent = optional_int(payload, "progress_percent", minimum=0, maximum=100)
    return None if percent is None else percent / 100.0


def parse_duration_s(payload: dict[str, Any]) -> int | None:
    duration_ms = optional_int(payload, "duration_ms", minimum=0)
    if duration_ms is not None:
        return min(duration_ms // 1000, MAX_DURATION_S)
    minutes = optional_int(payload, "duration", minimum=0)
    return None if minutes is None else min(minutes * 60, MAX_DURATION_S)


def parse_timestamp(payload: dict[str, Any]) -> datetime:
    unix = optional_int(payload, "timestamp", minimum=0)
    if unix is not None:
        return datetime.fromtimestamp(unix, tz=UTC)
    utctime = optional_text(payload, "utctime")
    if utctime:
        try:
            return datetime.fromisoformat(utctime).replace(tzinfo=UTC)
        except ValueError as exc:
            raise PayloadError("utctime", f"is not an ISO timestamp: {utctime!r}") from exc
    raise PayloadError("timestamp", "is required (the template's {unixtime})")


def optional_text(payload: dict[str, Any], field: str) -> str | None:
    value = payload.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(field, f"must be a string, got {type(value).__name__}")
    text = str(value).strip()
    if looks_unrendered(text):
        raise PayloadError(field, f"holds the unrendered placeholder {text!r}; check the template")
    return text or None


def required_text(payload: dict[str, Any], field: str) -> str:
    text = optional_text(payload, field)
    if text is None:
        raise PayloadError(field, "is required")
    return text


def optional_int(
    payload: dict[str, Any], field: str, *, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    text = optional_text(payload, field)
    if text is None:
        return None
    try:
        value = int(float(text))
    except ValueError as exc:
        raise PayloadError(field, f"must be a number, got {text!r}") from exc
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise PayloadError(field, f"is out of range: {value}")
    return value


def looks_unrendered(text: str) -> bool:
    return len(text) > 2 and text.startswith("{") and text.endswith("}") and " " not in text
