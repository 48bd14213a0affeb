"""A loopback TMDB v3 that answers with the fixtures, checks credentials, and misbehaves on cue."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qsl, urlsplit

import httpx
from psycopg_pool import ConnectionPool

from recommendarr.shared import resources
from recommendarr.shared.clients.rate_limit import RateLimiter
from recommendarr.shared.clients.tmdb import PostgresResponseCache, TmdbClient
from recommendarr.shared.db import Connection
from recommendarr.shared.resources import Resources
from tests.conftest import fixture_bytes

API_KEY = "0123456789abcdef0123456789abcdef"
V4_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ0ZXN0In0.c2lnbmF0dXJl"
ROUTES = {
    "/3/movie/27205": "movie_details_append.json",
    "/3/tv/1396": "tv_details_append.json",
    "/3/trending/movie/week": "trending_movie_week.json",
    "/3/trending/tv/week": "trending_tv_week.json",
    "/3/discover/movie": "discover_movie.json",
    "/3/movie/upcoming": "movie_upcoming.json",
    "/3/search/movie": "search_movie.json",
    "/3/search/tv": "search_tv.json",
    "/3/find/tt1375666": "find_imdb.json",
    "/3/person/6193/movie_credits": "person_movie_credits.json",
    "/3/person/17419/tv_credits": "person_tv_credits.json",
    "/3/collection/726871": "collection.json",
    "/3/authentication": "authentication.json",
}


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, str]
    authorization: str | None


class FakeTmdb(BaseHTTPRequestHandler):
    # ok | error (500) | slow | garbage (200, not JSON)
    mode: ClassVar[str] = "ok"
    throttle_next: ClassVar[int] = 0  # how many requests answer 429 before normal service
    retry_after: ClassVar[str] = "1"
    seen: ClassVar[list[Seen]] = []

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        authorization = self.headers.get("Authorization")
        FakeTmdb.seen.append(Seen(url.path, query, authorization))
        if query.get("api_key") != API_KEY and authorization != f"Bearer {V4_TOKEN}":
            self.reply_file(401, "error_401.json")
        elif FakeTmdb.throttle_next > 0:
            FakeTmdb.throttle_next -= 1
            self.reply_file(429, "error_429.json", {"Retry-After": FakeTmdb.retry_after})
        elif self.mode == "error":
            self.reply(500, b'{"status_code": 11, "status_message": "Internal error."}')
        elif self.mode == "garbage":
            self.reply(200, b"<html>Service Unavailable</html>", content_type="text/html")
        elif url.path not in ROUTES:
            self.reply_file(404, "error_404.json")
        else:
            if self.mode == "slow":
                time.sleep(1.0)
            self.reply_file(200, ROUTES[url.path])

    def reply_file(self, status: int, name: str, headers: dict[str, str] | None = None) -> None:
        self.reply(status, fixture_bytes(f"tmdb/{name}"), headers=headers)

    def reply(
        self,
        status: int,
        data: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json;charset=utf-8",
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client stopped waiting: what the timeout test wants

    def log_message(self, *args: object) -> None:
        return


@contextmanager
def serve_fake_tmdb() -> Iterator[str]:
    """The base URL (with /3, as TMDB_BASE_URL has it) of a fresh fake."""
    FakeTmdb.mode, FakeTmdb.throttle_next, FakeTmdb.retry_after = "ok", 0, "1"
    FakeTmdb.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeTmdb)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/3"
    finally:
        server.shutdown()
        server.server_close()


def tmdb_client(
    base_url: str,
    pool: ConnectionPool[Connection],
    *,
    api_key: str = API_KEY,
    timeout: float = 5.0,
    ttl_days: int = 7,
    limiter: RateLimiter | None = None,
    sleeps: list[float] | None = None,
) -> TmdbClient:
    """A client on its own httpx.Client; `sleeps` records the Retry-After waits."""
    record = sleeps if sleeps is not None else []
    return TmdbClient(
        httpx.Client(timeout=timeout),
        base_url,
        api_key,
        PostgresResponseCache(pool),
        ttl_days,
        limiter or RateLimiter(1000.0, burst=1000),
        sleep=record.append,
    )


@contextmanager
def installed_fake_tmdb(res: Resources) -> Iterator[TmdbClient]:
    """The resources' integrations with a TMDB client on a fresh fake (and an empty cache)."""
    with res.pool.connection() as conn:
        conn.execute("TRUNCATE tmdb_cache")
    with serve_fake_tmdb() as url:
        client = tmdb_client(url, res.pool)
        integrations = dataclasses.replace(res.integrations, tmdb=client)
        resources.install(dataclasses.replace(res, integrations=integrations))
        try:
            yield client
        finally:
            resources.install(res)
            client.http.close()
