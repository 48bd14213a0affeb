from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from recommendarr.shared.domain.events import (
    IgnoredEvent,
    LibraryAddition,
    PayloadError,
    PlaybackEvent,
    WebhookEvent,
)
from recommendarr.shared.domain.plex_webhook import external_ids, parse_plex
from recommendarr.shared.domain.title_mapping import ExternalIds
from recommendarr.shared.domain.webhooks import parse_webhook
from tests.conftest import fixture_bytes

SERVER_UUID = "5b4e9c1a7d3f2e8b6a0c9d1e2f3a4b5c6d7e8f90"
RECEIVED = datetime(2025, 3, 16, 21, 5, 30, tzinfo=UTC)


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(fixture_bytes(f"plex/{name}"))
    return loaded


def parse(body: dict[str, Any], received_at: datetime | None = RECEIVED) -> WebhookEvent:
    return parse_plex(json.dumps(body).encode(), received_at)


def playback(body: dict[str, Any], received_at: datetime | None = RECEIVED) -> PlaybackEvent:
    event = parse(body, received_at)
    assert isinstance(event, PlaybackEvent)
    return event


def test_play_fixture_is_the_owner_playing_a_movie() -> None:
    event = playback(payload("webhook_media_play.json"))
    assert event.source == "plex" and event.action == "play"
    assert (event.user.kind, event.user.key, event.user.username) == ("plex", "1", "alice")
    assert event.user.owner_alias is True
    title = event.title
    assert (title.tmdb_id, title.media_type, title.title, title.year) == (
        27205,
        "movie",
        "Inception",
        2010,
    )
    assert (title.imdb_id, title.tvdb_id, title.show_key) == ("tt1375666", 97, None)
    assert title.genres == ("Action", "Science Fiction")
    assert event.library.server_kind == "plex" and event.library.server_id == SERVER_UUID
    assert (event.library.section_id, event.library.library_name) == ("1", "Movies")
    assert event.library.rating_key == "38211"
    assert event.progress == 0.0 and event.duration_s == 8880
    assert event.session_key is None and event.rating is None
    # Plex sends no event time: the receipt dates a play.
    assert event.occurred_at == RECEIVED


def test_stop_fixture_progress_is_view_offset_over_duration() -> None:
    event = playback(payload("webhook_media_stop.json"))
    assert event.action == "stop" and event.ends_a_viewing
    assert event.progress == pytest.approx(7032000 / 8880000)
    # lastViewedAt (2023) is the previous viewing, not this stop.
    assert event.occurred_at == RECEIVED


def test_scrobble_fixture_is_a_watched_episode_that_names_its_show_by_key() -> None:
    event = playback(payload("webhook_media_scrobble.json"))
    assert event.action == "watched"
    assert (event.user.key, event.user.username, event.user.owner_alias) == (
        "31690025",
        "bob_p",
        False,
    )
    title = event.title
    # Guid[] on an episode are the episode's ids: never taken as the show's.
    assert (title.tmdb_id, title.imdb_id, title.tvdb_id) == (None, None, None)
    assert (title.media_type, title.title, title.show_key) == ("tv", "Breaking Bad", "40275")
    assert (title.episode_imdb_id, title.episode_tvdb_id) == ("tt2301451", 4639533)
    assert title.year is None
    assert event.library.rating_key == "40275" and event.library.section_id == "2"
    assert event.library.library_name == "TV Shows"
    assert event.progress == pytest.approx(2528000 / 2940000)
    # lastViewedAt is fresh on a scrobble: it dates the event when it agrees with the receipt.
    assert event.occurred_at == datetime.fromtimestamp(1742159102, tz=UTC)


def test_a_stale_last_viewed_at_gives_way_to_the_receipt() -> None:
    late = RECEIVED + timedelta(days=2)
    assert playback(payload("webhook_media_scrobble.json"), late).occurred_at == late


def test_rate_fixture_carries_the_rating_on_plex_scale() -> None:
    received = datetime.fromtimestamp(1742080000, tz=UTC) + timedelta(seconds=3)
    event = playback(payload("webhook_media_rate.json"), received)
    assert event.action == "rate" and event.rating == 8.0
    assert event.changes_taste and not event.ends_a_viewing
    assert event.title.tmdb_id == 27205
    assert event.occurred_at == datetime.fromtimestamp(1742080000, tz=UTC)


def test_rating_falls_back_to_user_rating() -> None:
    body = payload("webhook_media_rate.json")
    del body["rating"]
    body["Metadata"]["userRating"] = 6.0
    assert playback(body).rating == 6.0


@pytest.mark.parametrize("cleared", [-1, None])
def test_a_cleared_rating_is_ignored(cleared: float | None) -> None:
    body = payload("webhook_media_rate.json")
    body["rating"] = cleared
    del body["Metadata"]["userRating"]
    event = parse(body)
    assert isinstance(event, IgnoredEvent) and "rating" in event.reason


def test_library_new_fixture_is_an_addition() -> None:
    received = datetime.fromtimestamp(1742160000, tz=UTC)
    event = parse(payload("webhook_library_new.json"), received)
    assert isinstance(event, LibraryAddition)
    assert (event.title.tmdb_id, event.title.title, event.title.year) == (
        693134,
        "Dune: Part Two",
        2024,
    )
    assert event.library.rating_key == "38417"
    assert event.occurred_at == datetime.fromtimestamp(1742159990, tz=UTC)


