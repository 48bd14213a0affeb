"""check_integration against loopback Plex, plex.tv, Jellyfin, Tautulli, TMDB, Radarr, Sonarr,
Overseerr/Jellyseerr and Ollama: a plain sentence for every way a connection test can go."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest

from recommendarr.functions.check_integration import check_integration
from recommendarr.shared import db, resources
from recommendarr.shared.clients import connection_check
from recommendarr.shared.clients.tmdb import RedactSecret
from recommendarr.shared.store import integration_checks, jobs
from tests.conftest import drain
from tests.fake_arr import FakeUpstream, serve_upstream
from tests.fake_media_servers import (
    JELLYFIN_KEY,
    PLEX_TOKEN,
    TAUTULLI_KEY,
    FakeJellyfin,
    FakePlex,
    FakePlexTv,
    FakeTautulli,
)
from tests.fake_tmdb import API_KEY as TMDB_KEY
from tests.fake_tmdb import V4_TOKEN, FakeTmdb, serve_fake_tmdb

ARR_KEY = "5f2b9c0e8d7a4b3c2e1f0a9b8c7d6e5f"
SEERR_KEY = "MTc0MjE2MDAwMDAwMGQ2YjQ0ZjMtOTc0Ni00ZjQ4LWE2NjEtZTkxNWMzYmE0Yjdk"
WRONG_KEY = "wrong-key-0000000000000000000000"
KINDS = (
    "plex",
    "jellyfin",
    "tautulli",
    "tmdb",
    "radarr",
    "sonarr",
    "overseerr",
    "jellyseerr",
    "ollama",
)
PRODUCT = {
    "plex": "Plex Media Server",
    "jellyfin": "Jellyfin",
    "tautulli": "Tautulli",
    "tmdb": "TMDB",
    "radarr": "Radarr",
    "sonarr": "Sonarr",
    "overseerr": "Overseerr",
    "jellyseerr": "Jellyseerr",
    "ollama": "Ollama",
}
GOOD_ANSWER = {
    "plex": "Plex Media Server 'Basement' reachable (version 1.41.5.9522-a96edc606, "
    "2 movie/TV libraries); plex.tv account",
    "jellyfin": "Jellyfin server 'Attic' reachable (version 10.10.6, 2 movie/TV libraries)",
    "tautulli": "Tautulli reachable; it tracks 2 libraries (Movies, TV Shows)",
    "tmdb": "TMDB accepted the API key",
    "radarr": "Radarr 5.28.0.10274 answered and accepted the API key",
    "sonarr": "Sonarr 4.0.19.2979 answered and accepted the API key",
    "overseerr": "Overseerr 1.33.2 answered and accepted the API key",
    "jellyseerr": "Jellyseerr 1.33.2 answered and accepted the API key",
    "ollama": "Ollama answered; 2 models pulled (nomic-embed-text:latest, llama3.2:latest)",
}


@dataclasses.dataclass
class Stand:
    """A service standing on loopback: where it is, the key it takes, and how to break it."""

    url: str
    key: str
    fake: FakePlex | FakeJellyfin | FakeTautulli | FakeUpstream | None = None
    plex_tv: FakePlexTv | None = None


def queue_check(conn: db.Connection, kind: str, url: str, key: str) -> int:
    job_id = jobs.create(conn, "check_integration", user_id=None, subject_id=None)
    integration_checks.record(conn, job_id, kind, url, key)
    conn.commit()
    return job_id


def run(conn: db.Connection, kind: str, url: str, key: str) -> dict[str, Any]:
    result = check_integration(queue_check(conn, kind, url, key))
    assert isinstance(result, dict) and set(result) == {"ok", "type", "message"}
    assert result["type"] == kind
    return result


@contextmanager
def plex_tv_at(res: resources.Resources, url: str) -> Iterator[None]:
    settings = res.settings.model_copy(update={"plex_tv_url": url})
    resources.install(dataclasses.replace(res, settings=settings))
    try:
        yield
    finally:
        resources.install(res)


def stand_up(kind: str, stack: ExitStack, res: resources.Resources) -> Stand:
    if kind == "plex":
        server = stack.enter_context(FakePlex().running())
        plex_tv = stack.enter_context(FakePlexTv().running())
        stack.enter_context(plex_tv_at(res, plex_tv.url))
        return Stand(server.url, PLEX_TOKEN, server, plex_tv)
    if kind == "jellyfin":
        jellyfin = stack.enter_context(FakeJellyfin().running())
        return Stand(jellyfin.url, JELLYFIN_KEY, jellyfin)
    if kind == "tautulli":
        tautulli = stack.enter_context(FakeTautulli().running())
        return Stand(tautulli.url, TAUTULLI_KEY, tautulli)
    if kind == "tmdb":
        return Stand(stack.enter_context(serve_fake_tmdb()), TMDB_KEY)
    upstream = stack.enter_context(serve_upstream())
    if kind in ("radarr", "sonarr"):
        status = f"{kind}/api_v3_system_status.json"
        upstream.reply_fixture("GET", "/api/v3/system/status", 200, status)
        return Stand(upstream.url, ARR_KEY, upstream)
    if kind in ("overseerr", "jellyseerr"):
        upstream.reply_fixture("GET", "/api/v1/status", 200, "overseerr/status.json")
        upstream.reply_fixture("GET", "/api/v1/auth/me", 200, "overseerr/auth_me.json")
        return Stand(upstream.url, SEERR_KEY, upstream)
    upstream.reply_fixture("GET", "/api/tags", 200, "ollama/tags.json")
    return Stand(upstream.url, "", upstream)


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as opened:
        yield opened


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- good answers ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_good_answer_is_ok_in_plain_words(
    kind: str, conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    stand = stand_up(kind, stack, res)
    result = run(conn, kind, stand.url, stand.key)
    assert result["ok"] is True, result["message"]
    assert result["message"].startswith(GOOD_ANSWER[kind])


@pytest.mark.parametrize(
    ("kind", "header", "value"),
    [
        ("radarr", "x-api-key", ARR_KEY),
        ("sonarr", "x-api-key", ARR_KEY),
        ("overseerr", "x-api-key", SEERR_KEY),
    ],
)
def test_the_key_travels_in_the_header_the_service_reads(
    kind: str,
    header: str,
    value: str,
    conn: db.Connection,
    res: resources.Resources,
    stack: ExitStack,
) -> None:
    stand = stand_up(kind, stack, res)
    run(conn, kind, stand.url, stand.key)
    assert isinstance(stand.fake, FakeUpstream) and stand.fake.seen
    assert all(seen.headers.get(header) == value for seen in stand.fake.seen)


def test_tmdb_takes_a_v4_read_access_token_too(
    conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    stand = stand_up("tmdb", stack, res)
    assert run(conn, "tmdb", stand.url, V4_TOKEN) == {
        "ok": True,
        "type": "tmdb",
        "message": "TMDB accepted the API key",
    }
    assert FakeTmdb.seen[-1].authorization == f"Bearer {V4_TOKEN}"


def test_ollama_needs_no_key_and_says_when_the_embedding_model_is_missing(
    conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    stand = stand_up("ollama", stack, res)
    assert isinstance(stand.fake, FakeUpstream)
    stand.fake.reply("GET", "/api/tags", 200, {"models": [{"name": "llama3.2:latest"}]})
    result = run(conn, "ollama", stand.url, "")
    assert result["ok"] is True
    assert result["message"] == (
        "Ollama answered; 1 models pulled (llama3.2:latest); the embedding model "
        "'nomic-embed-text' is not pulled yet: run `ollama pull nomic-embed-text` on its host"
    )
    assert "authorization" not in stand.fake.seen[-1].headers


# --- wrong keys --------------------------------------------------------------------------------


def reject_keys(kind: str, stand: Stand) -> None:
    """The fakes of the *arr, Seerr and Ollama answer as told; the others check the key."""
    if not isinstance(stand.fake, FakeUpstream):
        return
    if kind in ("radarr", "sonarr"):
        stand.fake.reply("GET", "/api/v3/system/status", 401, b"")
    elif kind in ("overseerr", "jellyseerr"):
        body = {"status": 403, "error": "You do not have permission to access this endpoint"}
        stand.fake.reply("GET", "/api/v1/auth/me", 403, body)
    else:
        stand.fake.reply("GET", "/api/tags", 401, b"Unauthorized")


@pytest.mark.parametrize(
    ("kind", "status"),
    [(kind, 403 if kind in ("overseerr", "jellyseerr") else 401) for kind in KINDS],
)
def test_a_wrong_key_is_rejected_in_plain_words(
    kind: str, status: int, conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    stand = stand_up(kind, stack, res)
    reject_keys(kind, stand)
    result = run(conn, kind, stand.url, WRONG_KEY)
    assert result["ok"] is False
    word = "token" if kind == "plex" else "key" if kind == "ollama" else "API key"
    assert result["message"] == (
        f"the {word} was rejected (HTTP {status}) by {PRODUCT[kind]} at {stand.url}"
    )


def test_a_token_plex_tv_rejects_names_plex_tv(
    conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    stand = stand_up("plex", stack, res)
    assert stand.plex_tv is not None
    stand.plex_tv.authorized = lambda seen: False
    result = run(conn, "plex", stand.url, PLEX_TOKEN)
    assert result == {
        "ok": False,
        "type": "plex",
        "message": f"the token was rejected (HTTP 401) by plex.tv at {stand.plex_tv.url}",
    }


# --- unreachable, slow, throttled, failing -----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_listening_is_could_not_connect(
    kind: str, conn: db.Connection, res: resources.Resources
) -> None:
    url = f"http://127.0.0.1:{free_port()}" + ("/3" if kind == "tmdb" else "")
    result = run(conn, kind, url, WRONG_KEY)
    assert result["ok"] is False
    assert result["message"] == (
        f"could not connect to {url}: connection refused "
        "(nothing listens on that port, or the service is stopped)"
    )


def test_a_slow_server_times_out_in_plain_words(
    conn: db.Connection,
    res: resources.Resources,
    stack: ExitStack,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connection_check, "TIMEOUT_S", 0.3)
    stand = stand_up("jellyfin", stack, res)
    assert isinstance(stand.fake, FakeJellyfin)
    stand.fake.mode = "slow"
    started = time.monotonic()
    result = run(conn, "jellyfin", stand.url, JELLYFIN_KEY)
    assert time.monotonic() - started < 1.0
    assert result["message"] == (
        f"Jellyfin at {stand.url} took the connection but did not answer within 0.3 s"
    )


def test_a_429_is_reported_at_once_instead_of_waiting(
    conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    stand = stand_up("plex", stack, res)
    assert isinstance(stand.fake, FakePlex)
    stand.fake.throttle_next, stand.fake.retry_after = 1, "20"
    started = time.monotonic()
    result = run(conn, "plex", stand.url, PLEX_TOKEN)
    assert time.monotonic() - started < 5.0
    assert result["message"] == (
        f"Plex Media Server at {stand.url} is rate limiting us (HTTP 429): try again in a minute"
    )


@pytest.mark.parametrize("kind", ["tautulli", "radarr"])
def test_a_server_error_says_it_is_on_their_side(
    kind: str, conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    stand = stand_up(kind, stack, res)
    if isinstance(stand.fake, FakeTautulli):
        stand.fake.mode = "error"
    else:
        assert isinstance(stand.fake, FakeUpstream)
        stand.fake.reply("GET", "/api/v3/system/status", 500, b"<html>oops</html>")
    result = run(conn, kind, stand.url, stand.key)
    assert result["message"] == (
        f"{PRODUCT[kind]} at {stand.url} failed with HTTP 500 (an error on its side; "
        "its logs say more)"
    )


# --- the wrong thing at the URL ----------------------------------------------------------------


@pytest.mark.parametrize(("served", "tested"), [("radarr", "sonarr"), ("sonarr", "radarr")])
def test_one_servarr_app_tested_as_another_says_which_it_is(
    served: str, tested: str, conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    stand = stand_up(served, stack, res)
    result = run(conn, tested, stand.url, stand.key)
    version = GOOD_ANSWER[served].split()[1]
    assert result == {
        "ok": False,
        "type": tested,
        "message": f"this is {PRODUCT[served]} {version}, not {PRODUCT[tested]} "
        f'(test it as type "{served}")',
    }


def test_a_missing_api_path_is_no_product_api_here(
    conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    with serve_upstream() as elsewhere:
        result = run(conn, "radarr", elsewhere.url, ARR_KEY)
    assert result["message"] == (
        f"no Radarr API at {elsewhere.url} (HTTP 404 for /api/v3/system/status): "
        "check the URL, including any URL base"
    )
    tmdb = stand_up("tmdb", stack, res)
    without_version = tmdb.url.removesuffix("/3")
    assert run(conn, "tmdb", without_version, TMDB_KEY)["message"].startswith(
        f"no TMDB API at {without_version} (HTTP 404 for /authentication)"
    )


def garble(kind: str, stand: Stand) -> None:
    if isinstance(stand.fake, FakePlex | FakeJellyfin | FakeTautulli):
        stand.fake.mode = "garbage"
    elif kind == "tmdb":
        FakeTmdb.mode = "garbage"
    else:
        assert isinstance(stand.fake, FakeUpstream)
        for method, path in list(stand.fake.replies):
            stand.fake.reply(method, path, 200, b"<html>Please sign in</html>")


GARBLED_PATH = {
    "plex": "/",
    "jellyfin": "/System/Info",
    "tautulli": "/api/v2",
    "tmdb": "/3/authentication",
    "radarr": "/api/v3/system/status",
    "sonarr": "/api/v3/system/status",
    "overseerr": "/api/v1/status",
    "jellyseerr": "/api/v1/status",
    "ollama": "/api/tags",
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_body_that_is_not_the_product_is_malformed(
    kind: str, conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    stand = stand_up(kind, stack, res)
    garble(kind, stand)
    result = run(conn, kind, stand.url, stand.key)
    assert result["ok"] is False
    # The fake_arr server labels everything JSON; the media fakes say text/html.
    assert result["message"].startswith(
        f"{stand.url} answered, but not like {PRODUCT[kind]} does (HTTP 200, "
    )
    assert result["message"].endswith(f" at {GARBLED_PATH[kind]})")


@pytest.mark.parametrize(
    ("kind", "path", "body"),
    [
        ("radarr", "/api/v3/system/status", []),
        ("sonarr", "/api/v3/system/status", {"appName": "Sonarr"}),
        ("ollama", "/api/tags", {"status": "ok"}),
        ("overseerr", "/api/v1/auth/me", {"name": "not a user"}),
    ],
)
def test_json_of_the_wrong_shape_is_malformed_too(
    kind: str,
    path: str,
    body: Any,
    conn: db.Connection,
    res: resources.Resources,
    stack: ExitStack,
) -> None:
    stand = stand_up(kind, stack, res)
    assert isinstance(stand.fake, FakeUpstream)
    stand.fake.reply("GET", path, 200, body)
    result = run(conn, kind, stand.url, stand.key)
    assert result["message"] == (
        f"{stand.url} answered, but not like {PRODUCT[kind]} does "
        f"(HTTP 200, application/json at {path})"
    )


def test_a_redirect_names_where_it_goes_without_its_query(
    conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    stand = stand_up("radarr", stack, res)
    assert isinstance(stand.fake, FakeUpstream)
    target = "http://radarr.lan/radarr/api/v3/system/status"
    stand.fake.reply(
        "GET", "/api/v3/system/status", 301, b"", Location=f"{target}?apikey={ARR_KEY}"
    )
    result = run(conn, "radarr", stand.url, stand.key)
    assert result["message"].startswith(f"{stand.url} redirects (HTTP 301) to {target}: ")
    assert ARR_KEY not in result["message"]


# --- the key stays secret; re-runs do nothing --------------------------------------------------


def test_the_key_is_nowhere_after_the_check(
    conn: db.Connection,
    res: resources.Resources,
    stack: ExitStack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    tautulli = stand_up("tautulli", stack, res)
    tmdb = stand_up("tmdb", stack, res)
    # Tautulli and TMDB v3 keys ride in the query string, the easiest place to leak from.
    runs = [
        ("tautulli", tautulli.url, TAUTULLI_KEY),
        ("tautulli", tautulli.url, WRONG_KEY),
        ("tmdb", tmdb.url, TMDB_KEY),
        ("tmdb", tmdb.url, "a-tmdb-key-nobody-issued-0123456"),
        ("tmdb", f"http://127.0.0.1:{free_port()}/3", "tmdb-key-for-a-dead-port-012345"),
    ]
    for kind, url, key in runs:
        job_id = queue_check(conn, kind, url, key)
        result = check_integration(job_id)
        job = jobs.get(conn, job_id)
        assert key not in json.dumps(result) and key not in json.dumps(job, default=str)
    assert any("apikey=***" in r.getMessage() for r in caplog.records)
    for _, _, key in runs:
        assert key not in caplog.text
    assert conn.execute("SELECT count(*) AS n FROM integration_checks").fetchone() == {"n": 0}
    leftover = [f for f in logging.getLogger("httpx").filters if isinstance(f, RedactSecret)]
    assert not {f.secret for f in leftover} & {key for _, _, key in runs}


def test_a_second_run_is_a_no_op_that_keeps_the_first_answer(
    conn: db.Connection, res: resources.Resources, stack: ExitStack
) -> None:
    stand = stand_up("tautulli", stack, res)
    assert isinstance(stand.fake, FakeTautulli)
    job_id = queue_check(conn, "tautulli", stand.url, TAUTULLI_KEY)
    first = check_integration(job_id)
    calls = len(stand.fake.seen)
    # What job tracking records after the first run (a direct call bypasses the middleware).
    jobs.mark_done(conn, job_id, first)
    conn.commit()
    assert check_integration(job_id) == first
    assert len(stand.fake.seen) == calls
    assert check_integration(job_id + 1000) is None  # no job, no request: nothing at all


def test_through_the_broker_a_redelivery_keeps_the_result(
    conn: db.Connection, res: resources.Resources, stack: ExitStack, worker: object
) -> None:
    stand = stand_up("radarr", stack, res)
    job_id = queue_check(conn, "radarr", stand.url, stand.key)
    check_integration.send_with_options(args=(job_id,), job_id=job_id)
    drain()
    check_integration.send_with_options(args=(job_id,), job_id=job_id)
    drain()
    job = jobs.get(conn, job_id)
    assert job is not None and job["state"] == "done"
    assert job["result"] == {"ok": True, "type": "radarr", "message": GOOD_ANSWER["radarr"]}
    assert isinstance(stand.fake, FakeUpstream) and len(stand.fake.seen) == 1
