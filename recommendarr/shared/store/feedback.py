"""A user's thumbs, dismissals and hides. A hide lasts until `until`; the others until cleared."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.why_not import FeedbackFact


def find_item(conn: Connection, media_type: str, tmdb_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT id, tmdb_id, media_type, title, year FROM items "
        "WHERE tmdb_id = %s AND media_type = %s",
        (tmdb_id, media_type),
    ).fetchone()


def record(
    conn: Connection, user_id: int, item_id: int, kind: str, months: int | None
) -> dict[str, Any]:
    """Store one piece of feedback; giving it again renews it (a hide restarts its months)."""
    row = conn.execute(
        "INSERT INTO feedback (user_id, item_id, kind, until) "
        "VALUES (%s, %s, %s, CASE WHEN %s::int IS NULL THEN NULL "
        "  ELSE now() + make_interval(months => %s::int) END) "
        "ON CONFLICT (user_id, item_id, kind) DO UPDATE SET until = EXCLUDED.until, "
        "created_at = now() RETURNING kind, until, created_at",
        (user_id, item_id, kind, months, months),
    ).fetchone()
    assert row is not None
    return row


def clear(
    conn: Connection, user_id: int, item_id: int, kinds: Sequence[str] | None = None
) -> list[str]:
    """Delete the user's feedback on a title (only `kinds` when given); the kinds deleted."""
    rows = conn.execute(
        "DELETE FROM feedback WHERE user_id = %s AND item_id = %s "
        "AND (%s::text[] IS NULL OR kind = ANY(%s::text[])) RETURNING kind",
        (
            user_id,
            item_id,
            None if kinds is None else list(kinds),
            None if kinds is None else list(kinds),
        ),
    ).fetchall()
    return sorted(str(r["kind"]) for r in rows)


def active(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT i.media_type, i.tmdb_id, i.title, i.year, f.kind, f.until, f.created_at "
        "FROM feedback f JOIN items i ON i.id = f.item_id WHERE f.user_id = %s "
        "AND (f.until IS NULL OR f.until > now()) "
        "ORDER BY f.created_at DESC, f.id DESC",
        (user_id,),
    ).fetchall()


def on_item(conn: Connection, user_id: int, item_id: int) -> list[FeedbackFact]:
    rows = conn.execute(
        "SELECT kind, until FROM feedback WHERE user_id = %s AND item_id = %s "
        "AND (until IS NULL OR until > now()) "
        "ORDER BY kind",
        (user_id, item_id),
    ).fetchall()
    return [FeedbackFact(kind=str(r["kind"]), until=r["until"]) for r in rows]


def votes(conn: Connection, user_id: int) -> dict[int, str]:
    """item_id -> 'up' / 'down': the user's explicit word on titles, for the profile."""
    rows = conn.execute(
        "SELECT item_id, kind FROM feedback WHERE user_id = %s AND kind IN ('up', 'down') "
        "ORDER BY created_at, id",
        (user_id,),
    ).fetchall()
    # Later votes win should both ever exist for one title.
    return {int(r["item_id"]): str(r["kind"]) for r in rows}


def hidden_until(conn: Connection, user_id: int) -> dict[int, datetime | None]:
    """The titles the user hid that are still hidden, and until when."""
    rows = conn.execute(
        "SELECT item_id, until FROM feedback WHERE user_id = %s AND kind = 'hide' "
        "AND (until IS NULL OR until > now())",
        (user_id,),
    ).fetchall()
    return {int(r["item_id"]): r["until"] for r in rows}


def hidden_item_ids(conn: Connection, user_id: int) -> list[int]:
    """Titles under an active hide: rank_user penalizes titles similar to them."""
    return sorted(hidden_until(conn, user_id))
