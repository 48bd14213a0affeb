"""The TMDB client against a loopback TMDB answering with the fixtures."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from recommendarr.settings import Settings
from recommendarr.shared import db
from recommendarr.shared.clients.rate_limit import RateLimiter
from recommendarr.shared.clients.tmdb import (
    APPENDED,
    TmdbClient,
    build_tmdb_client,
    retry_after_seconds,
)
from recommendarr.shared.errors import NotFound, Permanent, Transient
from recommendarr.shared.resources import Resources
from tests.fake_tmdb import API_KEY, V4_TOKEN, FakeTmdb, serve_fake_tmdb, tmdb_client

MakeClient = Callable[..., TmdbClient]


@pytest.fixture
def tmdb_url(res: Resources) -> Iterator[str]:
    with res.pool.connection() as conn:
        conn.execute("TRUNCATE tmdb_cache")
    with serve_fake_tmdb() as url:
        yield url


@pytest.fixture
def make_client(res: Resources, tmdb_url: str) -> Iterator[MakeClient]:
    made: list[TmdbClient] = []

    def make(**options: Any) -> TmdbClient:
        base_url = options.pop("base_url", tmdb_url)
        client = tmdb_client(base_url, res.pool, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.http.close()


def cache_rows(conn: db.Connection) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT cache_key, body::text AS body, expires_at FROM tmdb_cache ORDER BY cache_key"
    ).fetchall()


def assert_key_hidden(exc: BaseException) -> None:
    """Neither the message nor anything chained to it may carry the API key."""
    current: BaseException | None = exc
    while current is not None:
        assert API_KEY not in str(current) and API_KEY not in repr(current)
        current = current.__cause__ or current.__context__


def test_movie_details_ask_for_every_appended_part_with_the_v3_key(
    make_client: MakeClient,
) -> None:
    body = make_client().movie(27205)
    assert body["title"] == "Inception" and body["keywords"]["keywords"][1]["name"] == "dream"
    [seen] = FakeTmdb.seen
    assert seen.path == "/3/movie/27205"
    assert set(seen.query["append_to_response"].split(",")) == {
        "keywords",
        "credits",
        "videos",
        "external_ids",
        "recommendations",
        "similar",
    }
    assert seen.query["api_key"] == API_KEY and seen.authorization is None
    assert "language" not in seen.query


def test_tv_details_ask_for_every_appended_part(make_client: MakeClient) -> None:
    body = make_client().tv(1396, language="de-DE")
    assert body["name"] == "Breaking Bad" and body["external_ids"]["tvdb_id"] == 81189
    [seen] = FakeTmdb.seen
    assert seen.path == "/3/tv/1396"
    assert seen.query["append_to_response"] == APPENDED and seen.query["language"] == "de-DE"


def test_a_v4_token_travels_as_a_bearer_header_only(make_client: MakeClient) -> None:
    make_client(api_key=V4_TOKEN).movie(27205)
    [seen] = FakeTmdb.seen
    assert seen.authorization == f"Bearer {V4_TOKEN}"
    assert "api_key" not in seen.query


@pytest.mark.parametrize(
    ("call", "path", "query"),
    [
        (lambda c: c.trending("movie", "week"), "/3/trending/movie/week", {}),
        (
            lambda c: c.discover(
                "movie", region="GB", sort_by="popularity.desc", include_adult=False
            ),
            "/3/discover/movie",
            {"region": "GB", "sort_by": "popularity.desc", "include_adult": "false"},
        ),
        (lambda c: c.upcoming(region="GB"), "/3/movie/upcoming", {"region": "GB"}),
        (
            lambda c: c.find("imdb_id", "tt1375666"),
            "/3/find/tt1375666",
            {"external_source": "imdb_id"},
        ),
        (lambda c: c.person_credits(6193, "movie"), "/3/person/6193/movie_credits", {}),
        (lambda c: c.person_credits(17419, "tv"), "/3/person/17419/tv_credits", {}),
        (
            lambda c: c.collection(726871, language="fr-FR"),
            "/3/collection/726871",
            {"language": "fr-FR"},
        ),
    ],
)
def test_each_method_hits_its_path_with_its_query(
    make_client: MakeClient,
    call: Callable[[TmdbClient], dict[str, Any]],
    path: str,
    query: dict[str, str],
) -> None:
    body = call(make_client())
    assert isinstance(body, dict) and body
    [seen] = FakeTmdb.seen
    assert seen.path == path
    assert {k: v for k, v in seen.query.items() if k != "api_key"} == query


def test_search_movie_sends_the_year_and_returns_the_results(make_client: MakeClient) -> None:
    results = make_client().search("movie", "Inception", 2010)
    assert [r["id"] for r in results] == [27205, 613092]
    [seen] = FakeTmdb.seen
    assert seen.path == "/3/search/movie"
    assert seen.query["query"] == "Inception" and seen.query["year"] == "2010"


def test_search_tv_uses_the_first_air_date_year(make_client: MakeClient) -> None:
    results = make_client().search("tv", "Breaking Bad", 2008)
    assert [r["name"] for r in results] == ["Breaking Bad"]
    [seen] = FakeTmdb.seen
    assert seen.path == "/3/search/tv" and seen.query["first_air_date_year"] == "2008"
    assert "year" not in seen.query


def test_find_returns_the_whole_find_response(make_client: MakeClient) -> None:
    found = make_client().find("imdb_id", "tt1375666")
    assert found["movie_results"][0]["id"] == 27205 and found["tv_results"] == []


def test_a_second_identical_call_is_served_from_the_cache(
    make_client: MakeClient, conn: db.Connection
) -> None:
    client = make_client()
    first = client.movie(27205)
    second = client.movie(27205)
    assert second == first
    assert len(FakeTmdb.seen) == 1
    [row] = cache_rows(conn)
    assert row["cache_key"] == f"/movie/27205?append_to_response={APPENDED.replace(',', '%2C')}"


def test_the_cache_is_shared_between_clients(make_client: MakeClient) -> None:
    make_client().collection(726871)
    make_client().collection(726871)
    assert len(FakeTmdb.seen) == 1


def test_language_is_part_of_the_cache_key(make_client: MakeClient, conn: db.Connection) -> None:
    client = make_client()
    client.movie(27205)
    client.movie(27205, language="de-DE")
    client.movie(27205, language="de-DE")
    assert [s.query.get("language") for s in FakeTmdb.seen] == [None, "de-DE"]
    assert len(cache_rows(conn)) == 2


def test_an_expired_entry_is_fetched_again(make_client: MakeClient, conn: db.Connection) -> None:
    client = make_client()
    client.tv(1396)
    conn.execute("UPDATE tmdb_cache SET expires_at = now() - interval '1 second'")
    conn.commit()
    client.tv(1396)
    assert len(FakeTmdb.seen) == 2
    [row] = cache_rows(conn)
    assert row["expires_at"] > datetime.now(UTC)


def test_a_zero_day_ttl_caches_nothing(make_client: MakeClient, conn: db.Connection) -> None:
    client = make_client(ttl_days=0)
    client.movie(27205)
    client.movie(27205)
    assert len(FakeTmdb.seen) == 2 and cache_rows(conn) == []


def test_only_network_requests_take_a_rate_limit_token(make_client: MakeClient) -> None:
    taken: list[float] = []
    limiter = RateLimiter(1.0, burst=1, clock=lambda: 0.0, sleep=taken.append)
    client = make_client(limiter=limiter)
    client.movie(27205)
    client.movie(27205)
    client.tv(1396)
    # The first request used the burst token; the second network request had to wait a second.
    assert taken == [1.0]


def test_the_api_key_is_never_cached(make_client: MakeClient, conn: db.Connection) -> None:
    client = make_client()
    client.movie(27205)
    client.search("movie", "Inception", 2010)
    client.find("imdb_id", "tt1375666")
    rows = cache_rows(conn)
    assert len(rows) == 3
    assert all(API_KEY not in row["cache_key"] + row["body"] for row in rows)


def test_the_api_key_is_masked_in_http_logs(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="httpx"):
        make_client().movie(27205)
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("/3/movie/27205" in line for line in lines)
    assert all(API_KEY not in line for line in lines)


def test_a_rejected_key_is_permanent(make_client: MakeClient) -> None:
    wrong = "ffffffffffffffffffffffffffffffff"
    with pytest.raises(Permanent, match=r"rejected the API key \(401\)") as caught:
        make_client(api_key=wrong).movie(27205)
    assert wrong not in str(caught.value)
    assert not isinstance(caught.value, NotFound)


def test_an_unknown_title_is_not_found(make_client: MakeClient, conn: db.Connection) -> None:
    with pytest.raises(NotFound, match="404") as caught:
        make_client().movie(999999)
    assert_key_hidden(caught.value)
    assert cache_rows(conn) == []


def test_429_waits_as_told_and_retries_once(make_client: MakeClient) -> None:
    FakeTmdb.throttle_next, FakeTmdb.retry_after = 1, "2"
    sleeps: list[float] = []
    body = make_client(sleeps=sleeps).movie(27205)
    assert body["id"] == 27205
    assert sleeps == [2.0] and len(FakeTmdb.seen) == 2


def test_429_twice_is_transient(make_client: MakeClient, conn: db.Connection) -> None:
    FakeTmdb.throttle_next = 2
    sleeps: list[float] = []
    with pytest.raises(Transient, match="still rate limiting") as caught:
        make_client(sleeps=sleeps).movie(27205)
    assert_key_hidden(caught.value)
    assert sleeps == [1.0] and len(FakeTmdb.seen) == 2 and cache_rows(conn) == []


def test_a_long_retry_after_goes_back_to_the_broker(make_client: MakeClient) -> None:
    FakeTmdb.throttle_next, FakeTmdb.retry_after = 1, "120"
    sleeps: list[float] = []
    with pytest.raises(Transient, match="wait 120s"):
        make_client(sleeps=sleeps).movie(27205)
    assert sleeps == [] and len(FakeTmdb.seen) == 1


def test_a_server_error_is_transient_and_not_cached(
    make_client: MakeClient, conn: db.Connection
) -> None:
    FakeTmdb.mode = "error"
    with pytest.raises(Transient, match="HTTP 500") as caught:
        make_client().movie(27205)
    assert_key_hidden(caught.value)
    assert cache_rows(conn) == []


def test_a_timeout_is_transient(make_client: MakeClient) -> None:
    FakeTmdb.mode = "slow"
    with pytest.raises(Transient, match="timed out") as caught:
        make_client(timeout=0.2).movie(27205)
    assert_key_hidden(caught.value)


def test_an_unreachable_server_is_transient(make_client: MakeClient) -> None:
    with pytest.raises(Transient, match="unreachable") as caught:
        make_client(base_url="http://127.0.0.1:9/3").movie(27205)
    assert_key_hidden(caught.value)


def test_a_body_that_is_not_json_is_transient_and_not_cached(
    make_client: MakeClient, conn: db.Connection
) -> None:
    FakeTmdb.mode = "garbage"
    with pytest.raises(Transient, match="not JSON") as caught:
        make_client().movie(27205)
    assert_key_hidden(caught.value)
    assert cache_rows(conn) == []


def test_check_reports_in_plain_words(make_client: MakeClient, tmdb_url: str) -> None:
    assert make_client().check() == "TMDB accepted the API key"
    assert FakeTmdb.seen[0].path == "/3/authentication"
    assert make_client(api_key=V4_TOKEN).check() == "TMDB accepted the API key"
    assert "rejected the API key" in make_client(api_key="nope").check()
    assert "unreachable" in make_client(base_url="http://127.0.0.1:9/3").check()
    wrong_version = tmdb_url.removesuffix("/3") + "/4"
    assert "does not look like the TMDB v3 API" in make_client(base_url=wrong_version).check()


def test_methods_refuse_values_that_would_change_the_path(make_client: MakeClient) -> None:
    client = make_client()
    with pytest.raises(ValueError, match="media_type"):
        client.trending("../movie", "week")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="window"):
        client.trending("movie", "month")  # type: ignore[arg-type]
    assert FakeTmdb.seen == []


def test_retry_after_can_be_an_http_date() -> None:
    now = datetime(2025, 3, 15, 21, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("Sat, 15 Mar 2025 21:00:03 GMT", now) == 3.0
    assert retry_after_seconds("3", now) == 3.0
    assert retry_after_seconds(None, now) == 1.0
    assert retry_after_seconds("soon", now) == 1.0


def test_builder_needs_a_key(settings: Settings, res: Resources) -> None:
    with httpx.Client() as http:
        assert build_tmdb_client(settings, http, res.pool) is None
        keyed = settings.model_copy(update={"tmdb_api_key": SecretStr(f" {API_KEY} ")})
        client = build_tmdb_client(keyed, http, res.pool)
        assert client is not None
        assert client.base_url == "https://api.themoviedb.org/3" and client.ttl_days == 7
        assert client.limiter.rate == 20.0
