"""request_grab against loopback Overseerr, Radarr and Sonarr servers."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import dramatiq
import httpx
import pytest
from pydantic import SecretStr

from recommendarr.functions.request_grab import request_grab
from recommendarr.settings import ArrInstance
from recommendarr.shared import db, resources
from recommendarr.shared.clients.arr import RadarrClient, SonarrClient
from recommendarr.shared.clients.seerr import SeerrClient
from recommendarr.shared.domain.item_text import ItemFacts
from recommendarr.shared.errors import Permanent, Transient
from recommendarr.shared.integrations import Integrations
from recommendarr.shared.store import arr, items, users
from tests.conftest import fixture_bytes
from tests.fake_arr import FakeUpstream, serve_upstream

DUNE = ItemFacts(693134, "movie", "Dune: Part Two", 2024, ("Science Fiction", "Adventure"))
SEVERANCE = ItemFacts(95396, "tv", "Severance", 2022, ("Drama", "Mystery"), language="en")
FRIEREN = ItemFacts(209867, "tv", "Frieren", 2023, ("Animation", "Drama"), language="ja")
TVDB_IDS = {95396: 371980, 209867: 424536}


@pytest.fixture(autouse=True)
def clean_arr_items(conn: db.Connection) -> None:
    conn.execute("TRUNCATE arr_items")
    conn.commit()


@pytest.fixture
def upstreams() -> Iterator[dict[str, FakeUpstream]]:
    with (
        serve_upstream() as seerr,
        serve_upstream() as radarr,
        serve_upstream() as tv,
        serve_upstream() as anime,
    ):
        yield {"seerr": seerr, "radarr": radarr, "tv": tv, "anime": anime}


def install(res: resources.Resources, integrations: Integrations) -> None:
    resources.install(dataclasses.replace(res, integrations=integrations))


@pytest.fixture
def via_seerr(res: resources.Resources, upstreams: dict[str, FakeUpstream]) -> Iterator[None]:
    seerr = SeerrClient(httpx.Client(timeout=5), upstreams["seerr"].url, SecretStr("seerr-key"))
    # A Radarr is configured too: Seerr still wins.
    install(res, Integrations(seerr=seerr, radarr=arr_clients(upstreams)[0]))
    yield
    resources.install(res)


@pytest.fixture
def via_arr(res: resources.Resources, upstreams: dict[str, FakeUpstream]) -> Iterator[None]:
    radarr, sonarr = arr_clients(upstreams)
    install(res, Integrations(radarr=radarr, sonarr=sonarr))
    yield
    resources.install(res)


def arr_clients(
    upstreams: dict[str, FakeUpstream],
) -> tuple[dict[str, RadarrClient], dict[str, SonarrClient]]:
    http = httpx.Client(timeout=5)

    def instance(name: str, domain: str, root: str, profile: int) -> ArrInstance:
        return ArrInstance.model_validate(
            {
                "name": name,
                "url": upstreams[name if name != "main" else "radarr"].url,
                "api_key": SecretStr(f"{name}-key"),
                "quality_profile_id": profile,
                "root_folder": root,
                "domain": domain,
            }
        )

    radarr = {"main": RadarrClient(http, instance("main", "movies", "/movies", 4))}
    sonarr = {
        "tv": SonarrClient(http, instance("tv", "tv", "/tv", 6)),
        "anime": SonarrClient(http, instance("anime", "anime", "/anime", 7)),
    }
    return radarr, sonarr


def grab(conn: db.Connection, facts: ItemFacts, via: str, tvdb: bool = True) -> int:
    user_id = users.upsert_tautulli_user(conn, "27185324", "alice", "Alice")
    item_id = items.upsert_facts(conn, facts)
    if tvdb and facts.tmdb_id in TVDB_IDS:
        arr.fill_external_ids(conn, item_id, None, TVDB_IDS[facts.tmdb_id])
    grab_id = int(arr.open_grab(conn, user_id, item_id, via)["id"])
    conn.commit()
    return grab_id


def grab_row(conn: db.Connection, grab_id: int) -> dict[str, Any]:
    row = conn.execute(
        "SELECT via, state, external_id, error FROM grab_requests WHERE id = %s", (grab_id,)
    ).fetchone()
    assert row is not None
    return dict(row)


def sent(grab_id: int) -> dict[str, Any]:
    result = request_grab(grab_id)
    assert result is not None
    return result


def all_requests(upstreams: dict[str, FakeUpstream]) -> int:
    return sum(len(u.seen) for u in upstreams.values())


@pytest.mark.usefixtures("via_seerr")
def test_seerr_path(conn: db.Connection, upstreams: dict[str, FakeUpstream]) -> None:
    seerr = upstreams["seerr"]
    seerr.reply_fixture("POST", "/api/v1/request", 201, "overseerr/request_create_response.json")
    grab_id = grab(conn, DUNE, "seerr")
    assert request_grab(grab_id) == {"via": "seerr", "state": "sent", "external_id": "188"}
    assert seerr.posted("/api/v1/request") == [
        json.loads(fixture_bytes("overseerr/request_create_body_movie.json"))
    ]
    assert seerr.seen[0].headers["x-api-key"] == "seerr-key"
    assert grab_row(conn, grab_id) == {
        "via": "seerr",
        "state": "sent",
        "external_id": "188",
        "error": None,
    }
    request_grab(grab_id)
    assert len(seerr.seen) == 1 and upstreams["radarr"].seen == []


@pytest.mark.usefixtures("via_seerr")
def test_seerr_tv_request_carries_the_tvdb_id(
    conn: db.Connection, upstreams: dict[str, FakeUpstream]
) -> None:
    upstreams["seerr"].reply_fixture(
        "POST", "/api/v1/request", 201, "overseerr/request_create_response.json"
    )
    request_grab(grab(conn, SEVERANCE, "seerr"))
    [body] = upstreams["seerr"].posted("/api/v1/request")
    assert body == {
        "mediaType": "tv",
        "mediaId": 95396,
        "tvdbId": 371980,
        "seasons": "all",
        "is4k": False,
    }


@pytest.mark.usefixtures("via_seerr")
@pytest.mark.parametrize(
    ("status", "fixture"),
    [(409, "overseerr/request_exists_409.json"), (202, "overseerr/request_no_seasons_202.json")],
)
def test_seerr_already_requested_is_exists(
    conn: db.Connection, upstreams: dict[str, FakeUpstream], status: int, fixture: str
) -> None:
    upstreams["seerr"].reply_fixture("POST", "/api/v1/request", status, fixture)
    grab_id = grab(conn, SEVERANCE, "seerr")
    assert sent(grab_id)["state"] == "exists"
    assert grab_row(conn, grab_id)["state"] == "exists"
    request_grab(grab_id)
    assert len(upstreams["seerr"].seen) == 1


@pytest.mark.usefixtures("via_seerr")
def test_seerr_quota_fails_with_its_message(
    conn: db.Connection, upstreams: dict[str, FakeUpstream]
) -> None:
    upstreams["seerr"].reply_fixture(
        "POST", "/api/v1/request", 403, "overseerr/request_quota_403.json"
    )
    grab_id = grab(conn, DUNE, "seerr")
    with pytest.raises(Permanent, match="Quota"):
        request_grab(grab_id)
    row = grab_row(conn, grab_id)
    assert row["state"] == "failed" and "Movie Quota exceeded" in row["error"]
    assert "seerr-key" not in row["error"]


@pytest.mark.usefixtures("via_arr")
def test_radarr_path(conn: db.Connection, upstreams: dict[str, FakeUpstream]) -> None:
    radarr = upstreams["radarr"]
    radarr.reply_fixture("POST", "/api/v3/movie", 201, "radarr/api_v3_movie_post_response.json")
    grab_id = grab(conn, DUNE, "radarr")
    assert request_grab(grab_id) == {"via": "radarr", "state": "sent", "external_id": "main:57"}
    expected = json.loads(fixture_bytes("radarr/api_v3_movie_post_request.json"))
    expected["tags"] = []
    assert radarr.posted("/api/v3/movie") == [expected]
    assert radarr.seen[0].headers["x-api-key"] == "main-key"
    # Known as held at once, so a second grab of it is refused without asking Radarr.
    assert arr.arr_has(conn, "movie", 693134)
    request_grab(grab_id)
    assert len(radarr.seen) == 1


@pytest.mark.usefixtures("via_arr")
def test_radarr_already_added_is_exists(
    conn: db.Connection, upstreams: dict[str, FakeUpstream]
) -> None:
    upstreams["radarr"].reply_fixture(
        "POST", "/api/v3/movie", 400, "radarr/api_v3_movie_post_exists.json"
    )
    grab_id = grab(conn, DUNE, "radarr")
    assert sent(grab_id)["state"] == "exists"


@pytest.mark.usefixtures("via_arr")
@pytest.mark.parametrize(("facts", "target"), [(SEVERANCE, "tv"), (FRIEREN, "anime")])
def test_sonarr_path_by_domain(
    conn: db.Connection, upstreams: dict[str, FakeUpstream], facts: ItemFacts, target: str
) -> None:
    upstreams[target].reply_fixture(
        "POST", "/api/v3/series", 201, "sonarr/api_v3_series_post_response.json"
    )
    grab_id = grab(conn, facts, "sonarr")
    result = sent(grab_id)
    assert (result["via"], result["state"]) == ("sonarr", "sent")
    assert result["external_id"] == f"{target}:31"
    [body] = upstreams[target].posted("/api/v3/series")
    assert (body["tvdbId"], body["title"]) == (TVDB_IDS[facts.tmdb_id], facts.title)
    assert body["seriesType"] == ("anime" if target == "anime" else "standard")
    other = "anime" if target == "tv" else "tv"
    assert upstreams[other].seen == []
    request_grab(grab_id)
    assert len(upstreams[target].seen) == 1


@pytest.mark.usefixtures("via_arr")
def test_sonarr_needs_the_tvdb_id(conn: db.Connection, upstreams: dict[str, FakeUpstream]) -> None:
    grab_id = grab(conn, SEVERANCE, "sonarr", tvdb=False)
    with pytest.raises(Permanent, match="TVDB id"):
        request_grab(grab_id)
    row = grab_row(conn, grab_id)
    assert row["state"] == "failed" and "TVDB id" in row["error"]
    assert all_requests(upstreams) == 0


@pytest.mark.usefixtures("via_arr")
def test_a_title_an_instance_holds_is_not_sent(
    conn: db.Connection, upstreams: dict[str, FakeUpstream]
) -> None:
    arr.note_from_webhook(conn, "radarr:main", 57, "movie", 693134, None, "Dune", has_file=False)
    grab_id = grab(conn, DUNE, "radarr")
    assert sent(grab_id)["state"] == "exists"
    assert all_requests(upstreams) == 0


@pytest.mark.usefixtures("via_arr")
def test_an_outage_leaves_the_request_pending_with_the_reason(
    conn: db.Connection, upstreams: dict[str, FakeUpstream]
) -> None:
    upstreams["radarr"].reply("POST", "/api/v3/movie", 503, b"")
    grab_id = grab(conn, DUNE, "radarr")
    with pytest.raises(Transient):
        request_grab(grab_id)
    row = grab_row(conn, grab_id)
    assert row["state"] == "pending" and "503" in row["error"]
    # Once it answers, the retry sends it.
    upstreams["radarr"].reply_fixture(
        "POST", "/api/v3/movie", 201, "radarr/api_v3_movie_post_response.json"
    )
    request_grab(grab_id)
    assert grab_row(conn, grab_id) == {
        "via": "radarr",
        "state": "sent",
        "external_id": "main:57",
        "error": None,
    }


@pytest.mark.usefixtures("via_arr")
def test_rate_limiting_retries_after_the_upstreams_delay(
    conn: db.Connection, upstreams: dict[str, FakeUpstream]
) -> None:
    upstreams["radarr"].reply("POST", "/api/v3/movie", 429, b"", Retry_After="42")
    with pytest.raises(dramatiq.Retry) as raised:
        request_grab(grab(conn, DUNE, "radarr"))
    assert raised.value.delay == 42_000


def test_no_route_fails_and_says_why(conn: db.Connection) -> None:
    grab_id = grab(conn, DUNE, "radarr")
    with pytest.raises(Permanent, match="RADARR_INSTANCES"):
        request_grab(grab_id)
    assert grab_row(conn, grab_id)["state"] == "failed"


def test_a_missing_grab_is_a_no_op(conn: db.Connection) -> None:
    assert request_grab(424242) is None
