"""Titles that arrive without a TMDB id are mapped once, cached, and then recorded."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

import pytest

from recommendarr.functions.map_event import Services, map_event
from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.shared import db, resources
from recommendarr.shared.clients.jellyfin import JellyfinClient
from recommendarr.shared.clients.plex import PlexClient
from recommendarr.shared.clients.tmdb import TmdbClient
from recommendarr.shared.errors import NotFound, Transient
from recommendarr.shared.integrations import Integrations
from recommendarr.shared.store import inbox
from tests.conftest import fixture_bytes, queued, run_queued, table_counts
from tests.helpers import tautulli

PLEX_SERVER = "5b4e9c1a7d3f2e8b6a0c9d1e2f3a4b5c6d7e8f90"
JELLYFIN_SERVER = "f27caa37e5142225cceded48f6553502"
BREAKING_BAD_SERIES = "a0b1c2d3e4f5061728394a5b6c7d8e9f"
NOTHING_FOUND: dict[str, Any] = {
    "movie_results": [],
    "person_results": [],
    "tv_results": [],
    "tv_episode_results": [],
    "tv_season_results": [],
}


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(fixture_bytes(name))
    return loaded


class FakePlex:
    def __init__(self, shows: dict[str, dict[str, Any]], error: Exception | None = None) -> None:
        self.shows = shows
        self.error = error
        self.calls: list[str] = []

    def metadata(self, rating_key: str) -> dict[str, Any]:
        self.calls.append(rating_key)
        if self.error is not None:
            raise self.error
        if rating_key not in self.shows:
            raise NotFound(f"Plex has no item {rating_key}")
        return self.shows[rating_key]


class FakeJellyfin:
    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        self.items = items
        self.calls: list[str] = []

    def item(self, item_id: str) -> dict[str, Any]:
        self.calls.append(item_id)
        if item_id not in self.items:
            raise NotFound(f"Jellyfin has no item {item_id}")
        return self.items[item_id]


class FakeTmdb:
    def __init__(self, answers: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str]] = []

    def find(self, external_source: str, external_id: str) -> dict[str, Any]:
        self.calls.append((external_source, external_id))
        return self.answers.get((external_source, external_id), NOTHING_FOUND)

    def details(self, media_type: str, tmdb_id: int) -> dict[str, Any]:
        # These tests are about mapping; enrichment of the mapped title finds nothing more.
        raise NotFound(f"{media_type} {tmdb_id}")


@dataclass(frozen=True)
class WithMediaServers(Integrations):
    """Integrations with the media-server clients, whether or not Integrations has them yet."""

    plex: Any = None
    jellyfin: Any = None


Install = Callable[..., None]


@pytest.fixture
def install(res: resources.Resources, conn: db.Connection) -> Iterator[Install]:
    conn.execute("TRUNCATE title_aliases")
    conn.commit()

    def install_services(**clients: object) -> None:
        current = {f.name: getattr(res.integrations, f.name) for f in fields(res.integrations)}
        current.update(plex=None, jellyfin=None, tmdb=None)
        current.update(clients)
        resources.install(replace(res, integrations=WithMediaServers(**current)))

    yield install_services
    resources.install(res)


def record(conn: db.Connection, source: str, payload: dict[str, Any]) -> int:
    inbox_id = inbox.record(conn, source, "application/json", json.dumps(payload).encode())
    conn.commit()
    return inbox_id


def state(conn: db.Connection, inbox_id: int) -> tuple[str, str | None]:
    row = inbox.get(conn, inbox_id)
    assert row is not None
    return row["state"], row["error"]


def watched_titles(conn: db.Connection) -> list[tuple[int, str, str]]:
    rows = conn.execute(
        "SELECT i.tmdb_id, i.media_type, i.title FROM watch_events w "
        "JOIN items i ON i.id = w.item_id ORDER BY w.id"
    ).fetchall()
    return [(r["tmdb_id"], r["media_type"], r["title"]) for r in rows]


def aliases(conn: db.Connection) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT server_kind, server_id, external_key, tmdb_id, media_type FROM title_aliases "
        "ORDER BY external_key"
    ).fetchall()


def plex_episode(rating_key: str = "40294", last_viewed_at: int | None = None) -> dict[str, Any]:
    body = fixture("plex/webhook_media_scrobble.json")
    body["Metadata"]["ratingKey"] = rating_key
    if last_viewed_at is not None:
        body["Metadata"]["lastViewedAt"] = last_viewed_at
    return body


def test_plex_episode_maps_through_its_show_once(install: Install, conn: db.Connection) -> None:
    plex = FakePlex({"40275": fixture("plex/metadata_show.json")})
    install(plex=plex)
    first = record(conn, "plex", plex_episode())
    on_watch_event(first)
    assert state(conn, first) == ("mapping", None)
    assert table_counts(conn)["watch_events"] == 0 and queued()["events"] == 1
    run_queued()
    assert state(conn, first) == ("done", None)
    assert watched_titles(conn) == [(1396, "tv", "Breaking Bad")]
    assert aliases(conn) == [
        {
            "server_kind": "plex",
            "server_id": PLEX_SERVER,
            "external_key": "40275",
            "tmdb_id": 1396,
            "media_type": "tv",
        }
    ]
    # Another episode of the show: the cached alias answers, nobody is asked again.
    second = record(conn, "plex", plex_episode("40295", last_viewed_at=int(time.time()) - 600))
    on_watch_event(second)
    assert state(conn, second) == ("done", None)
    assert plex.calls == ["40275"]
    assert watched_titles(conn) == [(1396, "tv", "Breaking Bad")] * 2


def test_jellyfin_episode_maps_through_its_series(install: Install, conn: db.Connection) -> None:
    jellyfin = FakeJellyfin({BREAKING_BAD_SERIES: fixture("jellyfin/item_series.json")})
    install(jellyfin=jellyfin)
    inbox_id = record(conn, "jellyfin", fixture("jellyfin/webhook_playback_stop.json"))
    on_watch_event(inbox_id)
    run_queued()
    assert state(conn, inbox_id) == ("done", None)
    assert watched_titles(conn) == [(1396, "tv", "Breaking Bad")]
    [alias] = aliases(conn)
    assert (alias["server_kind"], alias["server_id"], alias["external_key"]) == (
        "jellyfin",
        JELLYFIN_SERVER,
        BREAKING_BAD_SERIES,
    )
    assert jellyfin.calls == [BREAKING_BAD_SERIES]


def test_a_show_without_a_tmdb_guid_is_found_by_its_tvdb_id(
    install: Install, conn: db.Connection
) -> None:
    show = fixture("plex/metadata_show.json")
    show["Guid"] = [{"id": "tvdb://81189"}]
    tmdb = FakeTmdb({("tvdb_id", "81189"): fixture("tmdb/find_tvdb_series.json")})
    install(plex=FakePlex({"40275": show}), tmdb=tmdb)
    on_watch_event(record(conn, "plex", plex_episode()))
    run_queued()
    assert watched_titles(conn) == [(1396, "tv", "Breaking Bad")]
    assert tmdb.calls == [("tvdb_id", "81189")]


def test_without_a_media_server_tmdb_names_the_show_from_the_episode(
    install: Install, conn: db.Connection
) -> None:
    tmdb = FakeTmdb({("tvdb_id", "4639533"): fixture("tmdb/find_tvdb_episode.json")})
    install(tmdb=tmdb)
    inbox_id = record(conn, "plex", plex_episode())
    on_watch_event(inbox_id)
    run_queued()
    assert state(conn, inbox_id) == ("done", None)
    assert watched_titles(conn) == [(1396, "tv", "Breaking Bad")]
    # The episode's IMDb id was asked first and named nothing.
    assert tmdb.calls == [("imdb_id", "tt2301451"), ("tvdb_id", "4639533")]


def test_a_legacy_movie_with_only_an_imdb_id(install: Install, conn: db.Connection) -> None:
    tmdb = FakeTmdb({("imdb_id", "tt1375666"): fixture("tmdb/find_imdb.json")})
    install(tmdb=tmdb)
    inbox_id = record(conn, "tautulli", tautulli(themoviedb_id=""))
    on_watch_event(inbox_id)
    run_queued()
    assert state(conn, inbox_id) == ("done", None)
    assert watched_titles(conn) == [(27205, "movie", "Inception")]
    assert [a["external_key"] for a in aliases(conn)] == ["imdb:tt1375666"]


def test_a_server_that_names_another_show_is_not_trusted(
    install: Install, conn: db.Connection
) -> None:
    other = fixture("plex/metadata_show.json") | {"title": "Better Call Saul"}
    other["Guid"] = [{"id": "tmdb://60059"}]
    tmdb = FakeTmdb({("tvdb_id", "4639533"): fixture("tmdb/find_tvdb_episode.json")})
    install(plex=FakePlex({"40275": other}), tmdb=tmdb)
    on_watch_event(record(conn, "plex", plex_episode()))
    run_queued()
    assert watched_titles(conn) == [(1396, "tv", "Breaking Bad")]


@pytest.mark.parametrize(
    ("shows", "said"),
    [({}, "Plex has no item 40275"), ({"40275": {"title": "Breaking Bad"}}, "Plex knows no")],
)
def test_unresolvable_ends_ignored_with_the_reason(
    install: Install, conn: db.Connection, shows: dict[str, dict[str, Any]], said: str
) -> None:
    install(plex=FakePlex(shows))
    inbox_id = record(conn, "plex", plex_episode())
    on_watch_event(inbox_id)
    run_queued()
    row_state, error = state(conn, inbox_id)
    assert row_state == "ignored"
    assert error is not None and "'Breaking Bad' has no TMDB id" in error and said in error
    assert table_counts(conn)["watch_events"] == 0 and aliases(conn) == []


def test_nothing_configured_is_ignored_at_once(install: Install, conn: db.Connection) -> None:
    install()
    inbox_id = record(conn, "plex", plex_episode())
    on_watch_event(inbox_id)
    row_state, error = state(conn, inbox_id)
    assert row_state == "ignored" and error is not None and "nothing configured" in error
    assert queued()["events"] == 0


def test_calling_twice_changes_nothing(install: Install, conn: db.Connection) -> None:
    plex = FakePlex({"40275": fixture("plex/metadata_show.json")})
    install(plex=plex)
    inbox_id = record(conn, "plex", plex_episode())
    on_watch_event(inbox_id)
    map_event(inbox_id)
    map_event(inbox_id)  # a redelivery before on_watch_event ran: the alias answers
    assert plex.calls == ["40275"] and len(aliases(conn)) == 1
    run_queued()
    assert state(conn, inbox_id) == ("done", None)
    before, cached, sent = table_counts(conn), aliases(conn), queued()
    map_event(inbox_id)
    assert (table_counts(conn), aliases(conn), queued()) == (before, cached, sent)
    assert plex.calls == ["40275"]


def test_a_transient_failure_is_retried_and_keeps_the_row(
    install: Install, conn: db.Connection
) -> None:
    install(plex=FakePlex({}, error=Transient("Plex answered 503")))
    inbox_id = record(conn, "plex", plex_episode())
    on_watch_event(inbox_id)
    with pytest.raises(Transient):
        map_event(inbox_id)
    assert state(conn, inbox_id) == ("mapping", None) and aliases(conn) == []


def test_missing_inbox_row_is_a_no_op(install: Install, conn: db.Connection) -> None:
    install(plex=FakePlex({}))
    map_event(999_999)
    assert queued()["events"] == 0


def test_the_real_clients_fit_what_map_event_calls() -> None:
    def services(plex: PlexClient, jellyfin: JellyfinClient, tmdb: TmdbClient) -> Services:
        return Services(plex, jellyfin, tmdb)  # mypy checks each client against its Protocol

    assert callable(services)
    assert all(
        callable(getattr(client, method))
        for client, method in (
            (PlexClient, "metadata"),
            (JellyfinClient, "item"),
            (TmdbClient, "find"),
        )
    )
