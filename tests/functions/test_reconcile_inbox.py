from __future__ import annotations

import dramatiq

from recommendarr.clock import period_key, tick
from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.functions.reconcile_inbox import reconcile_inbox
from recommendarr.shared import db
from tests.conftest import fixture_bytes, queued, run_queued, table_counts
from tests.helpers import record_inbox, tautulli


def test_resends_only_unfinished_rows(conn: db.Connection) -> None:
    lost = record_inbox(conn, tautulli())  # accepted, but its message never reached a worker
    finished = record_inbox(conn, tautulli("webhook_watched.json"))
    on_watch_event(finished)
    from recommendarr.broker import broker

    broker.flush_all()
    reconcile_inbox("test:1", 0)
    assert queued()["events"] == 1
    run_queued()
    states = dict(conn.execute("SELECT id, state FROM inbox ORDER BY id").fetchall()[0])
    assert states == {"id": lost, "state": "done"}
    assert table_counts(conn)["watch_events"] == 2


def test_second_call_changes_nothing(conn: db.Connection) -> None:
    record_inbox(conn, tautulli())
    reconcile_inbox("test:1", 0)
    run_queued()
    before = table_counts(conn)
    reconcile_inbox("test:1", 0)
    assert queued()["events"] == 0
    assert table_counts(conn) == before


def test_recent_rows_are_left_to_their_own_message(conn: db.Connection) -> None:
    record_inbox(conn, tautulli())
    reconcile_inbox("test:1", 3600)
    assert queued()["events"] == 0


def test_clock_sends_once_per_period(res: object) -> None:
    sent: dict[str, str] = {}
    first = tick(sent, 120.0)
    assert period_key("reconcile_inbox", 60, 120.0) in first
    assert len(first) == len(set(first)) >= 1
    assert tick(sent, 150.0) == []
    assert tick(sent, 180.0) == ["reconcile_inbox:3"]


def test_rows_go_back_to_the_actor_of_their_source(conn: db.Connection) -> None:
    from recommendarr.broker import broker
    from recommendarr.shared.store import inbox

    inbox.record(conn, "radarr", "application/json", fixture_bytes("radarr/webhook_download.json"))
    inbox.record(
        conn, "tautulli", "application/json", fixture_bytes("tautulli/webhook_watched.json")
    )
    conn.commit()
    reconcile_inbox("test:1", 0)
    sent = [dramatiq.Message.decode(m).actor_name for m in list(broker.queues["events"].queue)]
    assert sorted(sent) == ["on_arr_event", "on_watch_event"]
