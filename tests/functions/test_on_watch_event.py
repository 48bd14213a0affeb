from __future__ import annotations

from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.shared import db
from recommendarr.shared.store import inbox
from tests.conftest import queued, table_counts
from tests.helpers import record_inbox, tautulli


def test_records_a_normalized_watch_event(conn: db.Connection) -> None:
    inbox_id = record_inbox(conn, tautulli("webhook_playback_stop.json"))
    on_watch_event(inbox_id)
    row = conn.execute(
        "SELECT w.action, w.progress, w.duration_s, w.occurred_at, u.username, u.tautulli_user_id, "
        "i.tmdb_id, i.media_type, i.title FROM watch_events w JOIN users u ON u.id = w.user_id "
        "JOIN items i ON i.id = w.item_id"
    ).fetchone()
    assert row is not None
    assert (row["tmdb_id"], row["media_type"], row["title"]) == (27205, "movie", "Inception")
    assert (row["username"], row["tautulli_user_id"]) == ("alice", "27185324")
    assert row["action"] == "stop"
    assert abs(row["progress"] - 0.79) < 1e-6
    assert row["duration_s"] == 8880
    assert int(row["occurred_at"].timestamp()) == 1742079540
    assert inbox.get(conn, inbox_id)["state"] == "done"  # type: ignore[index]
    # A new title is embedded; a stop refreshes the user's profile.
    assert queued()["embeddings"] == 1 and queued()["profiles"] == 1


def test_second_call_changes_nothing(conn: db.Connection) -> None:
    inbox_id = record_inbox(conn, tautulli("webhook_watched.json"))
    on_watch_event(inbox_id)
    before, sent = table_counts(conn), queued()
    on_watch_event(inbox_id)
    assert table_counts(conn) == before
    assert queued() == sent


def test_the_same_payload_delivered_twice_is_one_event(conn: db.Connection) -> None:
    payload = tautulli("webhook_watched.json")
    first, second = record_inbox(conn, payload), record_inbox(conn, payload)
    on_watch_event(first)
    on_watch_event(second)
    assert table_counts(conn)["watch_events"] == 1
    # The duplicate neither re-embeds nor refreshes again.
    assert queued()["profiles"] == 1
    assert inbox.get(conn, second)["state"] == "done"  # type: ignore[index]


def test_episode_maps_to_the_show(conn: db.Connection) -> None:
    on_watch_event(record_inbox(conn, tautulli("webhook_watched.json")))
    row = conn.execute("SELECT tmdb_id, media_type, title FROM items").fetchone()
    assert row == {"tmdb_id": 1396, "media_type": "tv", "title": "Breaking Bad"}


def test_play_records_but_does_not_refresh(conn: db.Connection) -> None:
    on_watch_event(record_inbox(conn, tautulli("webhook_playback_start.json")))
    assert table_counts(conn)["watch_events"] == 1
    assert queued()["profiles"] == 0


def test_recently_added_creates_the_library_item_only(conn: db.Connection) -> None:
    on_watch_event(record_inbox(conn, tautulli("webhook_recently_added.json")))
    counts = table_counts(conn)
    assert counts["library_items"] == 1 and counts["items"] == 1
    assert counts["watch_events"] == 0 and counts["users"] == 0


def test_untracked_actions_are_kept_as_ignored(conn: db.Connection) -> None:
    inbox_id = record_inbox(conn, tautulli(action="buffer"))
    on_watch_event(inbox_id)
    row = inbox.get(conn, inbox_id)
    assert row is not None and row["state"] == "ignored" and "buffer" in row["error"]


def test_title_without_tmdb_id_is_kept_with_the_reason(conn: db.Connection) -> None:
    inbox_id = record_inbox(conn, tautulli(themoviedb_id=""))
    on_watch_event(inbox_id)
    row = inbox.get(conn, inbox_id)
    assert row is not None and row["state"] == "ignored" and "no TMDB id" in row["error"]
    assert table_counts(conn)["watch_events"] == 0


def test_resuming_after_commit_resends_follow_ups(conn: db.Connection) -> None:
    """A delivery that committed but died before sending is finished by the next delivery."""
    inbox_id = record_inbox(conn, tautulli())
    on_watch_event(inbox_id)
    from recommendarr.broker import broker

    broker.flush_all()
    inbox.set_state(conn, inbox_id, "recorded")
    conn.commit()
    on_watch_event(inbox_id)
    assert table_counts(conn)["watch_events"] == 1
    assert queued()["profiles"] == 1
    assert inbox.get(conn, inbox_id)["state"] == "done"  # type: ignore[index]


def test_missing_inbox_row_is_a_no_op(conn: db.Connection) -> None:
    on_watch_event(999_999)
    assert table_counts(conn)["watch_events"] == 0
