from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from recommendarr.shared.domain.events import (
    IgnoredEvent,
    LibraryAddition,
    PayloadError,
    PlaybackEvent,
    WebhookEvent,
)
from recommendarr.shared.domain.jellyfin_webhook import (
    TEMPLATE_KEYS,
    parse_jellyfin,
    provider_ids,
)
from recommendarr.shared.domain.title_mapping import ExternalIds
from recommendarr.shared.domain.webhooks import parse_webhook
from tests.conftest import fixture_bytes

RECEIVED = datetime(2025, 3, 15, 21, 59, 1, tzinfo=UTC)
ALICE = "5f1d6a9e2c7b4a31b8e0d4c2a9f7e6b1"
SERVER = "f27caa37e5142225cceded48f6553502"
BREAKING_BAD = "a0b1c2d3e4f5061728394a5b6c7d8e9f"


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(fixture_bytes(f"jellyfin/{name}"))
    return loaded


def parse(body: dict[str, Any]) -> WebhookEvent:
    return parse_jellyfin(json.dumps(body).encode(), RECEIVED)


def playback(body: dict[str, Any]) -> PlaybackEvent:
    event = parse(body)
    assert isinstance(event, PlaybackEvent)
    return event


def test_playback_start_fixture_is_a_movie_play() -> None:
    event = playback(payload("webhook_playback_start.json"))
    assert event.source == "jellyfin" and event.action == "play"
    # The template renders guids hyphenated; they are stored as the API writes them.
    assert (event.user.kind, event.user.key, event.user.username) == ("jellyfin", ALICE, "alice")
    title = event.title
    assert (title.tmdb_id, title.imdb_id, title.media_type, title.title, title.year) == (
        27205,
        "tt1375666",
        "movie",
        "Inception",
        2010,
    )
    assert title.genres == ("Action", "Science Fiction", "Adventure")
    assert event.library.server_kind == "jellyfin" and event.library.server_id == SERVER
    assert event.library.rating_key == "d4f1c2b3a4e5f60718293a4b5c6d7e8f"
    assert event.library.section_id == "webhook:movie"
    assert event.progress == 0.0
    # Ticks are 100 ns: 88 800 000 000 ticks is 8880 s.
    assert event.duration_s == 8880
    assert event.session_key == "8c2e5b7f19a04d6e9b3c1f2a7d5e4c30"
    assert event.occurred_at == RECEIVED


def test_playback_stop_fixture_played_to_completion_is_watched() -> None:
    event = playback(payload("webhook_playback_stop.json"))
    assert event.action == "watched"
    title = event.title
    # An episode's providers are the episode's: the show is named by its series id.
    assert (title.tmdb_id, title.imdb_id, title.tvdb_id) == (None, None, None)
    assert (title.media_type, title.title, title.show_key) == ("tv", "Breaking Bad", BREAKING_BAD)
    assert (title.episode_imdb_id, title.episode_tvdb_id) == ("tt2301451", 4639533)
    assert title.year == 2008  # the plugin writes the series' year on episodes
    assert event.library.rating_key == BREAKING_BAD and event.library.section_id == "webhook:tv"
    assert event.progress == pytest.approx(28510000000 / 29400000000)
    assert event.duration_s == 2940


@pytest.mark.parametrize(
    ("value", "action"), [("False", "stop"), ("", "stop"), ("true", "watched")]
)
def test_played_to_completion_decides_stop_or_watched(value: str, action: str) -> None:
    body = payload("webhook_playback_stop.json")
    body["played_to_completion"] = value
    assert playback(body).action == action


def test_send_all_properties_shape_reads_the_same_as_the_template() -> None:
    template = playback(payload("webhook_playback_stop.json"))
    everything = playback(payload("webhook_playback_stop_send_all_properties.json"))
    assert everything.title == template.title
    assert everything.user == template.user
    assert everything.library == template.library
    assert (everything.action, everything.progress, everything.duration_s) == (
        template.action,
        template.progress,
        template.duration_s,
    )
    assert everything.session_key == template.session_key
    # All properties carry their own time.
    assert everything.occurred_at == datetime(2025, 3, 15, 21, 59, 0, 482179, tzinfo=UTC)


def render(template: str, values: dict[str, Any]) -> str:
    """Handlebars as the plugin renders a flat template: C# booleans, missing values as ""."""

    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1))
        if isinstance(found, bool):
            return "True" if found else "False"
        return "" if found is None else str(found)

    return re.sub(r"\{\{\{?(\w+)\}?\}\}", value, template)