@pytest.mark.parametrize(
    ("account_id", "owner", "alias"),
    [(1, True, True), (1, False, False), (31690025, True, False), ("1", True, True)],
)
def test_owner_alias_is_account_one_on_the_owners_webhook(
    account_id: int | str, owner: bool, alias: bool
) -> None:
    body = payload("webhook_media_stop.json")
    body["Account"]["id"] = account_id
    body["owner"] = owner
    event = playback(body)
    assert event.user.owner_alias is alias and event.user.key == str(account_id)


@pytest.mark.parametrize(
    ("guid", "expected"),
    [
        ("com.plexapp.agents.imdb://tt0137523?lang=en", ExternalIds(imdb="tt0137523")),
        ("com.plexapp.agents.themoviedb://550?lang=en", ExternalIds(tmdb=550)),
        ("plex://movie/5d7768ba96b655001fdc0408", ExternalIds()),
        ("local://38211", ExternalIds()),
    ],
)
def test_legacy_movie_guid(guid: str, expected: ExternalIds) -> None:
    body = payload("webhook_media_stop.json")
    del body["Metadata"]["Guid"]
    body["Metadata"]["guid"] = guid
    title = playback(body).title
    assert ExternalIds(title.tmdb_id, title.imdb_id, title.tvdb_id) == expected


@pytest.mark.parametrize(
    ("guid", "tmdb_id", "tvdb_id"),
    [
        ("com.plexapp.agents.thetvdb://81189/5/14?lang=en", None, 81189),
        ("com.plexapp.agents.themoviedb://1396/5/14?lang=en", 1396, None),
    ],
)
def test_legacy_episode_guid_names_the_show(guid: str, tmdb_id: int, tvdb_id: int) -> None:
    body = payload("webhook_media_scrobble.json")
    del body["Metadata"]["Guid"]
    body["Metadata"]["guid"] = guid
    title = playback(body).title
    assert (title.tmdb_id, title.tvdb_id, title.show_key) == (tmdb_id, tvdb_id, "40275")
    assert (title.episode_imdb_id, title.episode_tvdb_id) == (None, None)


def test_new_agent_guids_win_over_the_plex_guid() -> None:
    metadata = payload("webhook_media_play.json")["Metadata"]
    assert external_ids(metadata) == ExternalIds(tmdb=27205, imdb="tt1375666", tvdb=97)


@pytest.mark.parametrize(
    "event",
    [
        "admin.database.backup",
        "admin.database.corrupted",
        "device.new",
        "playback.started",
        "library.on.deck",
    ],
)
def test_admin_and_device_events_are_ignored(event: str) -> None:
    body = payload("webhook_media_play.json")
    body["event"] = event
    result = parse(body)
    assert isinstance(result, IgnoredEvent) and result.action == event


def test_music_is_ignored() -> None:
    body = payload("webhook_media_play.json")
    body["Metadata"]["type"] = "track"
    assert isinstance(parse(body), IgnoredEvent)


def test_receipt_time_makes_the_event_key() -> None:
    body = payload("webhook_media_stop.json")
    same = playback(body).event_key == playback(body).event_key
    later = playback(body, RECEIVED + timedelta(seconds=5)).event_key
    assert same and later != playback(body).event_key


def test_registered_as_a_webhook_source() -> None:
    body = json.dumps(payload("webhook_media_stop.json")).encode()
    event = parse_webhook("plex", body, RECEIVED)
    assert isinstance(event, PlaybackEvent) and event.occurred_at == RECEIVED


def field_error(body: object) -> str:
    with pytest.raises(PayloadError) as caught:
        parse_plex(body if isinstance(body, bytes) else json.dumps(body).encode(), RECEIVED)
    return caught.value.field


def changed(name: str, path: str, value: object) -> dict[str, Any]:
    body = payload(name)
    *parents, key = path.split(".")
    target = body
    for parent in parents:
        target = target[parent]
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return body


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("event", ...),
        ("Metadata", ...),
        ("Metadata", "inception"),
        ("Metadata.type", ...),
        ("Metadata.ratingKey", ...),
        ("Metadata.title", ...),
        ("Metadata.librarySectionID", ...),
        ("Metadata.librarySectionID", "movies"),
        ("Metadata.viewOffset", "most of it"),
        ("Metadata.duration", 1.5),
        ("Metadata.Guid", "imdb://tt1375666"),
        ("Account", ...),
        ("Account.id", ...),
        ("Account.id", "alice"),
        ("Account.id", True),
        ("Server", ...),
        ("Server.uuid", ...),
    ],
)
def test_a_bad_field_is_named(path: str, value: object) -> None:
    assert field_error(changed("webhook_media_stop.json", path, value)) == path


def test_an_episode_without_its_show_key_is_named() -> None:
    body = changed("webhook_media_scrobble.json", "Metadata.grandparentRatingKey", ...)
    assert field_error(body) == "Metadata.grandparentRatingKey"


def test_a_rating_off_the_scale_is_named() -> None:
    assert field_error(changed("webhook_media_rate.json", "rating", 11)) == "rating"


@pytest.mark.parametrize("body", [b"event=media.play", b"[1, 2]", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_named(body: bytes) -> None:
    assert field_error(body) == "body"
