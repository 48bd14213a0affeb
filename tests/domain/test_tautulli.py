from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from recommendarr.shared.domain.events import (
    IgnoredEvent,
    LibraryAddition,
    PayloadError,
    PlaybackEvent,
)
from recommendarr.shared.domain.tautulli import parse_tautulli
from tests.conftest import fixture_bytes


def parse(name: str, **changes: str) -> object:
    payload = json.loads(fixture_bytes(f"tautulli/{name}"))
    payload.update(changes)
    return parse_tautulli(json.dumps(payload).encode())


def test_stop_fixture() -> None:
    event = parse("webhook_playback_stop.json")
    assert isinstance(event, PlaybackEvent)
    assert event.action == "stop" and event.user_key == "plex:27185324"
    assert (event.title.tmdb_id, event.title.media_type, event.title.title) == (
        27205,
        "movie",
        "Inception",
    )
    assert event.title.genres == ("Action", "Science Fiction", "Adventure")
    assert event.progress == pytest.approx(0.79)
    assert event.duration_s == 8880
    assert event.occurred_at == datetime(2025, 3, 15, 22, 59, tzinfo=UTC)
    assert event.library.section_id == "1" and event.library.rating_key == "38211"


def test_episode_is_the_show() -> None:
    event = parse("webhook_watched.json")
    assert isinstance(event, PlaybackEvent)
    assert (event.title.tmdb_id, event.title.media_type, event.title.title) == (
        1396,
        "tv",
        "Breaking Bad",
    )
    assert event.ends_a_viewing


def test_recently_added_is_a_library_addition() -> None:
    assert isinstance(parse("webhook_recently_added.json"), LibraryAddition)


def test_start_fixture_is_a_play() -> None:
    event = parse("webhook_playback_start.json")
    assert isinstance(event, PlaybackEvent) and event.action == "play" and not event.ends_a_viewing


def test_event_key_ignores_delivery_but_not_content() -> None:
    a, b = parse("webhook_playback_stop.json"), parse("webhook_playback_stop.json")
    c = parse("webhook_playback_stop.json", timestamp="1742079541")
    assert (
        isinstance(a, PlaybackEvent)
        and isinstance(b, PlaybackEvent)
        and isinstance(c, PlaybackEvent)
    )
    assert a.event_key == b.event_key != c.event_key


@pytest.mark.parametrize("action", ["buffer", "error", "intro"])
def test_other_triggers_are_ignored(action: str) -> None:
    assert isinstance(parse("webhook_playback_stop.json", action=action), IgnoredEvent)


def test_music_is_ignored() -> None:
    assert isinstance(parse("webhook_playback_stop.json", media_type="track"), IgnoredEvent)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("progress_percent", "lots", "must be a number"),
        ("progress_percent", "140", "out of range"),
        ("themoviedb_id", "{themoviedb_id}", "unrendered placeholder"),
        ("user_id", "", "is required"),
        ("timestamp", "", "is required"),
    ],
)
def test_bad_fields_are_named(field: str, value: str, message: str) -> None:
    payload = json.loads(fixture_bytes("tautulli/webhook_playback_stop.json"))
    payload[field] = value
    if field == "timestamp":
        payload["utctime"] = ""
    with pytest.raises(PayloadError) as error:
        parse_tautulli(json.dumps(payload).encode())
    assert error.value.field == field and message in error.value.message


def test_utctime_is_the_fallback_timestamp() -> None:
    event = parse("webhook_playback_stop.json", timestamp="")
    assert isinstance(event, PlaybackEvent)
    assert event.occurred_at == datetime(2025, 3, 15, 22, 59, 0, 118504, tzinfo=UTC)


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b"\xff\xfe"])
def test_unreadable_bodies(body: bytes) -> None:
    with pytest.raises(PayloadError) as error:
        parse_tautulli(body)
    assert error.value.field == "body"


def test_non_string_values_are_refused() -> None:
    payload = json.loads(fixture_bytes("tautulli/webhook_playback_stop.json"))
    payload["user_id"] = {"nested": True}
    with pytest.raises(PayloadError, match="user_id"):
        parse_tautulli(json.dumps(payload).encode())
