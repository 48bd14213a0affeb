"""Test one service at a URL with a key, on an HTTP client of its own with a short timeout.

Each check is the service client's own first call. Whatever fails, the transport has seen the
last exchange (a status, a refused connection, a timeout), and that, not the wording of an
exception, decides the sentence the admin reads. No sentence holds the key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from recommendarr.settings import ArrInstance, Settings
from recommendarr.shared.clients.arr import ArrClient, RadarrClient, SonarrClient, json_body
from recommendarr.shared.clients.jellyfin import JellyfinClient
from recommendarr.shared.clients.media_http import install_log_redaction
from recommendarr.shared.clients.ollama_check import list_ollama_models
from recommendarr.shared.clients.plex import PlexClient
from recommendarr.shared.clients.rate_limit import RateLimiter
from recommendarr.shared.clients.seerr import SeerrClient
from recommendarr.shared.clients.tautulli import TautulliClient
from recommendarr.shared.clients.tmdb import RedactSecret, TmdbClient
from recommendarr.shared.domain.integration_check import (
    PRODUCT,
    Exchange,
    Failure,
    Verdict,
    Where,
    arr_verdict,
    failure_message,
    ollama_verdict,
    scrub,
    seerr_verdict,
    tmdb_verdict,
)
from recommendarr.shared.domain.json_shapes import MalformedResponse
from recommendarr.shared.errors import Permanent, Transient

TIMEOUT_S = 5.0
# The services a check may call besides the one at the URL it was given.
SECOND_SERVICE = {"plex": "plex.tv"}
ARR_INSTANCE_NAME = "under test"


@dataclass(frozen=True)
class CheckRequest:
    kind: str
    url: str
    key: str = field(repr=False)


Check = Callable[[httpx.Client, CheckRequest, Settings], Verdict]


class RecordingTransport(httpx.BaseTransport):
    """Remembers how the last request ended; the origin and path only, never the query."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.last: Exchange | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        origin, path = origin_of(request.url), request.url.path
        try:
            response = self.inner.handle_request(request)
        except httpx.TransportError as exc:
            self.last = Exchange(origin, path, failure=failure_kind(exc), reason=str(exc))
            raise
        self.last = Exchange(
            origin,
            path,
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            location=response.headers.get("location", "").split("?")[0],
        )
        return response

    def close(self) -> None:
        self.inner.close()


def origin_of(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


def failure_kind(exc: httpx.TransportError) -> Failure:
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    return "protocol"


def run_check(request: CheckRequest, settings: Settings, timeout_s: float | None = None) -> Verdict:
    timeout_s = timeout_s or TIMEOUT_S
    install_log_redaction()
    transport = RecordingTransport()
    try:
        with (
            secret_log_filter_released(request.key),
            httpx.Client(transport=transport, timeout=timeout_s) as http,
        ):
            verdict = CHECKS[request.kind](http, request, settings)
            return Verdict(verdict.ok, verdict.kind, scrub(verdict.message, request.key))
    except (Permanent, Transient, MalformedResponse, httpx.HTTPError) as exc:
        last = transport.last
        # A refusal the client put in words is worth showing when the status says nothing.
        refusal = str(exc) if isinstance(exc, Permanent) or last is None else ""
        where = where_for(request, last)
        message = failure_message(request.kind, where, last, refusal, timeout_s)
        return Verdict(False, request.kind, scrub(message, request.key))
    except Exception as exc:  # noqa: BLE001 - re-raised, with the key scrubbed
        # Anything else ends up in the job's error and the worker's log: those get no key.
        raise Permanent(scrub(f"{type(exc).__name__}: {exc}", request.key)) from None


def where_for(request: CheckRequest, last: Exchange | None) -> Where:
    base = request.url.rstrip("/")
    if last is None or last.origin == origin_of(httpx.URL(base)):
        return Where(PRODUCT[request.kind], base)
    return Where(SECOND_SERVICE.get(request.kind, last.origin), last.origin)


@contextmanager
def secret_log_filter_released(secret: str) -> Iterator[None]:
    """TmdbClient adds a log filter per key for the process's life; a tested key goes again."""
    logger = logging.getLogger("httpx")
    kept = {id(f) for f in logger.filters}
    try:
        yield
    finally:
        for added in [f for f in logger.filters if id(f) not in kept]:
            if isinstance(added, RedactSecret) and added.secret == secret:
                logger.removeFilter(added)


def refuse_to_wait(seconds: float) -> None:
    """A connection test reports a 429 instead of sleeping through its time limit."""
    raise Transient(f"asked to wait {seconds:.0f} s (HTTP 429)")


class NoCache:
    """A connection test must reach TMDB, never a cached answer."""

    def get(self, key: str) -> Any | None:
        return None

    def put(self, key: str, body: Any, ttl_days: int) -> None:
        return None


def check_plex(http: httpx.Client, request: CheckRequest, settings: Settings) -> Verdict:
    client = PlexClient(http, request.url, request.key, settings.plex_tv_url, sleep=refuse_to_wait)
    return Verdict(True, request.kind, client.check())


def check_jellyfin(http: httpx.Client, request: CheckRequest, settings: Settings) -> Verdict:
    client = JellyfinClient(http, request.url, request.key, sleep=refuse_to_wait)
    return Verdict(True, request.kind, client.check())


def check_tautulli(http: httpx.Client, request: CheckRequest, settings: Settings) -> Verdict:
    client = TautulliClient(http, request.url, request.key, sleep=refuse_to_wait)
    return Verdict(True, request.kind, client.check())


def check_tmdb(http: httpx.Client, request: CheckRequest, settings: Settings) -> Verdict:
    client = TmdbClient(
        http,
        request.url,
        request.key,
        NoCache(),
        0,
        RateLimiter(1.0, burst=1),
        sleep=refuse_to_wait,
        retry_after_cap_s=0.0,
    )
    # check() folds failures into its sentence; the verdict needs them as failures.
    return tmdb_verdict(request.kind, client.fetch("/authentication", {}))


def arr_check(client_class: type[ArrClient]) -> Check:
    def check(http: httpx.Client, request: CheckRequest, settings: Settings) -> Verdict:
        instance = ArrInstance(
            name=ARR_INSTANCE_NAME, url=request.url, api_key=SecretStr(request.key)
        )
        # status() refuses another Servarr app outright; the raw status names which one it is.
        payload = client_class(http, instance).get_json("/api/v3/system/status")
        return arr_verdict(request.kind, payload)

    return check


def check_seerr(http: httpx.Client, request: CheckRequest, settings: Settings) -> Verdict:
    client = SeerrClient(http, request.url, SecretStr(request.key))
    status = client.status()
    # /status answers without a key; /auth/me is the cheapest call that needs one.
    me = client.call("GET", "/auth/me")
    if me.status_code != 200:
        raise Permanent(f"{PRODUCT[request.kind]} refused GET /auth/me: HTTP {me.status_code}")
    return seerr_verdict(request.kind, status.version, json_body(me, PRODUCT[request.kind]))


def check_ollama(http: httpx.Client, request: CheckRequest, settings: Settings) -> Verdict:
    models = list_ollama_models(http, request.url, request.key or None)
    return ollama_verdict(request.kind, models, settings.embedding_model)


CHECKS: dict[str, Check] = {
    "plex": check_plex,
    "jellyfin": check_jellyfin,
    "tautulli": check_tautulli,
    "tmdb": check_tmdb,
    "radarr": arr_check(RadarrClient),
    "sonarr": arr_check(SonarrClient),
    "overseerr": check_seerr,
    "jellyseerr": check_seerr,
    "ollama": check_ollama,
}
