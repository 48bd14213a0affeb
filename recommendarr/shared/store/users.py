"""Users and what they may see."""

from __future__ import annotations

from typing import Any

from recommendarr.shared.db import Connection


def upsert_tautulli_user(
    conn: Connection, tautulli_user_id: str, username: str, friendly: str
) -> int:
    row = conn.execute(
        "INSERT INTO users (username, friendly_name, tautulli_user_id, plex_user_id) "
        "VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (tautulli_user_id) DO UPDATE SET "
        "  username = EXCLUDED.username, "
        "  friendly_name = coalesce(nullif(EXCLUDED.friendly_name, ''), users.friendly_name) "
        "RETURNING id",
        # Tautulli's user_id is the plex.tv account id.
        (username, friendly or None, tautulli_user_id, tautulli_user_id),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def get(conn: Connection, user_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT id, username, friendly_name, plex_user_id, tautulli_user_id, jellyfin_user_id, "
        "is_owner, created_at FROM users WHERE id = %s",
        (user_id,),
    ).fetchone()


def list_all(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, username, friendly_name, plex_user_id, tautulli_user_id, jellyfin_user_id, "
        "is_owner, created_at FROM users ORDER BY id"
    ).fetchall()


def grant_library(conn: Connection, user_id: int, library_id: int, granted_by: str) -> None:
    """Record access; an explicit grant from a sync outranks one inferred from playback."""
    conn.execute(
        "INSERT INTO user_library_access (user_id, library_id, granted_by) VALUES (%s, %s, %s) "
        "ON CONFLICT (user_id, library_id) DO NOTHING",
        (user_id, library_id, granted_by),
    )
