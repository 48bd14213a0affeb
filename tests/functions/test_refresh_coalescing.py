"""Per-user profile refreshes are coalesced ("latest wins") without ever losing an event."""

from __future__ import annotations

import threading
import time

import dramatiq

from recommendarr.broker import broker
from recommendarr.functions.embed_item import embed_item
from recommendarr.functions.on_watch_event import on_watch_event, record
from recommendarr.functions.reconcile_derived import reconcile_derived
from recommendarr.functions.refresh_profile import refresh_profile
from recommendarr.shared import db, resources
from recommendarr.shared.store import profiles
from tests.conftest import drain, queued, run_queued
from tests.helpers import FACTS, add_user, record_inbox, seed_library, watch

T0 = 1_760_000_000
EMPTY = {"events": 0, "embeddings": 0, "profiles": 0}


def household(conn: db.Connection) -> tuple[int, dict[int, int]]:
    ids = seed_library(conn)
    for item_id in ids.values():
        embed_item(item_id)
    return add_user(conn, "501", "maya"), ids


def titles_in_profile(conn: db.Connection, user_id: int) -> int:
    row = conn.execute(
        "SELECT coalesce(sum(n_titles), 0) AS n FROM taste_profiles WHERE user_id = %s", (user_id,)
    ).fetchone()
    assert row is not None
    return int(row["n"])


def pending(conn: db.Connection) -> list[int]:
    rows = conn.execute("SELECT user_id FROM profile_refresh_requests ORDER BY user_id")
    return [int(r["user_id"]) for r in rows.fetchall()]


def test_a_burst_of_events_enqueues_one_refresh(conn: db.Connection) -> None:
    user_id, _ = household(conn)
    tmdb_ids = list(FACTS)
    for n, tmdb_id in enumerate(tmdb_ids):
        on_watch_event(record_inbox(conn, watch(tmdb_id, "501", 100, T0 + n)))
    assert queued()["profiles"] == 1  # not one per event
    assert pending(conn) == [user_id]
    run_queued()
    assert titles_in_profile(conn, user_id) == len(tmdb_ids)  # the one rebuild read them all
    assert pending(conn) == []
    # The next event starts a new round.
    on_watch_event(record_inbox(conn, watch(tmdb_ids[0], "501", 100, T0 + 86_400)))
    assert queued()["profiles"] == 1


def test_other_users_are_not_coalesced_together(conn: db.Connection) -> None:
    household(conn)
    add_user(conn, "502", "noor")
    on_watch_event(record_inbox(conn, watch(27205, "501", 100, T0)))
    on_watch_event(record_inbox(conn, watch(27205, "502", 100, T0)))
    assert queued()["profiles"] == 2


def test_an_event_attached_to_a_pending_refresh_is_read_by_it(
    conn: db.Connection, res: resources.Resources
) -> None:
    """The event found the request row (so it sends nothing) but commits only after the
    refresh began: the refresh must wait for it rather than rebuild without it."""
    user_id, _ = household(conn)
    on_watch_event(record_inbox(conn, watch(27205, "501", 100, T0)))
    assert queued()["profiles"] == 1
    late = record_inbox(conn, watch(157336, "501", 100, T0 + 1))
    with res.pool.connection() as other:
        row = other.execute("SELECT body, received_at FROM inbox WHERE id = %s", (late,))
        fetched = row.fetchone()
        assert fetched is not None
        follow_ups = record(
            other, "tautulli", late, bytes(fetched["body"]), fetched["received_at"], False
        )
        assert follow_ups is not None and follow_ups.refresh_user_ids == []  # coalesced
        refresher = threading.Thread(target=refresh_profile, args=(user_id,))
        refresher.start()
        time.sleep(0.5)
        assert refresher.is_alive()  # its delete waits for the event's lock on the row
        other.commit()
    refresher.join(timeout=30)
    assert not refresher.is_alive()
    assert titles_in_profile(conn, user_id) == 2
    assert pending(conn) == []


def test_an_event_committed_after_the_refresh_started_sends_again(
    conn: db.Connection, res: resources.Resources
) -> None:
    user_id, _ = household(conn)
    on_watch_event(record_inbox(conn, watch(27205, "501", 100, T0)))
    broker.flush_all()  # the message is taken by the refresh below
    with res.pool.connection() as blocker:
        # The refresh takes the request, then waits here for the per-user lock, as it would
        # behind another refresh of the same user.
        profiles.lock_user(blocker, user_id)
        refresher = threading.Thread(target=refresh_profile, args=(user_id,))
        refresher.start()
        deadline = time.monotonic() + 10
        while pending(conn) and time.monotonic() < deadline:
            time.sleep(0.05)
        conn.commit()
        assert pending(conn) == []  # taken
        on_watch_event(record_inbox(conn, watch(157336, "501", 100, T0 + 1)))
        assert queued()["profiles"] == 1  # a new request: the running refresh may miss it
        assert pending(conn) == [user_id]
        blocker.rollback()
    refresher.join(timeout=30)
    assert not refresher.is_alive()
    run_queued()
    assert titles_in_profile(conn, user_id) == 2
    assert pending(conn) == []


def test_a_lost_refresh_message_is_resent_by_reconcile(conn: db.Connection) -> None:
    user_id, _ = household(conn)
    on_watch_event(record_inbox(conn, watch(27205, "501", 100, T0)))
    broker.flush_all()  # Redis restarted: the only message for this request is gone
    reconcile_derived("test:0")
    assert queued() == EMPTY  # a fresh request is left alone: its message may be queued
    conn.execute("UPDATE profile_refresh_requests SET requested_at = now() - interval '2 min'")
    conn.commit()
    reconcile_derived("test:1")
    assert queued() == {"events": 0, "embeddings": 0, "profiles": 1}
    broker.flush_all()  # lost once more
    reconcile_derived("test:2")
    assert queued() == EMPTY  # re-sent a moment ago: not sent again on every run
    conn.execute("UPDATE profile_refresh_requests SET requested_at = now() - interval '2 min'")
    conn.commit()
    reconcile_derived("test:3")
    assert queued()["profiles"] == 1
    run_queued()
    assert titles_in_profile(conn, user_id) == 1
    assert pending(conn) == []
    reconcile_derived("test:4", 0)
    assert queued() == EMPTY  # nothing left to catch up


def test_a_resent_refresh_without_a_request_still_rebuilds(conn: db.Connection) -> None:
    """Messages from other senders (a library sync, a new vector, an operator) carry no
    request row, and a retried message finds its own row gone: neither may skip."""
    user_id, _ = household(conn)
    on_watch_event(record_inbox(conn, watch(27205, "501", 100, T0)))
    broker.flush_all()
    conn.execute("DELETE FROM profile_refresh_requests")
    conn.commit()
    refresh_profile(user_id)
    assert titles_in_profile(conn, user_id) == 1


def test_concurrent_events_and_refreshes_lose_nothing(
    conn: db.Connection, worker: dramatiq.Worker
) -> None:
    """Worker threads record events while others rebuild: whatever interleaving happens, the
    last rebuild has read every event and no request is left behind."""
    first, _ = household(conn)
    second = add_user(conn, "502", "noor")
    for n, tmdb_id in enumerate(FACTS):
        for user in ("501", "502"):
            on_watch_event.send(record_inbox(conn, watch(tmdb_id, user, 100, T0 + n)))
    drain()
    assert titles_in_profile(conn, first) == len(FACTS)
    assert titles_in_profile(conn, second) == len(FACTS)
    assert pending(conn) == []
