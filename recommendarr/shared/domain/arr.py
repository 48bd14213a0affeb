"""Radarr and Sonarr webhook bodies as domain events, and where a "worth grabbing" title goes.

Both send Newtonsoft JSON: camelCase keys, nulls omitted, but a PascalCase `eventType`. The Test
button sends a Grab-shaped body with placeholder ids (tmdbId 0, tvdbId 1234), so a Test event
carries no ids at all and nothing may be created from it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from recommendarr.shared.domain.events import IgnoredEvent, PayloadError

ArrSource = Literal["radarr", "sonarr"]
TEST_EVENT = "Test"
ADDED_EVENTS = {"radarr": "MovieAdded", "sonarr": "SeriesAdd"}
SUBJECT_FIELD: dict[str, str] = {"radarr": "movie", "sonarr": "series"}
PRODUCT_NAMES: dict[str, str] = {"radarr": "Radarr", "sonarr": "Sonarr"}


@dataclass(frozen=True)
class ArrEvent:
    source: ArrSource
    event_type: str
    instance_name: str
    media_type: Literal["movie", "tv"]
    tmdb_id: int | None
    tvdb_id: int | None
    imdb_id: str | None
    title: str
    year: int | None
    is_upgrade: bool = False
    arr_id: int | None = None
    genres: tuple[str, ...] = ()
    file_added_at: datetime | None = None

    @property
    def is_test(self) -> bool:
        return self.event_type == TEST_EVENT

    @property
    def is_download(self) -> bool:
        return self.event_type == "Download"


ArrWebhookEvent = ArrEvent | IgnoredEvent


def parse_arr_webhook(source: str, body: bytes) -> ArrWebhookEvent:
    if source == "radarr":
        return parse_radarr(body)
    if source == "sonarr":
        return parse_sonarr(body)
    raise ValueError(f"no Arr parser for webhook source {source!r}")


def parse_radarr(body: bytes) -> ArrWebhookEvent:
    return parse_arr_body("radarr", body)


def parse_sonarr(body: bytes) -> ArrWebhookEvent:
    return parse_arr_body("sonarr", body)


def parse_arr_body(source: ArrSource, body: bytes) -> ArrWebhookEvent:
    payload = json_object(body, PRODUCT_NAMES[source])
    event_type = required_text(payload, "eventType")
    if event_type not in {TEST_EVENT, "Grab", "Download", ADDED_EVENTS[source]}:
        return IgnoredEvent(
            event_type,
            f"{PRODUCT_NAMES[source]} event {event_type!r} says nothing about what is available",
        )
    instance_name = optional_text(payload, "instanceName") or PRODUCT_NAMES[source]
    subject_field = SUBJECT_FIELD[source]
    subject = payload.get(subject_field)
    if not isinstance(subject, dict):
        raise PayloadError(subject_field, "is required and must be an object")
    if event_type == TEST_EVENT:
        return test_event(source, instance_name, subject, subject_field)
    if source == "radarr":
        return movie_event(payload, event_type, instance_name, subject)
    return series_event(payload, event_type, instance_name, subject)


def test_event(
    source: ArrSource, instance_name: str, subject: dict[str, Any], subject_field: str
) -> ArrEvent:
    return ArrEvent(
        source=source,
        event_type=TEST_EVENT,
        instance_name=instance_name,
        media_type="movie" if source == "radarr" else "tv",
        tmdb_id=None,
        tvdb_id=None,
        imdb_id=None,
        title=optional_text(subject, "title", f"{subject_field}.title") or "",
        year=None,
    )


def movie_event(
    payload: dict[str, Any], event_type: str, instance_name: str, movie: dict[str, Any]
) -> ArrEvent:
    movie_file = payload.get("movieFile")
    return ArrEvent(
        source="radarr",
        event_type=event_type,
        instance_name=instance_name,
        media_type="movie",
        tmdb_id=required_id(movie, "tmdbId", "movie.tmdbId"),
        tvdb_id=None,
        imdb_id=optional_text(movie, "imdbId", "movie.imdbId"),
        title=required_text(movie, "title", "movie.title"),
        year=optional_year(movie, "movie.year"),
        is_upgrade=optional_bool(payload, "isUpgrade"),
        arr_id=required_id(movie, "id", "movie.id"),
        genres=text_list(movie, "genres", "movie.genres"),
        file_added_at=file_added_at(movie_file, "movieFile.dateAdded"),
    )


def series_event(
    payload: dict[str, Any], event_type: str, instance_name: str, series: dict[str, Any]
) -> ArrEvent:
    return ArrEvent(
        source="sonarr",
        event_type=event_type,
        instance_name=instance_name,
        media_type="tv",
        # Sonarr knows a show by TVDB id; its tmdbId is 0 when skyhook has no mapping.
        tmdb_id=optional_id(series, "tmdbId", "series.tmdbId"),
        tvdb_id=required_id(series, "tvdbId", "series.tvdbId"),
        imdb_id=optional_text(series, "imdbId", "series.imdbId"),
        title=required_text(series, "title", "series.title"),
        year=optional_year(series, "series.year"),
        is_upgrade=optional_bool(payload, "isUpgrade"),
        arr_id=required_id(series, "id", "series.id"),
        genres=text_list(series, "genres", "series.genres"),
        file_added_at=episode_file_added_at(payload),
    )


def episode_file_added_at(payload: dict[str, Any]) -> datetime | None:
    """v4 sends one `episodeFile`; develop's Import Complete sends a list `episodeFiles`."""
    if "episodeFile" in payload:
        return file_added_at(payload["episodeFile"], "episodeFile.dateAdded")
    files = payload.get("episodeFiles")
    if files is None:
        return None
    if not isinstance(files, list):
        raise PayloadError("episodeFiles", "must be a list")
    stamps = [file_added_at(f, f"episodeFiles[{i}].dateAdded") for i, f in enumerate(files)]
    known = [s for s in stamps if s is not None]
    return min(known) if known else None


