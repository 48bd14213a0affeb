"""JellyfinClient against a loopback Jellyfin speaking the fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from recommendarr.settings import Settings
from recommendarr.shared.clients.jellyfin import JellyfinClient, build_jellyfin
from recommendarr.shared.domain.media_server import ALL
from recommendarr.shared.errors import NotFound, Permanent, Transient
from tests.fake_media_servers import JELLYFIN_KEY, MOVIES_FOLDER, SHOWS_FOLDER, FakeJellyfin

KIDS = "9a8b7c6d5e4f40312a1b0c9d8e7f6a5b"
ALICE = "5f1d6a9e2c7b4a31b8e0d4c2a9f7e6b1"


@pytest.fixture
def jellyfin() -> Iterator[FakeJellyfin]:
    with FakeJellyfin().running() as fake:
        yield fake


def client(
    fake: FakeJellyfin,
    key: str = JELLYFIN_KEY,
    page_size: int = 200,
    timeout: float = 5.0,
    sleeps: list[float] | None = None,
) -> JellyfinClient:
    return JellyfinClient(
        httpx.Client(timeout=timeout),
        fake.url,
        key,
        page_size=page_size,
        sleep=(sleeps if sleeps is not None else []).append,
    )


def test_identity_libraries_and_check(jellyfin: FakeJellyfin) -> None:
    c = client(jellyfin)
    info = c.server_info()
    assert (info.kind, info.machine_id, info.name) == (
        "jellyfin",
        "f27caa37e5142225cceded48f6553502",
        "Attic",
    )
    assert [lib.key for lib in c.libraries() if lib.holds_titles] == [MOVIES_FOLDER, SHOWS_FOLDER]
    assert c.check() == "Jellyfin server 'Attic' reachable (version 10.10.6, 2 movie/TV libraries)"
    assert jellyfin.seen[0].headers["Authorization"] == f'MediaBrowser Token="{JELLYFIN_KEY}"'


def test_library_items_page_with_start_index_and_limit(jellyfin: FakeJellyfin) -> None:
    jellyfin.items[MOVIES_FOLDER] = jellyfin.items[MOVIES_FOLDER] * 3  # same title thrice
    items = client(jellyfin, page_size=2).library_items(MOVIES_FOLDER)
    assert [i.tmdb_id for i in items] == [27205, 27205, 27205]
    pages = [s.query for s in jellyfin.seen if s.path == "/Items"]
    assert [(q["StartIndex"], q["Limit"]) for q in pages] == [("0", "2"), ("2", "2")]
    assert {q["ParentId"] for q in pages} == {MOVIES_FOLDER}
    assert {q["IncludeItemTypes"] for q in pages} == {"Movie,Series"}
    assert all("ProviderIds" in q["Fields"] and "DateCreated" in q["Fields"] for q in pages)


def test_users_and_access_from_policy(jellyfin: FakeJellyfin) -> None:
    c = client(jellyfin)
    assert [u.key for u in c.users()] == [ALICE, KIDS]
    assert {a.user_key: a.library_keys for a in c.access()} == {
        ALICE: ALL,
        KIDS: frozenset({SHOWS_FOLDER}),
    }


def test_item_returns_the_raw_item(jellyfin: FakeJellyfin) -> None:
    item = client(jellyfin).item("a0b1c2d3e4f5061728394a5b6c7d8e9f")
    assert item["ProviderIds"]["Tvdb"] == "81189" and item["Type"] == "Series"
    with pytest.raises(NotFound):
        client(jellyfin).item("00000000000000000000000000000000")


def test_ratings_read_each_users_favourites(jellyfin: FakeJellyfin) -> None:
    ratings = client(jellyfin).ratings()
    # Inception is alice's favourite (UserData.IsFavorite); UserData only exists per user.
    assert {(r.user_key, r.rating_key, r.favorite) for r in ratings} == {
        (ALICE, "d4f1c2b3a4e5f60718293a4b5c6d7e8f", True),
        (KIDS, "d4f1c2b3a4e5f60718293a4b5c6d7e8f", True),
    }
    assert all("userId" in s.query for s in jellyfin.seen if s.path == "/Items")


def test_history_since_reads_finished_plays_from_the_activity_log(jellyfin: FakeJellyfin) -> None:
    rows = list(client(jellyfin).history_since(datetime(2025, 3, 15, tzinfo=UTC)))
    assert [(r.ref, r.user_key) for r in rows] == [("8812", ALICE)]
    query = jellyfin.seen[-1].query
    assert query["minDate"] == "2025-03-15T00:00:00.000Z" and query["startIndex"] == "0"


def test_wrong_key_is_permanent_and_never_echoed(jellyfin: FakeJellyfin) -> None:
    with pytest.raises(Permanent, match="JELLYFIN_API_KEY") as caught:
        client(jellyfin, key="not-the-key").users()
    assert "not-the-key" not in str(caught.value)


def test_429_retry_after_once_then_transient(jellyfin: FakeJellyfin) -> None:
    sleeps: list[float] = []
    jellyfin.throttle_next = 1
    assert client(jellyfin, sleeps=sleeps).server_info().name == "Attic"
    jellyfin.throttle_next = 2
    with pytest.raises(Transient):
        client(jellyfin, sleeps=sleeps).server_info()
    assert sleeps == [1.0, 1.0]


@pytest.mark.parametrize("mode", ["error", "garbage"])
def test_errors_and_malformed_bodies_are_transient(jellyfin: FakeJellyfin, mode: str) -> None:
    jellyfin.mode = mode
    with pytest.raises(Transient):
        client(jellyfin).libraries()


def test_a_list_where_an_object_belongs_is_transient(jellyfin: FakeJellyfin) -> None:
    jellyfin.routes["/Users"] = jellyfin.routes["/System/Info"]
    with pytest.raises(Transient, match="unexpected shape"):
        client(jellyfin).users()


def test_timeout_is_transient(jellyfin: FakeJellyfin) -> None:
    jellyfin.mode = "slow"
    with pytest.raises(Transient, match="timed out"):
        client(jellyfin, timeout=0.2).server_info()


def test_built_only_when_configured() -> None:
    http = httpx.Client()
    assert build_jellyfin(Settings(_env_file=None), http) is None  # type: ignore[call-arg]
    configured = Settings(_env_file=None, JELLYFIN_URL="http://jf:8096", JELLYFIN_API_KEY="k")  # type: ignore[call-arg]
    assert build_jellyfin(configured, http) is not None
