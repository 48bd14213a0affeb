"""Users and what they may see."""

from __future__ import annotations

from typing import Any

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.events import UserRef


def upsert_tautulli_user(
    conn: Connection, tautulli_user_id: str, username: str, friendly: str
) -> int:
    row = conn.execute(
        "INSERT INTO users (username, friendly_name, tautulli_user_id, plex_user_id) "
        "VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (plex_user_id) DO UPDATE SET tautulli_user_id = EXCLUDED.tautulli_user_id, "
        "  username = EXCLUDED.username, "
        "  friendly_name = coalesce(nullif(EXCLUDED.friendly_name, ''), users.friendly_name) "
        "RETURNING id",
        # Tautulli's user_id is the plex.tv account id.
        (username, friendly or None, tautulli_user_id, tautulli_user_id),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def upsert_from_ref(conn: Connection, ref: UserRef, via: str) -> int:
    """The user a webhook names, created on first sight, found by the id space it uses."""
    if ref.kind == "jellyfin":
        return upsert_jellyfin_user(conn, normalize_guid(ref.key), ref.username, ref.friendly_name)
    if ref.owner_alias:
        return owner_user(conn, ref.username)
    if via == "tautulli":
        return upsert_tautulli_user(conn, ref.key, ref.username, ref.friendly_name)
    return upsert_plex_user(conn, ref.key, ref.username, ref.friendly_name)


def normalize_guid(value: str) -> str:
    """Jellyfin writes guids with hyphens in webhooks and without them in its API."""
    return value.replace("-", "").lower()


def upsert_plex_user(conn: Connection, plex_user_id: str, username: str, friendly: str) -> int:
    row = conn.execute(
        "INSERT INTO users (username, friendly_name, plex_user_id) VALUES (%s, %s, %s) "
        "ON CONFLICT (plex_user_id) DO UPDATE SET username = EXCLUDED.username "
        "RETURNING id",
        (username, friendly or None, plex_user_id),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def upsert_jellyfin_user(
    conn: Connection, jellyfin_user_id: str, username: str, friendly: str
) -> int:
    row = conn.execute(
        "INSERT INTO users (username, friendly_name, jellyfin_user_id) VALUES (%s, %s, %s) "
        "ON CONFLICT (jellyfin_user_id) DO UPDATE SET username = EXCLUDED.username "
        "RETURNING id",
        (username, friendly or None, jellyfin_user_id),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def owner_user(conn: Connection, username: str) -> int:
    """Plex names its owner with the server-local id 1: the owner row, created if none yet."""
    row = conn.execute("SELECT id FROM users WHERE is_owner ORDER BY id LIMIT 1").fetchone()
    if row is not None:
        return int(row["id"])
    created = conn.execute(
        "INSERT INTO users (username, is_owner) VALUES (%s, true) RETURNING id", (username,)
    ).fetchone()
    assert created is not None
    return int(created["id"])


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
    """Record access; an explicit grant from a sync outranks one inferred from playback, and
    playback grants nothing in a library a sync manages: there the sync is the truth."""
    conn.execute(
        "INSERT INTO user_library_access (user_id, library_id, granted_by) "
        "SELECT %s, %s, %s WHERE %s <> 'observed' OR NOT EXISTS "
        "  (SELECT 1 FROM libraries WHERE id = %s AND synced_at IS NOT NULL) "
        "ON CONFLICT (user_id, library_id) DO NOTHING",
        (user_id, library_id, granted_by, granted_by, library_id),
    )
