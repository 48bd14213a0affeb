"""Radarr/Sonarr webhook parsing (every fixture) and grab routing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from recommendarr.shared.domain.arr import (
    ArrEvent,
    GrabRoute,
    NoRoute,
    instance_key,
    parse_arr_webhook,
    resolve_instance,
    route_grab,
    title_domain,
)
from recommendarr.shared.domain.events import IgnoredEvent, PayloadError
from tests.conftest import fixture_bytes


def fixture(path: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(fixture_bytes(path))
    return payload


def parse(source: str, payload: dict[str, Any] | bytes) -> ArrEvent:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    event = parse_arr_webhook(source, body)
    assert isinstance(event, ArrEvent)
    return event


def test_radarr_download() -> None:
    event = parse("radarr", fixture_bytes("radarr/webhook_download.json"))
    assert (event.source, event.event_type, event.instance_name) == ("radarr", "Download", "Radarr")
    assert (event.media_type, event.tmdb_id, event.imdb_id, event.tvdb_id) == (
        "movie",
        27205,
        "tt1375666",
        None,
    )
    assert (event.title, event.year, event.arr_id) == ("Inception", 2010, 42)
    assert event.is_download and not event.is_upgrade and not event.is_test
    assert event.genres == ("Action", "Science Fiction", "Adventure")
    # Seven fractional digits, as .NET writes them.
    assert event.file_added_at == datetime(2025, 3, 14, 21, 7, 45, 271234, tzinfo=UTC)


def test_radarr_upgrade_is_a_download_flagged_as_upgrade() -> None:
    payload = fixture("radarr/webhook_download.json")
    payload["isUpgrade"] = True
    payload["deletedFiles"] = [{"id": 300, "relativePath": "Inception (2010) HDTV-720p.mkv"}]
    event = parse("radarr", payload)
    assert event.is_download and event.is_upgrade


def test_radarr_grab_and_movie_added() -> None:
    grab = parse("radarr", fixture_bytes("radarr/webhook_grab.json"))
    assert (grab.event_type, grab.tmdb_id, grab.arr_id, grab.file_added_at) == (
        "Grab",
        27205,
        42,
        None,
    )
    added = parse("radarr", fixture_bytes("radarr/webhook_movie_added.json"))
    assert (added.event_type, added.tmdb_id, added.title, added.year, added.arr_id) == (
        "MovieAdded",
        693134,
        "Dune: Part Two",
        2024,
        57,
    )
    assert not added.is_download


@pytest.mark.parametrize("source", ["radarr", "sonarr"])
def test_test_button_carries_no_ids(source: str) -> None:
    event = parse(source, fixture_bytes(f"{source}/webhook_test.json"))
    assert event.is_test and event.event_type == "Test"
    # The placeholders (tmdbId 0/1234, imdbId "5678", tvdbId 1234) never become ids.
    assert (event.tmdb_id, event.tvdb_id, event.imdb_id, event.arr_id) == (None, None, None, None)


def test_sonarr_v4_download() -> None:
    event = parse("sonarr", fixture_bytes("sonarr/webhook_download.json"))
    assert (event.source, event.media_type, event.event_type) == ("sonarr", "tv", "Download")
    assert (event.tvdb_id, event.tmdb_id, event.imdb_id) == (81189, 1396, "tt0903747")
    assert (event.title, event.year, event.arr_id) == ("Breaking Bad", 2008, 12)
    assert event.file_added_at == datetime(2025, 3, 15, 2, 14, 9, 551234, tzinfo=UTC)


def test_sonarr_develop_import_complete_download() -> None:
    event = parse("sonarr", fixture_bytes("sonarr/webhook_download_develop.json"))
    assert event.is_download and not event.is_upgrade
    assert (event.tvdb_id, event.tmdb_id, event.arr_id) == (81189, 1396, 12)
    # The earliest of the imported files.
    assert event.file_added_at == datetime(2025, 3, 15, 2, 14, 9, 551234, tzinfo=UTC)


def test_sonarr_download_without_any_file_block() -> None:
    payload = fixture("sonarr/webhook_download.json")
    del payload["episodeFile"]
    assert parse("sonarr", payload).file_added_at is None


def test_sonarr_grab_and_series_add() -> None:
    grab = parse("sonarr", fixture_bytes("sonarr/webhook_grab.json"))
    assert (grab.event_type, grab.tvdb_id, grab.arr_id) == ("Grab", 81189, 12)
    added = parse("sonarr", fixture_bytes("sonarr/webhook_series_add.json"))
    assert (added.event_type, added.tvdb_id, added.tmdb_id, added.title) == (
        "SeriesAdd",
        371980,
        95396,
        "Severance",
    )


def test_sonarr_without_tmdb_mapping_keeps_tvdb() -> None:
    payload = fixture("sonarr/webhook_series_add.json")
    payload["series"]["tmdbId"] = 0
    event = parse("sonarr", payload)
    assert (event.tmdb_id, event.tvdb_id) == (None, 371980)


@pytest.mark.parametrize(
    ("source", "event_type"),
    [
        ("radarr", "Rename"),
        ("radarr", "Health"),
        ("radarr", "SeriesAdd"),
        ("sonarr", "MovieAdded"),
        ("sonarr", "SomethingNew"),
    ],
)
def test_other_event_types_are_ignored_with_a_reason(source: str, event_type: str) -> None:
    payload = fixture(f"{source}/webhook_grab.json")
    payload["eventType"] = event_type
    event = parse_arr_webhook(source, json.dumps(payload).encode())
    assert isinstance(event, IgnoredEvent)
    assert event.action == event_type and event_type in event.reason


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (b'{"movie": {}}', "eventType"),
        (b'{"eventType": "Grab"}', "movie"),
        (b'{"eventType": "Grab", "movie": "Inception"}', "movie"),
    ],
)
def test_unreadable_radarr_bodies_name_the_field(body: bytes, field: str) -> None:
    with pytest.raises(PayloadError) as raised:
        parse_arr_webhook("radarr", body)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("tmdbId", None), "movie.tmdbId"),
        (("tmdbId", "27205"), "movie.tmdbId"),
        (("tmdbId", 0), "movie.tmdbId"),
        (("id", None), "movie.id"),
        (("title", ""), "movie.title"),
        (("year", 99999), "movie.year"),
        (("genres", "Action"), "movie.genres"),
    ],
)
def test_bad_movie_fields_are_named(change: tuple[str, object], field: str) -> None:
    payload = fixture("radarr/webhook_download.json")
    key, value = change
    if value is None:
        del payload["movie"][key]
    else:
        payload["movie"][key] = value
    with pytest.raises(PayloadError) as raised:
        parse_arr_webhook("radarr", json.dumps(payload).encode())
    assert raised.value.field == field


def test_bad_sonarr_fields_are_named() -> None:
    payload = fixture("sonarr/webhook_download.json")
    del payload["series"]["tvdbId"]
    with pytest.raises(PayloadError) as raised:
        parse_arr_webhook("sonarr", json.dumps(payload).encode())
    assert raised.value.field == "series.tvdbId"
    payload = fixture("sonarr/webhook_download.json")
    payload["episodeFile"]["dateAdded"] = "yesterday"
    with pytest.raises(PayloadError) as raised:
        parse_arr_webhook("sonarr", json.dumps(payload).encode())
    assert raised.value.field == "episodeFile.dateAdded"
    payload = fixture("sonarr/webhook_download.json")
    payload["isUpgrade"] = "no"
    with pytest.raises(PayloadError) as raised:
        parse_arr_webhook("sonarr", json.dumps(payload).encode())
    assert raised.value.field == "isUpgrade"


def test_unknown_source_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="lidarr"):
        parse_arr_webhook("lidarr", b"{}")


def test_instance_resolution() -> None:
    assert resolve_instance("Radarr", ["main"]) == "main"
    assert resolve_instance("sonarr-anime", ["tv", "Sonarr-Anime"]) == "Sonarr-Anime"
    assert resolve_instance("Sonarr", ["tv", "anime"]) == "Sonarr"
    assert resolve_instance("Radarr", []) == "Radarr"
    assert instance_key("radarr", "main") != instance_key("sonarr", "main")


@dataclass(frozen=True)
class Target:
    name: str
    domain: str


MOVIES = Target("movies", "movies")
TV = Target("tv", "tv")
ANIME = Target("anime", "anime")


def test_seerr_wins_when_configured() -> None:
    assert route_grab("movie", "movies", True, [MOVIES], [TV]) == GrabRoute("seerr")
    assert route_grab("tv", "anime", True, [], []) == GrabRoute("seerr")


def test_movies_go_to_radarr() -> None:
    assert route_grab("movie", "movies", False, [MOVIES], [TV]) == GrabRoute("radarr", "movies")
    anime_radarr = Target("anime-movies", "anime")
    assert route_grab("movie", "anime", False, [MOVIES, anime_radarr], []) == GrabRoute(
        "radarr", "anime-movies"
    )
    assert route_grab("movie", "anime", False, [MOVIES], []) == GrabRoute("radarr", "movies")


def test_tv_goes_to_the_sonarr_of_its_domain() -> None:
    assert route_grab("tv", "tv", False, [], [TV, ANIME]) == GrabRoute("sonarr", "tv")
    assert route_grab("tv", "anime", False, [], [TV, ANIME]) == GrabRoute("sonarr", "anime")
    # Anime falls back to the plain Sonarr; a Sonarr left at the default domain is a TV one.
    assert route_grab("tv", "anime", False, [], [TV]) == GrabRoute("sonarr", "tv")
    assert route_grab("tv", "tv", False, [], [Target("main", "movies")]) == GrabRoute(
        "sonarr", "main"
    )


def test_no_route_says_why() -> None:
    no_radarr = route_grab("movie", "movies", False, [], [TV])
    assert isinstance(no_radarr, NoRoute) and "RADARR_INSTANCES" in no_radarr.reason
    only_anime = route_grab("tv", "tv", False, [MOVIES], [ANIME])
    assert isinstance(only_anime, NoRoute)
    assert "tv titles" in only_anime.reason and "anime (anime)" in only_anime.reason


def test_title_domain() -> None:
    assert title_domain("tv", ["Animation", "Action"], "ja") == "anime"
    assert title_domain("tv", ["Animation"], "en") == "tv"
    assert title_domain("movie", ["Drama"], "ja") == "movies"
    assert title_domain("tv", ["Drama"], "en", library_domain="anime") == "anime"
