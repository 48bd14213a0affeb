"""A Tautulli stop and a Plex scrobble of the same play are one watch event, not two."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.shared import db
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import inbox
from tests.conftest import fixture_bytes, queued
from tests.helpers import tautulli

BOB = "31690025"
ALICE = "27185324"
DAY = 86400


def plex(name: str, *, account_id: int, last_viewed_at: int, offset_ms: int) -> dict[str, Any]:
    """A Plex webhook about Inception in the Movies library (the fixtures' server)."""
    body: dict[str, Any] = json.loads(fixture_bytes("plex/webhook_media_stop.json"))
    template: dict[str, Any] = json.loads(fixture_bytes(f"plex/{name}"))
    body.update(event=template["event"], user=template["user"], owner=template["owner"])
    body["Account"] = {"id": account_id, "title": "bob_p" if account_id != 1 else "alice"}
    body["Metadata"].update(lastViewedAt=last_viewed_at, viewOffset=offset_ms)
    return body


def scrobble(account_id: int = int(BOB), at: int | None = None) -> dict[str, Any]:
    at = int(time.time()) - 60 if at is None else at
    return plex(
        "webhook_media_scrobble.json", account_id=account_id, last_viewed_at=at, offset_ms=8_000_000
    )


def tautulli_stop(user: str = BOB, progress: int = 79, at: int | None = None) -> dict[str, Any]:
    at = int(time.time()) - 30 if at is None else at
    return tautulli(
        "webhook_playback_stop.json",
        user_id=user,
        username="bob_p" if user == BOB else "alice",
        progress_percent=str(progress),
        timestamp=str(at),
    )


def record(conn: db.Connection, source: str, payload: dict[str, Any]) -> int:
    inbox_id = inbox.record(conn, source, "application/json", json.dumps(payload).encode())
    conn.commit()
    return inbox_id


def refreshes_started(conn: db.Connection) -> None:
    """The queued refresh_profile took the pending request, as it does before reading history:
    a later change to what the profile reads needs a refresh of its own."""
    conn.execute("DELETE FROM profile_refresh_requests")
    conn.commit()


def watch_events(conn: db.Connection) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT user_id, item_id, source, action, progress, also_reported_by FROM watch_events "
        "ORDER BY id"
    ).fetchall()


def test_tautulli_stop_then_plex_scrobble_is_one_event_with_the_higher_progress(
    conn: db.Connection,
) -> None:
    on_watch_event(record(conn, "tautulli", tautulli_stop(progress=79)))
    refreshes_started(conn)
    plex_row = record(conn, "plex", scrobble())
    on_watch_event(plex_row)
    [event] = watch_events(conn)
    assert (event["source"], event["action"]) == ("tautulli", "watched")
    assert event["progress"] == pytest.approx(8_000_000 / 8_880_000)
    assert event["also_reported_by"] == ["plex"]
    # The duplicate's inbox row is finished without an error; the completion refreshes taste.
    row = inbox.get(conn, plex_row)
    assert row is not None and (row["state"], row["error"]) == ("done", None)
    assert queued()["profiles"] == 2


def test_plex_scrobble_then_tautulli_stop_keeps_the_completion(conn: db.Connection) -> None:
    on_watch_event(record(conn, "plex", scrobble()))
    on_watch_event(record(conn, "tautulli", tautulli_stop(progress=95)))
    [event] = watch_events(conn)
    assert (event["source"], event["action"]) == ("plex", "watched")
    assert event["progress"] == pytest.approx(0.95)
    assert event["also_reported_by"] == ["tautulli"]


def test_a_lower_second_report_changes_nothing_the_profile_reads(conn: db.Connection) -> None:
    on_watch_event(record(conn, "plex", scrobble()))
    refreshes_started(conn)
    on_watch_event(record(conn, "tautulli", tautulli_stop(progress=50)))
    [event] = watch_events(conn)
    assert event["action"] == "watched"
    assert event["progress"] == pytest.approx(8_000_000 / 8_880_000)
    assert queued()["profiles"] == 1


def test_two_plays_days_apart_are_two_events(conn: db.Connection) -> None:
    now = int(time.time())
    on_watch_event(record(conn, "tautulli", tautulli_stop(at=now - 3 * DAY)))
    on_watch_event(record(conn, "plex", scrobble(at=now - 60)))
    assert [e["source"] for e in watch_events(conn)] == ["tautulli", "plex"]


def test_same_source_twice_is_one_event(conn: db.Connection) -> None:
    payload = scrobble()
    first, second = record(conn, "plex", payload), record(conn, "plex", payload)
    on_watch_event(first)
    on_watch_event(second)
    assert len(watch_events(conn)) == 1
    stop = tautulli_stop()
    on_watch_event(record(conn, "tautulli", stop))
    on_watch_event(record(conn, "tautulli", stop))
    [event] = watch_events(conn)
    assert event["also_reported_by"] == ["tautulli"]


def test_different_users_are_not_merged(conn: db.Connection) -> None:
    on_watch_event(record(conn, "tautulli", tautulli_stop(user=ALICE)))
    on_watch_event(record(conn, "plex", scrobble(account_id=int(BOB))))
    assert len({e["user_id"] for e in watch_events(conn)}) == 2


def test_the_owner_alias_is_the_same_person_as_their_plex_tv_id(conn: db.Connection) -> None:
    on_watch_event(record(conn, "tautulli", tautulli_stop(user=ALICE)))
    # What a library sync records: the plex.tv account that owns the server.
    conn.execute("UPDATE users SET is_owner = true WHERE plex_user_id = %s", (ALICE,))
    conn.commit()
    on_watch_event(record(conn, "plex", scrobble(account_id=1)))
    [event] = watch_events(conn)
    assert event["action"] == "watched" and event["also_reported_by"] == ["plex"]


def test_rerunning_a_merged_report_changes_nothing(conn: db.Connection) -> None:
    on_watch_event(record(conn, "tautulli", tautulli_stop()))
    plex_row = record(conn, "plex", scrobble())
    on_watch_event(plex_row)
    before = watch_events(conn)
    inbox.set_state(conn, plex_row, "received")
    conn.commit()
    on_watch_event(plex_row)
    assert watch_events(conn) == before


def test_concurrent_reports_of_one_play_are_one_event(res: Resources, conn: db.Connection) -> None:
    rows = [record(conn, "tautulli", tautulli_stop()), record(conn, "plex", scrobble())]
    start = threading.Barrier(len(rows))
    failures: list[BaseException] = []

    def run(inbox_id: int) -> None:
        start.wait()
        try:
            on_watch_event(inbox_id)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    [event] = watch_events(conn)
    assert event["action"] == "watched"
