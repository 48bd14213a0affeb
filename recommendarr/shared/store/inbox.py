"""The inbox: every accepted webhook body, kept verbatim with its processing state."""

from __future__ import annotations

from typing import Any

from recommendarr.shared.db import Connection

# A row in one of these states has had its effect (or its reason for none) recorded for good.
FINISHED_STATES = frozenset({"done", "ignored", "failed"})


def record(conn: Connection, source: str, content_type: str, body: bytes) -> int:
    row = conn.execute(
        "INSERT INTO inbox (source, content_type, body) VALUES (%s, %s, %s) RETURNING id",
        (source, content_type, body),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def get(conn: Connection, inbox_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT id, source, content_type, body, state, error, received_at FROM inbox WHERE id = %s",
        (inbox_id,),
    ).fetchone()


def lock(conn: Connection, inbox_id: int) -> dict[str, Any] | None:
    """Row lock for the transaction: two deliveries of one message are processed one at a time."""
    return conn.execute(
        "SELECT id, source, content_type, body, state, error, received_at FROM inbox "
        "WHERE id = %s FOR UPDATE",
        (inbox_id,),
    ).fetchone()


def set_state(conn: Connection, inbox_id: int, state: str, error: str | None = None) -> None:
    conn.execute(
        "UPDATE inbox SET state = %s, error = %s, processed_at = now() WHERE id = %s",
        (state, error, inbox_id),
    )


def count_unfinished(conn: Connection) -> int:
    row = conn.execute(
        "SELECT count(*) AS n FROM inbox WHERE state IN ('received', 'recorded', 'mapping')"
    ).fetchone()
    return int(row["n"]) if row else 0


def unfinished(conn: Connection, older_than_s: int, limit: int) -> list[tuple[int, str]]:
    """(id, source) of rows whose processing never finished."""
    rows = conn.execute(
        "SELECT id, source FROM inbox WHERE state IN ('received', 'recorded', 'mapping') "
        "AND received_at < now() - make_interval(secs => %s) ORDER BY id LIMIT %s",
        (older_than_s, limit),
    ).fetchall()
    return [(int(r["id"]), str(r["source"])) for r in rows]


def record_many(conn: Connection, rows: list[tuple[str, str, bytes]]) -> list[int]:
    """Insert several bodies in one statement; ids come back in input order."""
    if not rows:
        return []
    result = conn.execute(
        "INSERT INTO inbox (source, content_type, body) "
        "SELECT s, c, b FROM unnest(%s::text[], %s::text[], %s::bytea[]) "
        "WITH ORDINALITY AS r(s, c, b, n) ORDER BY n RETURNING id",
        ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
    ).fetchall()
    # Ids come from one sequence in insertion order, which ORDER BY n made the input order.
    return sorted(int(r["id"]) for r in result)
