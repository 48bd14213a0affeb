"""The inbox side of pulled play history: what was taken in, and when webhooks last came."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from recommendarr.shared.db import Connection


def webhook_received_within(conn: Connection, source: str, window: timedelta) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM inbox WHERE source = %s "
        "AND received_at > now() - %s::interval) AS recent",
        (source, window),
    ).fetchone()
    return bool(row and row["recent"])


def newest_event(conn: Connection, sources: Iterable[str]) -> datetime | None:
    row = conn.execute(
        "SELECT max(occurred_at) AS newest FROM watch_events WHERE source = ANY(%s)",
        (list(sources),),
    ).fetchone()
    return None if row is None else row["newest"]


def newest_ref(conn: Connection, source: str) -> str | None:
    """The greatest external_ref of a source (refs are built to sort by time)."""
    row = conn.execute(
        "SELECT max(external_ref) AS ref FROM inbox WHERE source = %s AND external_ref IS NOT NULL",
        (source,),
    ).fetchone()
    return None if row is None else row["ref"]


def known_refs(conn: Connection, source: str, refs: Iterable[str]) -> set[str]:
    rows = conn.execute(
        "SELECT external_ref FROM inbox WHERE source = %s AND external_ref = ANY(%s)",
        (source, list(refs)),
    ).fetchall()
    return {str(r["external_ref"]) for r in rows}


def record(conn: Connection, source: str, body: bytes, external_ref: str) -> int | None:
    """The new inbox row's id, or None when this upstream row was taken in before."""
    row = conn.execute(
        "INSERT INTO inbox (source, content_type, body, external_ref) "
        "VALUES (%s, 'application/json', %s, %s) "
        "ON CONFLICT (source, external_ref) WHERE external_ref IS NOT NULL DO NOTHING "
        "RETURNING id",
        (source, body, external_ref),
    ).fetchone()
    return None if row is None else int(row["id"])
