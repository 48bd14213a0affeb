"""on_arr_event: what Radarr/Sonarr webhooks record, and that re-runs record nothing more."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from recommendarr.functions.on_arr_event import on_arr_event
from recommendarr.settings import ArrInstance
from recommendarr.shared import db, resources
from recommendarr.shared.store import arr, inbox
from tests.conftest import fixture_bytes, queued, table_counts


@pytest.fixture(autouse=True)
def clean_arr_items(conn: db.Connection) -> None:
    # conftest's TRUNCATE reaches availability and grabs through items; arr_items has no FK.
    conn.execute("TRUNCATE arr_items")
    conn.commit()


def record(conn: db.Connection, source: str, body: bytes | dict[str, Any]) -> int:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    inbox_id = inbox.record(conn, source, "application/json", raw)
    conn.commit()
    return inbox_id


def fixture(path: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(fixture_bytes(path))
    return payload


def arr_rows(conn: db.Connection) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT instance, arr_id, media_type, tmdb_id, tvdb_id, title, monitored, has_file, "
        "updated_at FROM arr_items ORDER BY instance, arr_id"
    ).fetchall()


def availability(conn: db.Connection) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT i.tmdb_id, i.media_type, a.source, a.available_at, a.inbox_id "
        "FROM item_availability a JOIN items i ON i.id = a.item_id ORDER BY i.tmdb_id"
    ).fetchall()


def state(conn: db.Connection, inbox_id: int) -> tuple[str, str | None]:
    row = inbox.get(conn, inbox_id)
    assert row is not None
    return row["state"], row["error"]


def test_radarr_download_marks_the_title_available(conn: db.Connection) -> None:
    inbox_id = record(conn, "radarr", fixture_bytes("radarr/webhook_download.json"))
    on_arr_event(inbox_id)
    assert availability(conn) == [
        {
            "tmdb_id": 27205,
            "media_type": "movie",
            "source": "radarr",
            "available_at": datetime(2025, 3, 14, 21, 7, 45, 271234, tzinfo=UTC),
            "inbox_id": inbox_id,
        }
    ]
    [row] = arr_rows(conn)
    assert (row["instance"], row["arr_id"], row["tmdb_id"], row["title"]) == (
        "radarr:Radarr",
        42,
        27205,
        "Inception",
    )
    assert row["monitored"] and row["has_file"]
    item = conn.execute("SELECT title, year, imdb_id FROM items").fetchone()
    assert item == {"title": "Inception", "year": 2010, "imdb_id": "tt1375666"}
    assert arr.arr_has(conn, "movie", 27205) and not arr.arr_has(conn, "tv", 27205)
    assert state(conn, inbox_id) == ("done", None)
    # The new title is enriched (then embedded) like any other.
    assert queued()["embeddings"] == 1


def test_test_event_creates_nothing(conn: db.Connection) -> None:
    for source in ("radarr", "sonarr"):
        before = table_counts(conn)
        inbox_id = record(conn, source, fixture_bytes(f"{source}/webhook_test.json"))
        on_arr_event(inbox_id)
        assert state(conn, inbox_id) == ("ignored", "test event")
        after = table_counts(conn)
        assert after["inbox"] == before["inbox"] + 1
        assert {k: v for k, v in after.items() if k != "inbox"} == {
            k: v for k, v in before.items() if k != "inbox"
        }
    assert arr_rows(conn) == [] and availability(conn) == []
    assert sum(queued().values()) == 0


@pytest.mark.parametrize(
    "path",
    [
        "radarr/webhook_download.json",
        "sonarr/webhook_download.json",
        "sonarr/webhook_download_develop.json",
        "radarr/webhook_grab.json",
        "sonarr/webhook_series_add.json",
    ],
)
def test_calling_twice_changes_nothing(conn: db.Connection, path: str) -> None:
    inbox_id = record(conn, path.split("/", maxsplit=1)[0], fixture_bytes(path))
    on_arr_event(inbox_id)
    before = (table_counts(conn), arr_rows(conn), availability(conn), queued())
    on_arr_event(inbox_id)
    assert (table_counts(conn), arr_rows(conn), availability(conn), queued()) == before


def test_a_redelivered_download_keeps_the_first_availability(conn: db.Connection) -> None:
    first = record(conn, "radarr", fixture_bytes("radarr/webhook_download.json"))
    on_arr_event(first)
    rows, items_before = arr_rows(conn), table_counts(conn)["items"]
    upgrade = fixture("radarr/webhook_download.json")
    upgrade["isUpgrade"] = True
    upgrade["movieFile"]["dateAdded"] = "2025-04-01T10:00:00.0000000Z"
    second = record(conn, "radarr", upgrade)
    on_arr_event(second)
    [available] = availability(conn)
    assert available["inbox_id"] == first
    assert arr_rows(conn) == rows and table_counts(conn)["items"] == items_before
    assert state(conn, second) == ("done", None)


@pytest.mark.parametrize(
    "path", ["sonarr/webhook_download.json", "sonarr/webhook_download_develop.json"]
)
def test_sonarr_download_shapes_mark_the_show_available(conn: db.Connection, path: str) -> None:
    on_arr_event(record(conn, "sonarr", fixture_bytes(path)))
    [available] = availability(conn)
    assert (available["tmdb_id"], available["media_type"], available["source"]) == (
        1396,
        "tv",
        "sonarr",
    )
    item = conn.execute("SELECT title, tvdb_id, imdb_id FROM items").fetchone()
    assert item == {"title": "Breaking Bad", "tvdb_id": 81189, "imdb_id": "tt0903747"}
    [row] = arr_rows(conn)
    assert (row["instance"], row["tvdb_id"], row["has_file"]) == ("sonarr:Sonarr", 81189, True)


def test_added_then_grabbed_then_downloaded(conn: db.Connection) -> None:
    on_arr_event(record(conn, "radarr", fixture_bytes("radarr/webhook_movie_added.json")))
    [added] = arr_rows(conn)
    assert (added["arr_id"], added["monitored"], added["has_file"]) == (57, True, False)
    # Grab/Added say "monitored" only: no title, no availability yet.
    assert table_counts(conn)["items"] == 0 and availability(conn) == []

    on_arr_event(record(conn, "radarr", fixture_bytes("radarr/webhook_download.json")))
    on_arr_event(record(conn, "radarr", fixture_bytes("radarr/webhook_grab.json")))
    rows = {r["arr_id"]: r for r in arr_rows(conn)}
    # A later Grab (an upgrade search) does not forget the file.
    assert rows[42]["has_file"] and not rows[57]["has_file"]


def test_sonarr_download_without_tmdb_id_records_the_arr_row_only(conn: db.Connection) -> None:
    payload = fixture("sonarr/webhook_download.json")
    payload["series"]["tmdbId"] = 0
    inbox_id = record(conn, "sonarr", payload)
    on_arr_event(inbox_id)
    assert availability(conn) == [] and table_counts(conn)["items"] == 0
    [row] = arr_rows(conn)
    assert (row["tmdb_id"], row["tvdb_id"], row["has_file"]) == (None, 81189, True)
    assert state(conn, inbox_id) == ("done", None)


def test_other_events_are_ignored_and_bad_ones_fail(conn: db.Connection) -> None:
    rename = fixture("radarr/webhook_grab.json")
    rename["eventType"] = "Rename"
    ignored = record(conn, "radarr", rename)
    broken = fixture("sonarr/webhook_grab.json")
    del broken["series"]["tvdbId"]
    failed = record(conn, "sonarr", broken)
    on_arr_event(ignored)
    on_arr_event(failed)
    assert state(conn, ignored)[0] == "ignored" and "Rename" in (state(conn, ignored)[1] or "")
    assert state(conn, failed) == ("failed", "series.tvdbId: is required (a positive integer)")
    assert arr_rows(conn) == []


def test_a_missing_inbox_row_is_a_no_op(conn: db.Connection) -> None:
    on_arr_event(999_999)
    assert arr_rows(conn) == []


def test_a_recorded_row_is_resumed(conn: db.Connection) -> None:
    inbox_id = record(conn, "radarr", fixture_bytes("radarr/webhook_download.json"))
    on_arr_event(inbox_id)
    # As if the first run committed and died before sending the follow-up.
    inbox.set_state(conn, inbox_id, "recorded")
    conn.commit()
    before = queued()["embeddings"]
    on_arr_event(inbox_id)
    assert queued()["embeddings"] == before + 1
    assert state(conn, inbox_id) == ("done", None)
    assert len(availability(conn)) == 1


@pytest.fixture
def with_instances(res: resources.Resources) -> Iterator[None]:
    settings = res.settings.model_copy(
        update={
            "radarr": [ArrInstance(name="main", url="http://radarr:7878", api_key=SecretStr("k"))],
            "sonarr": [
                ArrInstance(name="tv", url="http://sonarr:8989", api_key=SecretStr("k")),
                ArrInstance(name="anime", url="http://anime:8989", api_key=SecretStr("k")),
            ],
        }
    )
    resources.install(dataclasses.replace(res, settings=settings))
    yield
    resources.install(res)


@pytest.mark.usefixtures("with_instances")
def test_webhooks_land_on_the_configured_instance(conn: db.Connection) -> None:
    on_arr_event(record(conn, "radarr", fixture_bytes("radarr/webhook_grab.json")))
    anime = fixture("sonarr/webhook_series_add.json")
    anime["instanceName"] = "Anime"
    on_arr_event(record(conn, "sonarr", anime))
    assert [r["instance"] for r in arr_rows(conn)] == ["radarr:main", "sonarr:anime"]
