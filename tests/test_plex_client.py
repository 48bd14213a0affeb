"""PlexClient against loopback Plex Media Server and plex.tv speaking the fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from recommendarr.settings import Settings
from recommendarr.shared.clients.plex import PlexClient, build_plex
from recommendarr.shared.domain.media_server import ALL
from recommendarr.shared.errors import NotFound, Permanent, Transient
from tests.fake_media_servers import MACHINE_ID, PLEX_TOKEN, FakePlex, FakePlexTv


@pytest.fixture
def plex() -> Iterator[FakePlex]:
    with FakePlex().running() as fake:
        yield fake


@pytest.fixture
def plex_tv() -> Iterator[FakePlexTv]:
    with FakePlexTv().running() as fake:
        yield fake


def client(
    plex: FakePlex,
    plex_tv: FakePlexTv,
    token: str = PLEX_TOKEN,
    page_size: int = 200,
    timeout: float = 5.0,
    sleeps: list[float] | None = None,
) -> PlexClient:
    return PlexClient(
        httpx.Client(timeout=timeout),
        plex.url,
        token,
        plex_tv.url,
        page_size=page_size,
        sleep=(sleeps if sleeps is not None else []).append,
    )


def test_identity_libraries_and_check(plex: FakePlex, plex_tv: FakePlexTv) -> None:
    c = client(plex, plex_tv)
    info = c.server_info()
    assert (info.machine_id, info.name, info.version) == (
        MACHINE_ID,
        "Basement",
        "1.41.5.9522-a96edc606",
    )
    assert [(lib.key, lib.kind) for lib in c.libraries()] == [("1", "movie"), ("2", "show")]
    assert c.check() == (
        "Plex Media Server 'Basement' reachable (version 1.41.5.9522-a96edc606, "
        "2 movie/TV libraries); plex.tv account 'alice'"
    )
    first = plex.seen[0]
    assert first.headers["X-Plex-Token"] == PLEX_TOKEN
    assert first.headers["Accept"] == "application/json"


def test_library_items_page_with_container_headers(plex: FakePlex, plex_tv: FakePlexTv) -> None:
    items = client(plex, plex_tv, page_size=1).library_items("1")
    assert [(i.rating_key, i.tmdb_id) for i in items] == [("38211", 27205), ("38417", 693134)]
    pages = [s for s in plex.seen if s.path == "/library/sections/1/all"]
    assert [s.headers["X-Plex-Container-Start"] for s in pages] == ["0", "1"]
    assert {s.headers["X-Plex-Container-Size"] for s in pages} == {"1"}
    assert all(s.query["includeGuids"] == "1" for s in pages)


def test_users_and_access_follow_shared_servers(plex: FakePlex, plex_tv: FakePlexTv) -> None:
    c = client(plex, plex_tv)
    assert [(u.key, u.username, u.is_owner) for u in c.users()] == [
        ("27185324", "alice", True),
        ("31690025", "bob_p", False),
        ("40211876", "carol.h", False),
    ]
    access = {a.user_key: a.library_keys for a in c.access()}
    assert access == {"27185324": ALL, "31690025": frozenset({"2"}), "40211876": ALL}
    shared = [s for s in plex_tv.seen if s.path.endswith("/shared_servers")]
    assert shared and shared[0].path == f"/api/servers/{MACHINE_ID}/shared_servers"


def test_metadata_returns_the_raw_entry(plex: FakePlex, plex_tv: FakePlexTv) -> None:
    entry = client(plex, plex_tv).metadata("40294")
    assert entry["grandparentRatingKey"] == "40275" and entry["type"] == "episode"
    assert plex.seen[-1].query["includeGuids"] == "1"


@pytest.mark.parametrize("rating_key", ["99999", "12345"])
def test_metadata_of_a_missing_item_is_not_found(
    plex: FakePlex, plex_tv: FakePlexTv, rating_key: str
) -> None:
    with pytest.raises(NotFound):
        client(plex, plex_tv).metadata(rating_key)


def test_ratings_are_the_owners(plex: FakePlex, plex_tv: FakePlexTv) -> None:
    ratings = client(plex, plex_tv).ratings()
    assert [(r.user_key, r.rating_key, r.rating) for r in ratings] == [("27185324", "40275", 9.0)]


def test_wrong_token_is_permanent_and_never_echoed(plex: FakePlex, plex_tv: FakePlexTv) -> None:
    with pytest.raises(Permanent, match=r"rejected our credentials.*PLEX_TOKEN") as caught:
        client(plex, plex_tv, token="wrong-token-value").server_info()
    assert "wrong-token-value" not in str(caught.value)
    assert not isinstance(caught.value, NotFound)


def test_plex_tv_rejecting_the_token_is_permanent(plex: FakePlex, plex_tv: FakePlexTv) -> None:
    plex_tv.authorized = lambda seen: False
    with pytest.raises(Permanent, match=r"plex\.tv"):
        client(plex, plex_tv).users()


def test_429_waits_for_retry_after_once(plex: FakePlex, plex_tv: FakePlexTv) -> None:
    sleeps: list[float] = []
    plex.throttle_next, plex.retry_after = 1, "3"
    assert client(plex, plex_tv, sleeps=sleeps).server_info().name == "Basement"
    assert sleeps == [3.0] and plex.paths() == ["/", "/"]


def test_429_twice_is_transient(plex: FakePlex, plex_tv: FakePlexTv) -> None:
    sleeps: list[float] = []
    plex.throttle_next = 2
    with pytest.raises(Transient, match="rate limiting"):
        client(plex, plex_tv, sleeps=sleeps).server_info()
    assert sleeps == [1.0]


def test_429_asking_for_too_long_a_wait_is_transient_at_once(
    plex: FakePlex, plex_tv: FakePlexTv
) -> None:
    sleeps: list[float] = []
    plex.throttle_next, plex.retry_after = 1, "3600"
    with pytest.raises(Transient):
        client(plex, plex_tv, sleeps=sleeps).server_info()
    assert sleeps == [] and len(plex.seen) == 1


@pytest.mark.parametrize(("mode", "message"), [("error", "HTTP 500"), ("garbage", "not JSON")])
def test_server_errors_and_bodies_that_are_not_json_are_transient(
    plex: FakePlex, plex_tv: FakePlexTv, mode: str, message: str
) -> None:
    plex.mode = mode
    with pytest.raises(Transient, match=message):
        client(plex, plex_tv).libraries()


def test_json_of_the_wrong_shape_is_transient(plex: FakePlex, plex_tv: FakePlexTv) -> None:
    plex.sections = {"MediaContainer": {"Directory": [{"title": "no key"}]}}
    with pytest.raises(Transient, match="unexpected shape"):
        client(plex, plex_tv).libraries()


def test_timeout_is_transient(plex: FakePlex, plex_tv: FakePlexTv) -> None:
    plex.mode = "slow"
    with pytest.raises(Transient, match="timed out"):
        client(plex, plex_tv, timeout=0.2).server_info()


def test_unreachable_server_is_transient(plex_tv: FakePlexTv) -> None:
    c = PlexClient(httpx.Client(timeout=1.0), "http://127.0.0.1:9", PLEX_TOKEN, plex_tv.url)
    with pytest.raises(Transient, match="unreachable"):
        c.server_info()


def test_built_only_when_configured() -> None:
    http = httpx.Client()
    assert build_plex(Settings(_env_file=None), http) is None  # type: ignore[call-arg]
    configured = Settings(_env_file=None, PLEX_URL="http://plex:32400", PLEX_TOKEN="t")  # type: ignore[call-arg]
    plex = build_plex(configured, http)
    assert plex is not None and plex.plex_tv.base_url == "https://plex.tv"