def test_the_template_we_document_renders_to_what_the_parser_reads() -> None:
    properties = payload("webhook_playback_stop_send_all_properties.json")
    rendered = render(fixture_bytes("jellyfin/webhook_template.handlebars").decode(), properties)
    body = json.loads(rendered)
    assert set(TEMPLATE_KEYS.values()) - {"utc_timestamp"} <= set(body)
    from_template = parse_jellyfin(rendered.encode(), RECEIVED)
    from_properties = playback(properties)
    assert isinstance(from_template, PlaybackEvent)
    assert from_template.title == from_properties.title
    assert from_template.action == from_properties.action == "watched"


def test_typed_and_string_ticks_agree() -> None:
    body = payload("webhook_playback_stop.json")
    body["run_time_ticks"], body["playback_position_ticks"] = 29400000000, 28510000000
    assert playback(body).progress == playback(payload("webhook_playback_stop.json")).progress


def test_missing_runtime_leaves_progress_unknown() -> None:
    body = payload("webhook_playback_stop.json")
    body["run_time_ticks"] = ""
    event = playback(body)
    assert event.progress is None and event.duration_s is None


def test_item_added_fixture_is_an_addition() -> None:
    event = parse(payload("webhook_item_added.json"))
    assert isinstance(event, LibraryAddition)
    assert (event.title.tmdb_id, event.title.title, event.title.year) == (
        693134,
        "Dune: Part Two",
        2024,
    )
    assert event.title.genres == ("Science Fiction", "Adventure")
    assert event.library.rating_key == "7e6d5c4b3a291807f6e5d4c3b2a19080"


def test_a_series_added_carries_its_own_ids() -> None:
    body = payload("webhook_item_added.json")
    body.update(
        item_type="Series", name="Breaking Bad", provider_tmdb="1396", provider_tvdb="81189"
    )
    event = parse(body)
    assert isinstance(event, LibraryAddition)
    assert (event.title.tmdb_id, event.title.tvdb_id, event.title.media_type) == (1396, 81189, "tv")
    assert event.title.show_key == "7e6d5c4b3a291807f6e5d4c3b2a19080"


@pytest.mark.parametrize(
    "notification", ["PlaybackProgress", "UserDataSaved", "AuthenticationFailure"]
)
def test_other_notifications_are_ignored(notification: str) -> None:
    body = payload("webhook_playback_start.json")
    body["notification_type"] = notification
    result = parse(body)
    assert isinstance(result, IgnoredEvent) and result.action == notification


def test_music_is_ignored() -> None:
    body = payload("webhook_playback_start.json")
    body["item_type"] = "Audio"
    assert isinstance(parse(body), IgnoredEvent)


def test_registered_as_a_webhook_source() -> None:
    event = parse_webhook(
        "jellyfin", fixture_bytes("jellyfin/webhook_playback_start.json"), RECEIVED
    )
    assert isinstance(event, PlaybackEvent) and event.occurred_at == RECEIVED


def field_error(fixture: str, changes: dict[str, object]) -> str:
    body = payload(fixture)
    for key, value in changes.items():
        if value is ...:
            del body[key]
        else:
            body[key] = value
    with pytest.raises(PayloadError) as caught:
        parse(body)
    return caught.value.field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user_id", ""),
        ("user_id", "alice"),
        ("server_id", ...),
        ("item_type", ""),
        ("name", ""),
        ("provider_tmdb", "tt1375666"),
        ("provider_imdb", "27205"),
        ("run_time_ticks", "soon"),
        ("playback_position_ticks", "-5"),
        ("year", "2010.5"),
    ],
)
def test_a_bad_template_field_is_named(field: str, value: object) -> None:
    assert field_error("webhook_playback_start.json", {field: value}) == field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("UserId", None),
        ("SeriesId", ...),
        ("PlayedToCompletion", "maybe"),
        ("UtcTimestamp", "yesterday"),
        ("RunTimeTicks", True),
    ],
)
def test_a_bad_all_properties_field_is_named(field: str, value: object) -> None:
    name = "webhook_playback_stop_send_all_properties.json"
    assert field_error(name, {field: value}) == field


def test_an_episode_without_its_series_is_named() -> None:
    assert field_error("webhook_playback_stop.json", {"series_id": ""}) == "series_id"


def test_an_unknown_shape_names_the_notification_type() -> None:
    assert (
        field_error("webhook_playback_start.json", {"notification_type": ...})
        == "notification_type"
    )


@pytest.mark.parametrize("body", [b"NotificationType: PlaybackStart", b'"PlaybackStart"'])
def test_a_body_that_is_not_a_json_object_is_named(body: bytes) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_jellyfin(body, RECEIVED)
    assert caught.value.field == "body"


def test_provider_ids_of_an_api_item() -> None:
    series = {
        "Name": "Breaking Bad",
        "ProviderIds": {"Tmdb": "1396", "Imdb": "tt0903747", "Tvdb": "81189"},
    }
    assert provider_ids(series) == ExternalIds(tmdb=1396, imdb="tt0903747", tvdb=81189)
    assert provider_ids({"Name": "Home videos"}) == ExternalIds()
