"""sync_arr mirrors each instance's library into arr_items, and survives one instance failing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from recommendarr.clock import SCHEDULES
from recommendarr.functions.sync_arr import sync_arr
from recommendarr.settings import ArrInstance
from recommendarr.shared import db, resources
from recommendarr.shared.clients.arr import RadarrClient, SonarrClient
from recommendarr.shared.errors import Permanent, Transient
from recommendarr.shared.integrations import Integrations
from recommendarr.shared.store import arr
from tests.conftest import fixture_bytes
from tests.fake_arr import FakeUpstream, serve_upstream


@pytest.fixture(autouse=True)
def clean_arr_items(conn: db.Connection) -> None:
    conn.execute("TRUNCATE arr_items")
    conn.commit()


@pytest.fixture
def radarr_up() -> Iterator[FakeUpstream]:
    with serve_upstream() as upstream:
        upstream.reply_fixture("GET", "/api/v3/movie", 200, "radarr/api_v3_movie.json")
        yield upstream


@pytest.fixture
def sonarr_up() -> Iterator[FakeUpstream]:
    with serve_upstream() as upstream:
        upstream.reply_fixture("GET", "/api/v3/series", 200, "sonarr/api_v3_series.json")
        yield upstream


@pytest.fixture
def configured(
    res: resources.Resources, radarr_up: FakeUpstream, sonarr_up: FakeUpstream
) -> Iterator[None]:
    http = httpx.Client(timeout=5)

    def instance(name: str, url: str) -> ArrInstance:
        return ArrInstance(name=name, url=url, api_key=SecretStr("key"))

    integrations = Integrations(
        radarr={"main": RadarrClient(http, instance("main", radarr_up.url))},
        sonarr={"tv": SonarrClient(http, instance("tv", sonarr_up.url))},
    )
    resources.install(dataclasses.replace(res, integrations=integrations))
    yield
    resources.install(res)


def rows(conn: db.Connection) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT instance, arr_id, media_type, tmdb_id, tvdb_id, title, monitored, has_file "
        "FROM arr_items ORDER BY instance, arr_id"
    ).fetchall()


INCEPTION = {
    "instance": "radarr:main",
    "arr_id": 42,
    "media_type": "movie",
    "tmdb_id": 27205,
    "tvdb_id": None,
    "title": "Inception",
    "monitored": True,
    "has_file": True,
}
BREAKING_BAD = {
    "instance": "sonarr:tv",
    "arr_id": 12,
    "media_type": "tv",
    "tmdb_id": 1396,
    "tvdb_id": 81189,
    "title": "Breaking Bad",
    "monitored": True,
    "has_file": True,
}


@pytest.mark.usefixtures("configured")
def test_mirrors_every_instance(conn: db.Connection) -> None:
    assert sync_arr("sync_arr:1") == {"titles": {"radarr:main": 1, "sonarr:tv": 1}}
    assert rows(conn) == [INCEPTION, BREAKING_BAD]
    assert arr.arr_has(conn, "movie", 27205) and arr.arr_has(conn, "tv", 1396)


@pytest.mark.usefixtures("configured")
def test_a_second_run_writes_nothing(conn: db.Connection) -> None:
    sync_arr("sync_arr:1")
    stamps = conn.execute("SELECT arr_id, updated_at FROM arr_items ORDER BY arr_id").fetchall()
    sync_arr("sync_arr:2")
    assert conn.execute("SELECT arr_id, updated_at FROM arr_items ORDER BY arr_id").fetchall() == (
        stamps
    )


@pytest.mark.usefixtures("configured")
def test_removed_titles_and_unconfigured_instances_go(
    conn: db.Connection, radarr_up: FakeUpstream
) -> None:
    # A webhook from an instance name that matches nothing configured, and a title since deleted.
    arr.note_from_webhook(conn, "radarr:Radarr", 7, "movie", 603, None, "The Matrix", False)
    arr.note_from_webhook(conn, "radarr:main", 99, "movie", 155, None, "Gone", True)
    conn.commit()
    movies = json.loads(fixture_bytes("radarr/api_v3_movie.json"))
    movies[0]["monitored"] = False
    movies[0]["hasFile"] = False
    movies[0]["statistics"]["movieFileCount"] = 0
    radarr_up.reply("GET", "/api/v3/movie", 200, movies)
    sync_arr("sync_arr:1")
    assert rows(conn) == [{**INCEPTION, "monitored": False, "has_file": False}, BREAKING_BAD]


@pytest.mark.usefixtures("configured")
def test_one_instance_down_keeps_its_rows_and_retries(
    conn: db.Connection, radarr_up: FakeUpstream
) -> None:
    sync_arr("sync_arr:1")
    radarr_up.reply("GET", "/api/v3/movie", 503, b"")
    with pytest.raises(Transient, match=r"radarr:main: .*503"):
        sync_arr("sync_arr:2")
    assert rows(conn) == [INCEPTION, BREAKING_BAD]


@pytest.mark.usefixtures("configured")
def test_a_wrong_key_fails_for_good(conn: db.Connection, sonarr_up: FakeUpstream) -> None:
    sonarr_up.reply("GET", "/api/v3/series", 401, b"")
    with pytest.raises(Permanent, match=r"sonarr:tv: .*API key"):
        sync_arr("sync_arr:1")
    # The healthy instance was still mirrored.
    assert rows(conn) == [INCEPTION]


def test_nothing_configured_touches_nothing(conn: db.Connection) -> None:
    arr.note_from_webhook(conn, "radarr:Radarr", 7, "movie", 603, None, "The Matrix", False)
    conn.commit()
    assert sync_arr("sync_arr:1") == {"titles": {}}
    assert len(rows(conn)) == 1


def test_the_clock_runs_it_every_six_hours() -> None:
    [schedule] = [s for s in SCHEDULES if s.name == "sync_arr"]
    assert schedule.every_s == 6 * 3600
