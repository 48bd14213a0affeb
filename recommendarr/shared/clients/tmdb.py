"""The TMDB v3 API: details with appended sub-responses, lists, search and lookups.

Every successful body is cached in Postgres (`tmdb_cache`) by path and query, so workers on any
machine share it; the API key never enters a cache key, a log line or an error message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlencode

import httpx
from psycopg_pool import ConnectionPool

from recommendarr.settings import Settings
from recommendarr.shared.clients.rate_limit import RateLimiter, limiter_for
from recommendarr.shared.db import Connection
from recommendarr.shared.errors import NotFound, Permanent, Transient
from recommendarr.shared.store import tmdb_cache

MediaType = Literal["movie", "tv"]
TrendingType = Literal["movie", "tv", "all"]
TrendingWindow = Literal["day", "week"]
ExternalSource = Literal["imdb_id", "tvdb_id"]
FilterValue = str | int | float | bool

APPENDED = "keywords,credits,videos,external_ids,recommendations,similar"
# Longer waits go back to the broker's backoff instead of holding a worker thread.
RETRY_AFTER_CAP_S = 5.0
REDACTED = "***"


class ResponseCache(Protocol):
    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, body: Any, ttl_days: int) -> None: ...


class PostgresResponseCache:
    """A connection per call, so one client serves every worker thread."""

    def __init__(self, pool: ConnectionPool[Connection]) -> None:
        self.pool = pool

    def get(self, key: str) -> Any | None:
        with self.pool.connection() as conn:
            return tmdb_cache.get_fresh(conn, key)

    def put(self, key: str, body: Any, ttl_days: int) -> None:
        with self.pool.connection() as conn:
            tmdb_cache.put(conn, key, body, ttl_days)


class TmdbClient:
    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        api_key: str,
        cache: ResponseCache,
        ttl_days: int,
        limiter: RateLimiter,
        *,
        sleep: Callable[[float], None] = time.sleep,
        retry_after_cap_s: float = RETRY_AFTER_CAP_S,
    ) -> None:
        if not api_key:
            raise ValueError("TMDB needs an API key")
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.cache = cache
        self.ttl_days = ttl_days
        self.limiter = limiter
        self.sleep = sleep
        self.retry_after_cap_s = retry_after_cap_s
        self._secret = api_key
        # A v4 read access token is a JWT and travels as a bearer token; a v3 key can only
        # travel in the query string, which httpx logs, hence the log filter.
        if api_key.startswith("eyJ"):
            self._auth_headers, self._auth_params = {"Authorization": f"Bearer {api_key}"}, {}
        else:
            self._auth_headers, self._auth_params = {}, {"api_key": api_key}
        hide_in_http_logs(api_key)

    def movie(self, tmdb_id: int, language: str | None = None) -> dict[str, Any]:
        return self.get_object(f"/movie/{int(tmdb_id)}", {"append_to_response": APPENDED}, language)

    def tv(self, tmdb_id: int, language: str | None = None) -> dict[str, Any]:
        return self.get_object(f"/tv/{int(tmdb_id)}", {"append_to_response": APPENDED}, language)

    def details(
        self, media_type: MediaType, tmdb_id: int, language: str | None = None
    ) -> dict[str, Any]:
        one_of(media_type, ("movie", "tv"), "media_type")
        return (
            self.movie(tmdb_id, language) if media_type == "movie" else self.tv(tmdb_id, language)
        )

    def trending(
        self, media_type: TrendingType, window: TrendingWindow, language: str | None = None
    ) -> dict[str, Any]:
        one_of(media_type, ("movie", "tv", "all"), "media_type")
        one_of(window, ("day", "week"), "window")
        return self.get_object(f"/trending/{media_type}/{window}", {}, language)

    def discover(
        self,
        media_type: MediaType,
        region: str | None = None,
        language: str | None = None,
        **filters: FilterValue,
    ) -> dict[str, Any]:
        one_of(media_type, ("movie", "tv"), "media_type")
        params = {name: query_value(value) for name, value in filters.items()}
        if region:
            params["region"] = region
        return self.get_object(f"/discover/{media_type}", params, language)

    def upcoming(self, region: str | None = None, language: str | None = None) -> dict[str, Any]:
        return self.get_object("/movie/upcoming", {"region": region} if region else {}, language)

    def search(
        self,
        media_type: MediaType,
        query: str,
        year: int | None = None,
        language: str | None = None,
    ) -> list[dict[str, Any]]:
        """The first page of matches; `year` narrows by release year (movie) or first air year."""
        one_of(media_type, ("movie", "tv"), "media_type")
        params = {"query": query}
        if year is not None:
            # `year` matches any release of a movie in that year (regional ones too), which is
            # what a media server's year usually is; TV only has the first air date.
            params["year" if media_type == "movie" else "first_air_date_year"] = str(int(year))
        body = self.get_object(f"/search/{media_type}", params, language)
        results = body.get("results")
        if not isinstance(results, list):
            raise Transient(f"TMDB /search/{media_type} returned no results list")
        return [result for result in results if isinstance(result, dict)]

    def find(
        self, external_source: ExternalSource, external_id: str, language: str | None = None
    ) -> dict[str, Any]:
        one_of(external_source, ("imdb_id", "tvdb_id"), "external_source")
        path = f"/find/{quote(str(external_id), safe='')}"
        return self.get_object(path, {"external_source": external_source}, language)

    def person_credits(
        self, person_id: int, media_type: MediaType, language: str | None = None
    ) -> dict[str, Any]:
        one_of(media_type, ("movie", "tv"), "media_type")
        return self.get_object(f"/person/{int(person_id)}/{media_type}_credits", {}, language)

    def collection(self, collection_id: int, language: str | None = None) -> dict[str, Any]:
        return self.get_object(f"/collection/{int(collection_id)}", {}, language)

    def check(self) -> str:
        """A connection test for the admin: what happened, in plain words. Never cached."""
        try:
            body = self.fetch("/authentication", {})
        except NotFound:
            return f"TMDB_BASE_URL {self.base_url} does not look like the TMDB v3 API (404)"
        except (Permanent, Transient) as exc:
            return str(exc)
        if isinstance(body, dict) and body.get("success") is True:
            return "TMDB accepted the API key"
        return "TMDB answered, but did not confirm the API key"

    def get_object(
        self, path: str, params: Mapping[str, str], language: str | None
    ) -> dict[str, Any]:
        body = self.get_json(path, params, language)
        if not isinstance(body, dict):
            raise Transient(f"TMDB {path} returned {type(body).__name__} instead of an object")
        return body

    def get_json(self, path: str, params: Mapping[str, str], language: str | None) -> Any:
        query = dict(params)
        if language:
            query["language"] = language
        key = cache_key(path, query)
        if self.ttl_days > 0:
            cached = self.cache.get(key)
            if cached is not None:
                return cached
        body = self.fetch(path, query)
        if self.ttl_days > 0:
            self.cache.put(key, body, self.ttl_days)
        return body

    def fetch(self, path: str, query: Mapping[str, str]) -> Any:
        response = self.send(path, query)
        if response.status_code == 429:
            self.wait_out(response, path)
            response = self.send(path, query)
            if response.status_code == 429:
                raise Transient(f"TMDB is still rate limiting after a retry ({path})")
        self.raise_for_status(response, path)
        try:
            return response.json()
        except ValueError:
            raise Transient(f"TMDB {path} returned a body that is not JSON") from None

    def send(self, path: str, query: Mapping[str, str]) -> httpx.Response:
        self.limiter.acquire()
        try:
            return self.http.get(
                self.base_url + path,
                params={**query, **self._auth_params},
                headers=self._auth_headers,
            )
        except httpx.TimeoutException:
            raise Transient(f"TMDB timed out ({path})") from None
        except httpx.TransportError as exc:
            # Not chained: the exception carries the request, whose URL holds a v3 key.
            reason = self.redact(f"{type(exc).__name__}: {exc}")
            raise Transient(f"TMDB at {self.base_url} is unreachable: {reason}") from None

    def wait_out(self, response: httpx.Response, path: str) -> None:
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        if seconds > self.retry_after_cap_s:
            raise Transient(f"TMDB asked to wait {seconds:.0f}s before retrying ({path}, 429)")
        self.sleep(seconds)

    def raise_for_status(self, response: httpx.Response, path: str) -> None:
        status = response.status_code
        if status < 400:
            return
        if status == 401:
            raise Permanent(
                "TMDB rejected the API key (401): set TMDB_API_KEY to a valid v3 API key "
                "or v4 read access token"
            )
        if status == 404:
            raise NotFound(f"TMDB has no {path} (404)")
        if status == 429 or status >= 500:
            raise Transient(f"TMDB answered HTTP {status} for {path}")
        message = self.redact(tmdb_status_message(response))
        raise Permanent(f"TMDB refused {path}: HTTP {status} {message}".rstrip())

    def redact(self, text: str) -> str:
        return text.replace(self._secret, REDACTED)


def cache_key(path: str, query: Mapping[str, str]) -> str:
    """Path plus the sorted query: the same request always maps to one row."""
    return f"{path}?{urlencode(sorted(query.items()))}" if query else path


def query_value(value: FilterValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def one_of(value: str, allowed: tuple[str, ...], name: str) -> None:
    """Guard values that become part of the URL path."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")