def file_added_at(file: object, field: str) -> datetime | None:
    if file is None:
        return None
    if not isinstance(file, dict):
        raise PayloadError(field.rsplit(".", 1)[0], "must be an object")
    raw = file.get("dateAdded")
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise PayloadError(field, "must be an ISO timestamp string")
    return parse_timestamp(raw, field)


def parse_timestamp(raw: str, field: str) -> datetime:
    try:
        stamp = datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise PayloadError(field, f"is not an ISO timestamp: {raw!r}") from exc
    if stamp.tzinfo is None:
        raise PayloadError(field, f"has no UTC offset: {raw!r}")
    return stamp


def json_object(body: bytes, product: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("body", f"is not valid JSON ({exc})") from exc
    if not isinstance(payload, dict):
        raise PayloadError("body", f"must be a JSON object (a {product} Webhook connection)")
    return payload


def required_text(payload: dict[str, Any], key: str, field: str | None = None) -> str:
    text = optional_text(payload, key, field)
    if not text:
        raise PayloadError(field or key, "is required")
    return text


def optional_text(payload: dict[str, Any], key: str, field: str | None = None) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(field or key, f"must be a string, got {type(value).__name__}")
    return value.strip() or None


def optional_id(payload: dict[str, Any], key: str, field: str) -> int | None:
    value = payload.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(field, f"must be an integer, got {type(value).__name__}")
    if value < 0:
        raise PayloadError(field, f"must not be negative, got {value}")
    return value or None


def required_id(payload: dict[str, Any], key: str, field: str) -> int:
    value = optional_id(payload, key, field)
    if value is None:
        raise PayloadError(field, "is required (a positive integer)")
    return value


def optional_year(payload: dict[str, Any], field: str) -> int | None:
    year = optional_id(payload, "year", field)
    if year is not None and not 1870 <= year <= 2200:
        raise PayloadError(field, f"is out of range: {year}")
    return year


def optional_bool(payload: dict[str, Any], key: str) -> bool:
    value = payload.get(key, False)
    if not isinstance(value, bool):
        raise PayloadError(key, f"must be true or false, got {value!r}")
    return value


def text_list(payload: dict[str, Any], key: str, field: str) -> tuple[str, ...]:
    value = payload.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PayloadError(field, "must be a list of strings")
    return tuple(v for v in value if v.strip())


def instance_key(source: str, name: str) -> str:
    """The arr_items key of an instance: a Radarr and a Sonarr may share a name (and ids)."""
    return f"{source}:{name}"


def resolve_instance(sent_name: str, configured: Sequence[str]) -> str:
    """The configured instance a webhook came from.

    Webhooks carry Radarr's/Sonarr's own "Instance Name" (default "Radarr"/"Sonarr"), which need
    not match the name in RADARR_INSTANCES; with one instance configured there is no doubt.
    """
    for name in configured:
        if name.casefold() == sent_name.casefold():
            return name
    if len(configured) == 1:
        return configured[0]
    return sent_name


# --- where a title worth grabbing goes ------------------------------------------------------


class ArrTarget(Protocol):
    """A configured Radarr/Sonarr instance, as far as routing cares."""

    @property
    def name(self) -> str: ...

    @property
    def domain(self) -> str: ...


@dataclass(frozen=True)
class GrabRoute:
    via: Literal["seerr", "radarr", "sonarr"]
    instance: str | None = None


@dataclass(frozen=True)
class NoRoute:
    reason: str


def title_domain(
    media_type: str,
    genres: Sequence[str],
    language: str | None,
    library_domain: str | None = None,
) -> str:
    """movies, tv or anime. A library the title already sits in knows best; otherwise Japanese
    animation is anime, which is how households split their Sonarr instances."""
    if library_domain in ("movies", "tv", "anime"):
        return library_domain
    if "Animation" in genres and (language or "").lower() == "ja":
        return "anime"
    return "tv" if media_type == "tv" else "movies"


def route_grab(
    media_type: str,
    domain: str,
    seerr_configured: bool,
    radarr: Sequence[ArrTarget],
    sonarr: Sequence[ArrTarget],
) -> GrabRoute | NoRoute:
    """Seerr when configured (it applies the household's own request rules), else the Arr
    instance for the title's domain, falling back from anime to the plain instance."""
    if seerr_configured:
        return GrabRoute("seerr")
    if media_type == "movie":
        instance = pick_instance(radarr, domain, base="movies")
        if instance is None:
            return NoRoute("no Overseerr/Jellyseerr (SEERR_URL) and no Radarr (RADARR_INSTANCES)")
        return GrabRoute("radarr", instance)
    if media_type == "tv":
        instance = pick_instance(sonarr, domain, base="tv")
        if instance is None:
            configured = ", ".join(f"{s.name} ({sonarr_domain(s)})" for s in sonarr) or "none"
            return NoRoute(
                f"no Overseerr/Jellyseerr (SEERR_URL) and no Sonarr for {domain} titles "
                f"(SONARR_INSTANCES: {configured})"
            )
        return GrabRoute("sonarr", instance)
    return NoRoute(f"media_type {media_type!r} is neither movie nor tv")


def pick_instance(targets: Sequence[ArrTarget], domain: str, base: str) -> str | None:
    normalize = sonarr_domain if base == "tv" else radarr_domain
    for wanted in (domain, base):
        for target in targets:
            if normalize(target) == wanted:
                return target.name
    return None


def sonarr_domain(target: ArrTarget) -> str:
    # ArrInstance.domain defaults to "movies", which cannot be meant for a Sonarr.
    return "anime" if target.domain == "anime" else "tv"


def radarr_domain(target: ArrTarget) -> str:
    return "anime" if target.domain == "anime" else "movies"
