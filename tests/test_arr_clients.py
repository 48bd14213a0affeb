"""Radarr, Sonarr and Overseerr clients against loopback servers speaking the fixtures."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from pydantic import SecretStr

from recommendarr.settings import ArrInstance, Settings
from recommendarr.shared.clients.arr import (
    ArrTitle,
    RadarrClient,
    RateLimited,
    SonarrClient,
    build_arr_clients,
)
from recommendarr.shared.clients.seerr import SeerrClient, build_seerr_client
from recommendarr.shared.errors import NotFound, Permanent, Transient
from tests.conftest import fixture_bytes
from tests.fake_arr import FakeUpstream, serve_upstream

API_KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with serve_upstream() as fake:
        yield fake


def instance(url: str, **changes: object) -> ArrInstance:
    fields: dict[str, object] = {
        "name": "main",
        "url": url,
        "api_key": SecretStr(API_KEY),
        "quality_profile_id": 4,
        "root_folder": "/movies",
        "domain": "movies",
    }
    fields.update(changes)
    return ArrInstance.model_validate(fields)


def radarr(url: str, timeout: float = 5.0, **changes: object) -> RadarrClient:
    return RadarrClient(httpx.Client(timeout=timeout), instance(url, **changes))


def sonarr(url: str, **changes: object) -> SonarrClient:
    fields: dict[str, object] = {"name": "tv", "quality_profile_id": 6, "root_folder": "/tv"}
    fields.update(changes)
    return SonarrClient(httpx.Client(timeout=5.0), instance(url, **fields))


def seerr(url: str, timeout: float = 5.0) -> SeerrClient:
    return SeerrClient(httpx.Client(timeout=timeout), url + "/api/v1/", SecretStr(API_KEY))


# --- library, calendar, status ---------------------------------------------------------------


def test_radarr_library(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("GET", "/api/v3/movie", 200, "radarr/api_v3_movie.json")
    titles = radarr(upstream.url + "/").library()
    assert titles == [
        ArrTitle("movie", 42, 27205, None, "tt1375666", "Inception", 2010, True, True)
    ]
    assert upstream.seen[0].headers["x-api-key"] == API_KEY
    assert "apikey" not in upstream.seen[0].query


def test_radarr_has_file_from_statistics_when_hasfile_is_absent(upstream: FakeUpstream) -> None:
    movies = json.loads(fixture_bytes("radarr/api_v3_movie.json"))
    del movies[0]["hasFile"]
    upstream.reply("GET", "/api/v3/movie", 200, movies)
    assert radarr(upstream.url).library()[0].has_file is True
    del movies[0]["statistics"]
    upstream.reply("GET", "/api/v3/movie", 200, movies)
    assert radarr(upstream.url).library()[0].has_file is False


def test_sonarr_library_has_file_from_episode_files(upstream: FakeUpstream) -> None:
    series = json.loads(fixture_bytes("sonarr/api_v3_series.json"))
    upstream.reply("GET", "/api/v3/series", 200, series)
    [title] = sonarr(upstream.url).library()
    assert title == ArrTitle("tv", 12, 1396, 81189, "tt0903747", "Breaking Bad", 2008, True, True)
    series[0]["statistics"]["episodeFileCount"] = 0
    upstream.reply("GET", "/api/v3/series", 200, series)
    assert sonarr(upstream.url).library()[0].has_file is False


def test_calendars(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("GET", "/api/v3/calendar", 200, "radarr/api_v3_calendar.json")
    [movie] = radarr(upstream.url).calendar(date(2024, 4, 1), date(2024, 5, 1))
    assert (movie.tmdb_id, movie.title, movie.has_file) == (693134, "Dune: Part Two", False)
    assert movie.airs_at == datetime(2024, 4, 16, tzinfo=UTC)  # the digital release
    assert upstream.seen[-1].query["start"] == ["2024-04-01"]
    assert upstream.seen[-1].query["end"] == ["2024-05-01"]

    upstream.reply_fixture("GET", "/api/v3/calendar", 200, "sonarr/api_v3_calendar.json")
    [episode] = sonarr(upstream.url).calendar(date(2025, 3, 10), date(2025, 3, 17))
    assert (episode.tvdb_id, episode.tmdb_id, episode.title) == (371980, 95396, "Severance")
    assert (episode.season_number, episode.episode_number) == (2, 9)
    assert episode.episode_title == "The After Hours"
    assert upstream.seen[-1].query["includeSeries"] == ["true"]


def test_status_names_the_product(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("GET", "/api/v3/system/status", 200, "radarr/api_v3_system_status.json")
    status = radarr(upstream.url).status()
    assert (status.app_name, status.version) == ("Radarr", "5.28.0.10274")


def test_a_sonarr_configured_as_radarr_is_named(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("GET", "/api/v3/system/status", 200, "sonarr/api_v3_system_status.json")
    with pytest.raises(Permanent, match=r"answers as Sonarr 4\.0\.19\.2979, not Radarr"):
        radarr(upstream.url).status()
    assert sonarr(upstream.url).status().app_name == "Sonarr"


# --- adding ----------------------------------------------------------------------------------


def test_add_movie_body_is_the_documented_one(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("POST", "/api/v3/movie", 201, "radarr/api_v3_movie_post_response.json")
    result = radarr(upstream.url).add_movie(693134, "Dune: Part Two", 2024)
    expected = json.loads(fixture_bytes("radarr/api_v3_movie_post_request.json"))
    expected["tags"] = []  # instances configure no tags
    assert upstream.posted("/api/v3/movie") == [expected]
    assert result.added and result.title is not None
    assert (result.title.arr_id, result.title.tmdb_id, result.title.monitored) == (57, 693134, True)


def test_add_series_body_is_the_documented_one(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("POST", "/api/v3/series", 201, "sonarr/api_v3_series_post_response.json")
    result = sonarr(upstream.url).add_series(371980, "Severance")
    expected = json.loads(fixture_bytes("sonarr/api_v3_series_post_request.json"))
    assert upstream.posted("/api/v3/series") == [expected]
    assert result.added and result.title is not None
    assert (result.title.arr_id, result.title.tvdb_id) == (31, 371980)


def test_an_anime_sonarr_adds_anime_series(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("POST", "/api/v3/series", 201, "sonarr/api_v3_series_post_response.json")
    sonarr(upstream.url, domain="anime", root_folder="/anime").add_series(371980, "Severance")
    [body] = upstream.posted("/api/v3/series")
    assert (body["seriesType"], body["rootFolderPath"]) == ("anime", "/anime")


@pytest.mark.parametrize(
    ("path", "fixture"),
    [
        ("/api/v3/movie", "radarr/api_v3_movie_post_exists.json"),
        ("/api/v3/series", "sonarr/api_v3_series_post_exists.json"),
    ],
)
def test_already_added_is_not_an_error(upstream: FakeUpstream, path: str, fixture: str) -> None:
    upstream.reply_fixture("POST", path, 400, fixture)
    if path.endswith("movie"):
        result = radarr(upstream.url).add_movie(693134, "Dune: Part Two", 2024)
    else:
        result = sonarr(upstream.url).add_series(371980, "Severance")
    assert not result.added and "already been added" in result.message


def test_other_validation_failures_are_permanent(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("POST", "/api/v3/movie", 400, "radarr/api_v3_movie_post_invalid.json")
    with pytest.raises(Permanent, match="Path does not exist"):
        radarr(upstream.url).add_movie(693134, "Dune: Part Two", 2024)


def test_adding_without_a_root_folder_is_refused_before_calling(upstream: FakeUpstream) -> None:
    with pytest.raises(Permanent, match="root_folder"):
        radarr(upstream.url, root_folder="").add_movie(693134, "Dune: Part Two", 2024)
    assert upstream.seen == []


# --- errors ----------------------------------------------------------------------------------


def test_401_is_permanent_and_never_shows_the_key(
    upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    upstream.reply("GET", "/api/v3/movie", 401, b"")
    with pytest.raises(Permanent, match="rejected the API key") as raised:
        radarr(upstream.url).library()
    assert not isinstance(raised.value, Transient)
    assert API_KEY not in str(raised.value)
    assert API_KEY not in caplog.text


def test_404_is_not_found(upstream: FakeUpstream) -> None:
    with pytest.raises(NotFound, match="URL base"):
        radarr(upstream.url + "/radarr").library()


def test_429_carries_retry_after(upstream: FakeUpstream) -> None:
    upstream.reply("GET", "/api/v3/series", 429, {"message": "slow down"}, Retry_After="7")
    with pytest.raises(RateLimited) as raised:
        sonarr(upstream.url).library()
    assert raised.value.retry_after_s == 7.0
    assert isinstance(raised.value, Transient)


def test_429_with_an_http_date(upstream: FakeUpstream) -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    upstream.reply("GET", "/api/v3/movie", 429, b"", Retry_After=format_datetime(later, True))
    with pytest.raises(RateLimited) as raised:
        radarr(upstream.url).library()
    assert raised.value.retry_after_s is not None and 100 < raised.value.retry_after_s <= 120


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_transient(upstream: FakeUpstream, status: int) -> None:
    upstream.reply("GET", "/api/v3/movie", status, b"<html>Bad gateway</html>")
    with pytest.raises(Transient, match=str(status)):
        radarr(upstream.url).library()


def test_timeout_is_transient(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("GET", "/api/v3/movie", 200, "radarr/api_v3_movie.json")
    upstream.slow_s = 1.0
    with pytest.raises(Transient, match="timed out"):
        radarr(upstream.url, timeout=0.2).library()


def test_unreachable_is_transient() -> None:
    with serve_upstream() as gone:
        url = gone.url
    with pytest.raises(Transient, match="unreachable"):
        radarr(url).library()


@pytest.mark.parametrize(
    "body", [b"<html>Radarr login</html>", b'{"truncated": ', b'{"id": 1}', b"[1, 2]"]
)
def test_malformed_bodies_are_transient(upstream: FakeUpstream, body: bytes) -> None:
    upstream.reply("GET", "/api/v3/movie", 200, body)
    with pytest.raises(Transient):
        radarr(upstream.url).library()


def test_an_entry_without_id_is_transient(upstream: FakeUpstream) -> None:
    movies = json.loads(fixture_bytes("radarr/api_v3_movie.json"))
    del movies[0]["id"]
    upstream.reply("GET", "/api/v3/movie", 200, movies)
    with pytest.raises(Transient, match="'id'"):
        radarr(upstream.url).library()


def test_builders(upstream: FakeUpstream) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        RADARR_INSTANCES=[instance(upstream.url)],
        SONARR_INSTANCES=[instance(upstream.url, name="tv"), instance(upstream.url, name="anime")],
        SEERR_URL=upstream.url,
        SEERR_API_KEY=SecretStr(API_KEY),
    )
    http = httpx.Client()
    clients = build_arr_clients(settings, http)
    assert list(clients.radarr) == ["main"] and list(clients.sonarr) == ["tv", "anime"]
    assert build_seerr_client(settings, http) is not None
    no_seerr = settings.model_copy(update={"seerr_url": None})
    assert build_seerr_client(no_seerr, http) is None
    with pytest.raises(ValueError, match="SEERR_API_KEY"):
        build_seerr_client(settings.model_copy(update={"seerr_api_key": None}), http)
    twice = settings.model_copy(update={"radarr": [instance(upstream.url)] * 2})
    with pytest.raises(ValueError, match="same name"):
        build_arr_clients(twice, http)


# --- Overseerr / Jellyseerr ------------------------------------------------------------------


def test_seerr_movie_request_created(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("POST", "/api/v1/request", 201, "overseerr/request_create_response.json")
    outcome = seerr(upstream.url).request("movie", 693134)
    assert (outcome.state, outcome.request_id) == ("created", 188)
    assert upstream.posted("/api/v1/request") == [
        json.loads(fixture_bytes("overseerr/request_create_body_movie.json"))
    ]
    headers = upstream.seen[0].headers
    assert headers["x-api-key"] == API_KEY and "x-api-user" not in headers


def test_seerr_tv_request_asks_for_every_season_on_behalf_of_a_user(
    upstream: FakeUpstream,
) -> None:
    upstream.reply_fixture("POST", "/api/v1/request", 201, "overseerr/request_create_response.json")
    seerr(upstream.url).request("tv", 95396, user_id=4, tvdb_id=371980)
    documented = json.loads(fixture_bytes("overseerr/request_create_body_tv.json"))
    del documented["userId"]  # the user goes in X-Api-User instead
    documented["seasons"] = "all"
    assert upstream.posted("/api/v1/request") == [documented]
    assert upstream.seen[0].headers["x-api-user"] == "4"


def test_seerr_409_is_already_requested(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("POST", "/api/v1/request", 409, "overseerr/request_exists_409.json")
    outcome = seerr(upstream.url).request("movie", 693134)
    assert outcome.state == "exists" and "already exists" in outcome.message


def test_seerr_202_is_nothing_to_request(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("POST", "/api/v1/request", 202, "overseerr/request_no_seasons_202.json")
    assert seerr(upstream.url).request("tv", 95396).state == "nothing_to_request"


def test_seerr_403_is_permanent_with_its_message(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("POST", "/api/v1/request", 403, "overseerr/request_quota_403.json")
    with pytest.raises(Permanent, match="Movie Quota exceeded"):
        seerr(upstream.url).request("movie", 693134)


def test_seerr_status_and_errors(upstream: FakeUpstream) -> None:
    upstream.reply_fixture("GET", "/api/v1/status", 200, "overseerr/status.json")
    assert seerr(upstream.url).status().version == "1.33.2"
    upstream.reply("GET", "/api/v1/status", 200, {"appName": "Radarr"})
    with pytest.raises(Permanent, match="does not answer like"):
        seerr(upstream.url).status()
    upstream.reply("POST", "/api/v1/request", 503, b"")
    with pytest.raises(Transient):
        seerr(upstream.url).request("movie", 693134)
    upstream.reply("POST", "/api/v1/request", 201, b"not json")
    with pytest.raises(Transient, match="not JSON"):
        seerr(upstream.url).request("movie", 693134)
    upstream.reply("POST", "/api/v1/request", 429, b"", Retry_After="30")
    with pytest.raises(RateLimited) as raised:
        seerr(upstream.url).request("movie", 693134)
    assert raised.value.retry_after_s == 30.0
