"""Aliases: what a title named without a TMDB id stands for, once map_event resolved it."""

from __future__ import annotations

from collections.abc import Sequence

from recommendarr.shared.db import Connection
from recommendarr.shared.domain.title_mapping import Alias


def find(conn: Connection, server_kind: str, server_id: str, keys: Sequence[str]) -> Alias | None:
    """The alias of the most specific key (keys come most specific first)."""
    if not keys:
        return None
    rows = conn.execute(
        "SELECT external_key, tmdb_id, media_type FROM title_aliases "
        "WHERE server_kind = %s AND server_id = %s AND external_key = ANY(%s)",
        (server_kind, server_id, list(keys)),
    ).fetchall()
    by_key = {r["external_key"]: Alias(int(r["tmdb_id"]), str(r["media_type"])) for r in rows}
    return next((by_key[k] for k in keys if k in by_key), None)


def save(
    conn: Connection, server_kind: str, server_id: str, keys: Sequence[str], alias: Alias
) -> None:
    """The first answer wins: a re-run, or a second mapper of the same show, changes nothing."""
    for key in keys:
        conn.execute(
            "INSERT INTO title_aliases (server_kind, server_id, external_key, tmdb_id, media_type) "
            "VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (server_kind, server_id, external_key) DO NOTHING",
            (server_kind, server_id, key, alias.tmdb_id, alias.media_type),
        )