def retry_after_seconds(header: str | None, now: datetime | None = None) -> float:
    """Retry-After as seconds (it may be a number or an HTTP date); 1 s when absent or odd."""
    if not header:
        return 1.0
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return 1.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def tmdb_status_message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return ""
    return str(payload.get("status_message", "")) if isinstance(payload, dict) else ""


class RedactSecret(logging.Filter):
    """httpx logs every request URL at INFO; a v3 key is part of that URL."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.secret in message:
            record.msg = message.replace(self.secret, REDACTED)
            record.args = ()
        return True


def hide_in_http_logs(secret: str) -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactSecret) and f.secret == secret for f in logger.filters):
        logger.addFilter(RedactSecret(secret))


def build_tmdb_client(
    settings: Settings, http: httpx.Client, pool: ConnectionPool[Connection]
) -> TmdbClient | None:
    """None without TMDB_API_KEY: titles then keep what the webhooks said about them."""
    if settings.tmdb_api_key is None:
        return None
    api_key = settings.tmdb_api_key.get_secret_value().strip()
    if not api_key:
        return None
    return TmdbClient(
        http,
        settings.tmdb_base_url,
        api_key,
        PostgresResponseCache(pool),
        settings.tmdb_cache_days,
        limiter_for(settings.tmdb_requests_per_second),
    )
