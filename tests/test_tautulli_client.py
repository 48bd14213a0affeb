"""TautulliClient against a loopback Tautulli API v2 speaking the fixtures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from recommendarr.settings import Settings
from recommendarr.shared.clients.tautulli import TautulliClient, build_tautulli
from recommendarr.shared.errors import NotFound, Permanent, Transient
from tests.fake_media_servers import TAUTULLI_KEY, FakeTautulli, json_reply


@pytest.fixture
def tautulli() -> Iterator[FakeTautulli]:
    with FakeTautulli().running() as fake:
        yield fake


def client(
    fake: FakeTautulli,
    key: str = TAUTULLI_KEY,
    page_size: int = 500,
    timeout: float = 5.0,
    sleeps: list[float] | None = None,
) -> TautulliClient:
    return TautulliClient(
        httpx.Client(timeout=timeout),
        fake.url,
        key,
        page_size=page_size,
        sleep=(sleeps if sleeps is not None else []).append,
    )


def test_history_pages_with_start_and_length_after_a_date(tautulli: FakeTautulli) -> None:
    since = datetime(2025, 3, 16, 12, 0, tzinfo=UTC)
    rows = list(client(tautulli, page_size=1).history_since(since))
    assert [r.item_key for r in rows] == ["38211", "40294"]  # oldest first
    queries = [s.query for s in tautulli.seen]
    assert [(q["start"], q["length"]) for q in queries] == [("0", "1"), ("1", "1")]
    assert {q["after"] for q in queries} == {"2025-03-15"}  # a day early: Tautulli's local date
    assert {(q["cmd"], q["grouping"], q["order_dir"], q["apikey"]) for q in queries} == {
        ("get_history", "0", "asc", TAUTULLI_KEY)
    }


def test_history_after_filters_older_days(tautulli: FakeTautulli) -> None:
    rows = list(client(tautulli).history_since(datetime(2025, 3, 17, 20, 0, tzinfo=UTC)))
    assert [r.item_key for r in rows] == ["40294"]


def test_users_libraries_metadata_identity_and_check(tautulli: FakeTautulli) -> None:
    c = client(tautulli)
    assert [u.key for u, _ in c.get_users()] == ["27185324", "31690025"]
    assert [lib.name for lib in c.get_libraries()] == ["Movies", "TV Shows"]
    assert c.get_metadata("40294").ids.tmdb_id == 1396
    assert c.get_server_identity() == "5b4e9c1a7d3f2e8b6a0c9d1e2f3a4b5c6d7e8f90"
    assert c.check() == "Tautulli reachable; it tracks 2 libraries (Movies, TV Shows)"


def test_metadata_of_an_item_plex_no_longer_has_is_not_found(tautulli: FakeTautulli) -> None:
    with pytest.raises(NotFound):
        client(tautulli).get_metadata("123")


def test_result_error_is_permanent_with_tautullis_message(tautulli: FakeTautulli) -> None:
    with pytest.raises(Permanent, match="Unknown command: arnold") as caught:
        client(tautulli).call("arnold")
    assert TAUTULLI_KEY not in str(caught.value)


def test_an_error_message_that_quotes_the_key_is_scrubbed(tautulli: FakeTautulli) -> None:
    tautulli.routes["/api/v2"] = lambda seen: json_reply(
        {"response": {"result": "error", "message": f"bad key {TAUTULLI_KEY}", "data": {}}}
    )
    with pytest.raises(Permanent) as caught:
        client(tautulli).get_users()
    assert TAUTULLI_KEY not in str(caught.value) and "***" in str(caught.value)


def test_wrong_key_is_permanent_and_stays_out_of_errors_and_logs(
    tautulli: FakeTautulli, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    with pytest.raises(Permanent, match="TAUTULLI_API_KEY") as caught:
        client(tautulli, key="wrong-key-4f3e2d").get_users()
    assert "wrong-key-4f3e2d" not in str(caught.value)
    client(tautulli).get_libraries()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "apikey=***" in logged
    assert TAUTULLI_KEY not in logged and "wrong-key-4f3e2d" not in logged


def test_429_retry_after_once_then_transient(tautulli: FakeTautulli) -> None:
    sleeps: list[float] = []
    tautulli.throttle_next, tautulli.retry_after = 1, "2"
    assert client(tautulli, sleeps=sleeps).get_libraries()
    tautulli.throttle_next = 2
    with pytest.raises(Transient, match="rate limiting"):
        client(tautulli, sleeps=sleeps).get_libraries()
    assert sleeps == [2.0, 2.0]


@pytest.mark.parametrize(("mode", "message"), [("error", "HTTP 500"), ("garbage", "not JSON")])
def test_errors_and_non_json_are_transient(tautulli: FakeTautulli, mode: str, message: str) -> None:
    tautulli.mode = mode
    with pytest.raises(Transient, match=message):
        client(tautulli).get_users()


def test_json_without_the_response_wrapper_is_transient(tautulli: FakeTautulli) -> None:
    tautulli.routes["/api/v2"] = lambda seen: json_reply({"data": []})
    with pytest.raises(Transient, match="unexpected shape"):
        client(tautulli).get_users()


def test_timeout_is_transient(tautulli: FakeTautulli) -> None:
    tautulli.mode = "slow"
    with pytest.raises(Transient, match="timed out"):
        client(tautulli, timeout=0.2).get_users()


def test_a_wrong_base_url_is_not_found(tautulli: FakeTautulli) -> None:
    c = TautulliClient(httpx.Client(timeout=5.0), tautulli.url + "/tautulli", TAUTULLI_KEY)
    with pytest.raises(NotFound, match="/api/v2"):
        c.get_users()


def test_built_only_when_configured() -> None:
    http = httpx.Client()
    assert build_tautulli(Settings(_env_file=None), http) is None  # type: ignore[call-arg]
    configured = Settings(_env_file=None, TAUTULLI_URL="http://t:8181", TAUTULLI_API_KEY="k")  # type: ignore[call-arg]
    assert build_tautulli(configured, http) is not None
