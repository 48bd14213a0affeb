"""Radarr and Sonarr over their v3 API (header X-Api-Key; the key never enters a log or error).

Both answer System.Text.Json bodies: camelCase, nulls omitted, `id` omitted when 0. Error
mapping: 401 and other refusals are Permanent, 404 NotFound, 429/5xx/timeouts/unreadable
bodies Transient (429 carries Retry-After as `RateLimited.retry_after_s`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Literal

import httpx

from recommendarr.settings import ArrInstance, Settings
from recommendarr.shared.errors import NotFound, Permanent, Transient

log = logging.getLogger(__name__)
EXISTS_ERROR_CODES = frozenset({"MovieExistsValidator", "SeriesExistsValidator"})


class RateLimited(Transient):
    """HTTP 429; `retry_after_s` is the upstream's Retry-After when it sent one."""

    def __init__(self, message: str, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class ArrStatus:
    app_name: str
    version: str
    instance_name: str


@dataclass(frozen=True)
class ArrTitle:
    """One movie (Radarr) or series (Sonarr) as the instance holds it."""

    media_type: Literal["movie", "tv"]
    arr_id: int
    tmdb_id: int | None
    tvdb_id: int | None
    imdb_id: str | None
    title: str
    year: int | None
    monitored: bool
    has_file: bool


@dataclass(frozen=True)
class CalendarEntry:
    media_type: Literal["movie", "tv"]
    arr_id: int
    tmdb_id: int | None
    tvdb_id: int | None
    title: str
    airs_at: datetime | None
    has_file: bool
    monitored: bool
    season_number: int | None = None
    episode_number: int | None = None
    episode_title: str | None = None


@dataclass(frozen=True)
class AddResult:
    """`title` is what the instance now holds; `added` is False when it already had it."""

    added: bool
    title: ArrTitle | None
    message: str = ""


# --- HTTP plumbing shared with the Seerr client ----------------------------------------------


def send(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    product: str,
    headers: Mapping[str, str],
    json: object = None,
    params: Mapping[str, str] | None = None,
) -> httpx.Response:
    """The response unless the status says retry (Transient) or the credentials are wrong."""
    try:
        response = http.request(method, url, headers=dict(headers), json=json, params=params)
    except httpx.TimeoutException as exc:
        raise Transient(f"{product} timed out") from exc
    except httpx.TransportError as exc:
        raise Transient(f"{product} is unreachable ({type(exc).__name__})") from exc
    status = response.status_code
    if status == 401:
        raise Permanent(f"{product} rejected the API key (HTTP 401): check its api key setting")
    if status == 404:
        raise NotFound(
            f"{product} has no {response.request.url.path} (HTTP 404): check the URL and URL base"
        )
    if status == 429:
        wait = retry_after_s(response)
        hint = f"; retry after {wait:.0f}s" if wait is not None else ""
        raise RateLimited(f"{product} is rate limiting (HTTP 429){hint}", wait)
    if status >= 500:
        raise Transient(f"{product} failed with HTTP {status}")
    if 300 <= status < 400:
        raise Permanent(
            f"{product} redirected (HTTP {status}): set its final URL, including any URL base"
        )
    return response


def retry_after_s(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "").strip()
    if not raw:
        return None
    if raw.isdecimal():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def json_body(response: httpx.Response, product: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise Transient(f"{product} returned a body that is not JSON") from exc


def error_message(response: httpx.Response) -> str:
    """What the upstream said went wrong: Servarr validation lists or {message}/{error}."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(payload, list):
        messages = [str(e.get("errorMessage", "")) for e in payload if isinstance(e, dict)]
        return "; ".join(m for m in messages if m)[:500]
    if isinstance(payload, dict):
        return str(payload.get("message") or payload.get("error") or "")[:500]
    return ""


def error_codes(response: httpx.Response) -> set[str]:
    try:
        payload = response.json()
    except ValueError:
        return set()
    if not isinstance(payload, list):
        return set()
    return {str(e.get("errorCode")) for e in payload if isinstance(e, dict)}


# --- reading Servarr resources ---------------------------------------------------------------


class ShapeError(Transient):
    """The body parsed but is not the resource the endpoint documents."""


def as_list(payload: Any, product: str, what: str) -> list[dict[str, Any]]:
    if not isinstance(payload, list) or not all(isinstance(e, dict) for e in payload):
        raise ShapeError(f"{product} returned {type(payload).__name__} instead of a {what} list")
    return payload


def as_object(payload: Any, product: str, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ShapeError(f"{product} returned {type(payload).__name__} instead of a {what}")
    return payload


def int_field(entry: Mapping[str, Any], key: str, product: str) -> int:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ShapeError(f"{product} returned an entry without an integer {key!r}")
    return value


def positive_or_none(entry: Mapping[str, Any], key: str) -> int | None:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def int_or_none(entry: Mapping[str, Any], key: str) -> int | None:
    value = entry.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text_or_none(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and value else None


def timestamp_or_none(entry: Mapping[str, Any], key: str) -> datetime | None:
    value = entry.get(key)
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def movie_title(entry: Mapping[str, Any], product: str) -> ArrTitle:
    statistics = entry.get("statistics")
    file_count = statistics.get("movieFileCount", 0) if isinstance(statistics, dict) else 0
    return ArrTitle(
        media_type="movie",
        arr_id=int_field(entry, "id", product),
        tmdb_id=int_field(entry, "tmdbId", product) or None,
        tvdb_id=None,
        imdb_id=text_or_none(entry, "imdbId"),
        title=str(entry.get("title") or ""),
        year=positive_or_none(entry, "year"),
        monitored=entry.get("monitored") is True,
        # hasFile comes only with linked statistics; the file count is the same fact.
        has_file=entry.get("hasFile") is True or (isinstance(file_count, int) and file_count > 0),
    )


def series_title(entry: Mapping[str, Any], product: str) -> ArrTitle:
    statistics = entry.get("statistics")
    file_count = statistics.get("episodeFileCount", 0) if isinstance(statistics, dict) else 0
    return ArrTitle(
        media_type="tv",
        arr_id=int_field(entry, "id", product),
        tmdb_id=positive_or_none(entry, "tmdbId"),
        tvdb_id=int_field(entry, "tvdbId", product) or None,
        imdb_id=text_or_none(entry, "imdbId"),
        title=str(entry.get("title") or ""),
        year=positive_or_none(entry, "year"),
        monitored=entry.get("monitored") is True,
        has_file=isinstance(file_count, int) and file_count > 0,
    )


# --- the clients -----------------------------------------------------------------------------


class ArrClient:
    product: ClassVar[str]
    settings_name: ClassVar[str]

    def __init__(self, http: httpx.Client, instance: ArrInstance) -> None:
        self.http = http
        self.instance = instance
        self.base_url = instance.url.rstrip("/")

    @property
    def name(self) -> str:
        return self.instance.name

    @property
    def domain(self) -> str:
        return self.instance.domain

    @property
    def label(self) -> str:
        return f"{self.product} {self.instance.name!r}"

    def call(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        headers = {
            "X-Api-Key": self.instance.api_key.get_secret_value(),
            "Accept": "application/json",
        }
        return send(
            self.http,
            method,
            f"{self.base_url}{path}",
            product=self.label,
            headers=headers,
            json=json,
            params=params,
        )

    def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        response = self.call("GET", path, params=params)
        if response.status_code != 200:
            raise Permanent(
                f"{self.label} refused GET {path}: HTTP {response.status_code} "
                f"{error_message(response)}"
            )
        return json_body(response, self.label)

    def status(self) -> ArrStatus:
        """What answers at the URL; a Sonarr configured as a Radarr (or back) is Permanent."""
        payload = as_object(self.get_json("/api/v3/system/status"), self.label, "system status")
        app_name = str(payload.get("appName") or "")
        # appName exists since Radarr 4 / Sonarr 4; older versions cannot be told apart.
        if app_name and app_name.casefold() != self.product.casefold():
            raise Permanent(
                f"{self.instance.url} answers as {app_name} {payload.get('version', '')}, "
                f"not {self.product}: move it to {self.settings_name}"
            )
        return ArrStatus(
            app_name=app_name or self.product,
            version=str(payload.get("version") or ""),
            instance_name=str(payload.get("instanceName") or ""),
        )

    def root_folder(self) -> str:
        if not self.instance.root_folder:
            raise Permanent(
                f"{self.label} has no root_folder in {self.settings_name}; "
                f"{self.product} needs one to add titles"
            )
        return self.instance.root_folder

    def add(self, path: str, body: dict[str, Any]) -> AddResult:
        response = self.call("POST", path, json=body)
        if response.status_code in (200, 201):
            entry = as_object(json_body(response, self.label), self.label, "created resource")
            return AddResult(added=True, title=self.parse_title(entry))
        if response.status_code == 400 and error_codes(response) & EXISTS_ERROR_CODES:
            return AddResult(added=False, title=None, message=error_message(response))
        raise Permanent(
            f"{self.label} refused the add: HTTP {response.status_code} {error_message(response)}"
        )

    def parse_title(self, entry: Mapping[str, Any]) -> ArrTitle:
        raise NotImplementedError

    def library(self) -> list[ArrTitle]:
        raise NotImplementedError


class RadarrClient(ArrClient):
    product = "Radarr"
    settings_name = "RADARR_INSTANCES"

    def parse_title(self, entry: Mapping[str, Any]) -> ArrTitle:
        return movie_title(entry, self.label)

    def library(self) -> list[ArrTitle]:
        entries = as_list(self.get_json("/api/v3/movie"), self.label, "movie")
        return [movie_title(e, self.label) for e in entries]

    def calendar(self, start: date, end: date) -> list[CalendarEntry]:
        params = {"start": start.isoformat(), "end": end.isoformat(), "unmonitored": "false"}
        entries = as_list(self.get_json("/api/v3/calendar", params), self.label, "calendar")
        return [self.calendar_entry(e) for e in entries]

    def calendar_entry(self, entry: Mapping[str, Any]) -> CalendarEntry:
        movie = movie_title(entry, self.label)
        # The home release is what a household waits for; cinemas only when nothing else.
        airs_at = next(
            (
                stamp
                for key in ("digitalRelease", "physicalRelease", "releaseDate", "inCinemas")
                if (stamp := timestamp_or_none(entry, key)) is not None
            ),
            None,
        )
        return CalendarEntry(
            media_type="movie",
            arr_id=movie.arr_id,
            tmdb_id=movie.tmdb_id,
            tvdb_id=None,
            title=movie.title,
            airs_at=airs_at,
            has_file=movie.has_file,
            monitored=movie.monitored,
        )

    def add_movie(self, tmdb_id: int, title: str, year: int | None) -> AddResult:
        body: dict[str, Any] = {
            "title": title,
            "tmdbId": tmdb_id,
            "year": year,
            "qualityProfileId": self.instance.quality_profile_id,
            "rootFolderPath": self.root_folder(),
            "monitored": True,
            "minimumAvailability": "released",
            "tags": [],
            "addOptions": {"searchForMovie": True, "monitor": "movieOnly"},
        }
        if year is None:
            del body["year"]  # Radarr fills it from TMDB; 0 would be taken literally
        return self.add("/api/v3/movie", body)


class SonarrClient(ArrClient):
    product = "Sonarr"
    settings_name = "SONARR_INSTANCES"

    def parse_title(self, entry: Mapping[str, Any]) -> ArrTitle:
        return series_title(entry, self.label)

    def library(self) -> list[ArrTitle]:
        entries = as_list(self.get_json("/api/v3/series"), self.label, "series")
        return [series_title(e, self.label) for e in entries]

    def calendar(self, start: date, end: date) -> list[CalendarEntry]:
        params = {"start": start.isoformat(), "end": end.isoformat(), "includeSeries": "true"}
        entries = as_list(self.get_json("/api/v3/calendar", params), self.label, "calendar")
        return [self.calendar_entry(e) for e in entries]

    def calendar_entry(self, entry: Mapping[str, Any]) -> CalendarEntry:
        series = entry.get("series")
        series = series if isinstance(series, dict) else {}
        return CalendarEntry(
            media_type="tv",
            arr_id=int_field(entry, "seriesId", self.label),
            tmdb_id=positive_or_none(series, "tmdbId"),
            tvdb_id=positive_or_none(series, "tvdbId"),
            title=str(series.get("title") or ""),
            airs_at=timestamp_or_none(entry, "airDateUtc"),
            has_file=entry.get("hasFile") is True,
            monitored=entry.get("monitored") is True,
            season_number=int_or_none(entry, "seasonNumber"),
            episode_number=int_or_none(entry, "episodeNumber"),
            episode_title=text_or_none(entry, "title"),
        )

    def add_series(self, tvdb_id: int, title: str) -> AddResult:
        body: dict[str, Any] = {
            "title": title,
            "tvdbId": tvdb_id,
            "qualityProfileId": self.instance.quality_profile_id,
            "rootFolderPath": self.root_folder(),
            "seriesType": "anime" if self.instance.domain == "anime" else "standard",
            "seasonFolder": True,
            "monitored": True,
            "tags": [],
            "addOptions": {
                "monitor": "all",
                "searchForMissingEpisodes": True,
                "searchForCutoffUnmetEpisodes": False,
            },
        }
        return self.add("/api/v3/series", body)


@dataclass(frozen=True)
class ArrClients:
    radarr: dict[str, RadarrClient]
    sonarr: dict[str, SonarrClient]


def build_arr_clients(settings: Settings, http: httpx.Client) -> ArrClients:
    """One client per configured instance, keyed by its name (names must be unique per kind)."""
    radarr = {i.name: RadarrClient(http, i) for i in settings.radarr}
    sonarr = {i.name: SonarrClient(http, i) for i in settings.sonarr}
    for kind, instances, clients in (
        ("RADARR_INSTANCES", settings.radarr, radarr),
        ("SONARR_INSTANCES", settings.sonarr, sonarr),
    ):
        if len(clients) != len(instances):
            raise ValueError(f"{kind} has two instances with the same name")
    return ArrClients(radarr=radarr, sonarr=sonarr)
