"""poll_tautulli against a loopback Tautulli: history rows become inbox rows exactly once."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.functions.poll_tautulli import poll_tautulli
from recommendarr.shared import db, resources
from recommendarr.shared.store import inbox
from tests.conftest import fixture_bytes, queued, run_queued
from tests.fake_media_servers import FakeTautulli, integrations_installed, tautulli_client

TEMPLATE_KEYS = set(json.loads(fixture_bytes("tautulli/webhook_template.json")))
# The fixtures' plays are from March 2025: reach back far enough whatever today is.
DEEP = 36_500


@pytest.fixture
def tautulli(res: resources.Resources) -> Iterator[FakeTautulli]:
    with (
        FakeTautulli().running() as fake,
        integrations_installed(res, tautulli=tautulli_client(fake, page_size=1)),
    ):
        yield fake


def history_inbox(conn: db.Connection) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, external_ref, body FROM inbox WHERE source = 'tautulli_history' ORDER BY id"
    ).fetchall()


def commands(fake: FakeTautulli, cmd: str) -> list[dict[str, str]]:
    return [s.query for s in fake.seen if s.query.get("cmd") == cmd]


def test_history_rows_become_inbox_rows_in_the_webhook_shape(
    conn: db.Connection, tautulli: FakeTautulli
) -> None:
    result = poll_tautulli("poll_tautulli:1", DEEP)
    assert (result["rows"], result["new"], result["unresolved"]) == (2, 2, 0)
    rows = history_inbox(conn)
    assert [r["external_ref"] for r in rows] == ["001742079540:9305", "001742159102:9312"]
    movie, episode = (json.loads(bytes(r["body"])) for r in rows)
    assert set(movie) >= TEMPLATE_KEYS and set(episode) >= TEMPLATE_KEYS
    assert (movie["action"], movie["themoviedb_id"], movie["section_id"]) == ("stop", "27205", "1")
    assert (episode["action"], episode["themoviedb_id"], episode["user_id"]) == (
        "watched",
        "1396",
        "31690025",
    )
    assert episode["server_id"] == "5b4e9c1a7d3f2e8b6a0c9d1e2f3a4b5c6d7e8f90"
    assert queued()["events"] == 2
    run_queued()
    events = conn.execute(
        "SELECT w.source, w.action, i.tmdb_id, u.plex_user_id FROM watch_events w "
        "JOIN items i ON i.id = w.item_id JOIN users u ON u.id = w.user_id ORDER BY w.id"
    ).fetchall()
    assert [tuple(e.values()) for e in events] == [
        ("tautulli_history", "stop", 27205, "27185324"),
        ("tautulli_history", "watched", 1396, "31690025"),
    ]


def test_first_poll_backfills_a_year(conn: db.Connection, tautulli: FakeTautulli) -> None:
    poll_tautulli("p")
    afters = {q["after"] for q in commands(tautulli, "get_history")}
    expected = (datetime.now(UTC) - timedelta(days=366)).date()
    assert len(afters) == 1 and abs(date.fromisoformat(afters.pop()) - expected) <= timedelta(1)


def test_repolling_adds_nothing(conn: db.Connection, tautulli: FakeTautulli) -> None:
    poll_tautulli("p1", DEEP)
    run_queued()
    counts = conn.execute("SELECT count(*) AS n FROM inbox").fetchone()
    metadata_calls = len(commands(tautulli, "get_metadata"))
    result = poll_tautulli("p2", DEEP)
    assert result["new"] == 0 and queued()["events"] == 0
    assert conn.execute("SELECT count(*) AS n FROM inbox").fetchone() == counts
    # Rows already taken in are not looked up again.
    assert len(commands(tautulli, "get_metadata")) == metadata_calls
    # The second poll starts from the newest play we have (2025-03-16), a day early.
    assert commands(tautulli, "get_history")[-1]["after"] == "2025-03-15"


def test_a_new_play_is_the_only_new_row(conn: db.Connection, tautulli: FakeTautulli) -> None:
    poll_tautulli("p1", DEEP)
    newer = copy.deepcopy(tautulli.history_rows[0])
    newer.update(id=9400, row_id=9400, reference_id=9400, date=1742250000)
    newer.update(started=1742247000, stopped=1742250000, percent_complete=40, watched_status=0.5)
    tautulli.history_rows.append(newer)
    result = poll_tautulli("p2", DEEP)
    assert result["new"] == 1
    assert history_inbox(conn)[-1]["external_ref"] == "001742250000:9400"


def test_metadata_is_fetched_once_per_item_per_run(
    conn: db.Connection, tautulli: FakeTautulli
) -> None:
    again = copy.deepcopy(tautulli.history_rows[0])
    again.update(id=9313, row_id=9313, reference_id=9313, stopped=1742160000)
    tautulli.history_rows.append(again)
    assert poll_tautulli("p", DEEP)["new"] == 3
    assert sorted(q["rating_key"] for q in commands(tautulli, "get_metadata")) == ["38211", "40294"]


def test_a_play_of_an_item_gone_from_plex_is_skipped(
    conn: db.Connection, tautulli: FakeTautulli
) -> None:
    del tautulli.metadata["38211"]
    result = poll_tautulli("p", DEEP)
    assert (result["new"], result["unresolved"]) == (1, 1)


def test_skipped_while_webhooks_arrive(conn: db.Connection, tautulli: FakeTautulli) -> None:
    inbox.record(
        conn, "tautulli", "application/json", fixture_bytes("tautulli/webhook_watched.json")
    )
    conn.commit()
    assert "skipped" in poll_tautulli("p", DEEP)
    assert tautulli.seen == [] and history_inbox(conn) == []
    conn.execute("UPDATE inbox SET received_at = now() - interval '6 minutes'")
    conn.commit()
    assert poll_tautulli("p2", DEEP)["new"] == 2


def test_not_configured_is_skipped(conn: db.Connection) -> None:
    assert poll_tautulli("p")["skipped"] == "Tautulli is not configured"


def test_a_play_the_webhook_already_reported_stays_one_viewing(
    conn: db.Connection, tautulli: FakeTautulli
) -> None:
    """Tautulli sent the 'watched' webhook for bob's episode; later (webhooks went quiet) the
    poll reads the same play from history: one watch event, reported by both sources."""
    webhook_id = inbox.record(
        conn, "tautulli", "application/json", fixture_bytes("tautulli/webhook_watched.json")
    )
    conn.execute("UPDATE inbox SET received_at = now() - interval '1 hour'")
    conn.commit()
    on_watch_event(webhook_id)
    run_queued()
    poll_tautulli("p", DEEP)
    run_queued()
    rows = conn.execute(
        "SELECT w.source, w.action, w.also_reported_by FROM watch_events w "
        "JOIN users u ON u.id = w.user_id WHERE u.plex_user_id = '31690025'"
    ).fetchall()
    assert rows == [
        {"source": "tautulli", "action": "watched", "also_reported_by": ["tautulli_history"]}
    ]
