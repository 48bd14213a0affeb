"""Servers, their libraries and which library item is which title."""

from __future__ import annotations

from recommendarr.shared.db import Connection


def upsert_server(conn: Connection, kind: str, machine_id: str, name: str = "") -> int:
    row = conn.execute(
        "INSERT INTO servers (kind, machine_id, name) VALUES (%s, %s, %s) "
        "ON CONFLICT (kind, machine_id) DO UPDATE SET name = "
        "  coalesce(nullif(EXCLUDED.name, ''), servers.name) RETURNING id",
        (kind, machine_id, name),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def upsert_library(
    conn: Connection, server_id: int, section_key: str, name: str, domain: str
) -> int:
    row = conn.execute(
        "INSERT INTO libraries (server_id, section_key, name, domain) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (server_id, section_key) DO UPDATE SET name = "
        "  coalesce(nullif(EXCLUDED.name, ''), libraries.name) RETURNING id",
        (server_id, section_key, name, domain),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def upsert_library_item(conn: Connection, library_id: int, item_id: int, rating_key: str) -> None:
    conn.execute(
        "INSERT INTO library_items (library_id, item_id, rating_key) VALUES (%s, %s, %s) "
        "ON CONFLICT (library_id, rating_key) DO UPDATE SET item_id = EXCLUDED.item_id "
        "WHERE library_items.item_id <> EXCLUDED.item_id",
        (library_id, item_id, rating_key),
    )


def domain_for(media_type: str) -> str:
    return "tv" if media_type == "tv" else "movies"
