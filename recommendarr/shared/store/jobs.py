"""Job rows: what a request or webhook triggered, and how it went."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from recommendarr.shared.db import Connection


def create(conn: Connection, kind: str, *, user_id: int | None, subject_id: int | None) -> int:
    row = conn.execute(
        "INSERT INTO jobs (kind, user_id, subject_id) VALUES (%s, %s, %s) RETURNING id",
        (kind, user_id, subject_id),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def get(conn: Connection, job_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT id, kind, user_id, subject_id, state, attempts, error, result, created_at, "
        "started_at, finished_at FROM jobs WHERE id = %s",
        (job_id,),
    ).fetchone()


def mark_running(conn: Connection, job_id: int) -> None:
    conn.execute(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, "
        "started_at = coalesce(started_at, now()) WHERE id = %s AND state <> 'done'",
        (job_id,),
    )


def mark_done(conn: Connection, job_id: int, result: dict[str, Any] | None) -> None:
    conn.execute(
        "UPDATE jobs SET state = 'done', error = NULL, result = %s, finished_at = now() "
        "WHERE id = %s",
        (Jsonb(result) if result is not None else None, job_id),
    )


def mark_retrying(conn: Connection, job_id: int, error: str) -> None:
    conn.execute(
        "UPDATE jobs SET state = 'retrying', error = %s WHERE id = %s AND state <> 'done'",
        (error, job_id),
    )


def mark_failed(conn: Connection, job_id: int, error: str) -> None:
    conn.execute(
        "UPDATE jobs SET state = 'failed', error = %s, finished_at = now() WHERE id = %s",
        (error, job_id),
    )


def record_failed_message(conn: Connection, actor_name: str, args: list[Any], error: str) -> int:
    """A message without a job of its own failed for good: it gets one, retryable."""
    subject = args[0] if args and isinstance(args[0], int) else None
    row = conn.execute(
        "INSERT INTO jobs (kind, subject_id, state, attempts, error, actor, args, started_at, "
        "finished_at) VALUES (%s, %s, 'failed', 1, %s, %s, %s, now(), now()) RETURNING id",
        (actor_name, subject, error, actor_name, Jsonb(args)),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def mark_failed_with_message(
    conn: Connection, job_id: int, error: str, actor_name: str, args: list[Any]
) -> None:
    """Failed for good; keep what to send again so an operator can retry it."""
    # A job that already finished keeps its result: a late duplicate delivery does not undo it.
    conn.execute(
        "UPDATE jobs SET state = 'failed', error = %s, actor = %s, args = %s, finished_at = now() "
        "WHERE id = %s AND state <> 'done'",
        (error, actor_name, Jsonb(args), job_id),
    )


def record_quarantined(
    conn: Connection, actor_name: str, args: list[Any], job_id: int | None, reason: str
) -> int:
    if job_id is not None:
        mark_failed_with_message(conn, int(job_id), reason, actor_name, args)
        return int(job_id)
    return record_failed_message(conn, actor_name, args, reason)


def list_by_state(
    conn: Connection, state: str, limit: int, before_id: int | None
) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, kind, user_id, subject_id, state, attempts, error, result, actor, args, "
        "created_at, started_at, finished_at FROM jobs WHERE state = %s "
        "AND (%s::bigint IS NULL OR id < %s) ORDER BY id DESC LIMIT %s",
        (state, before_id, before_id, limit),
    ).fetchall()


def claim_retry(conn: Connection, job_id: int) -> dict[str, Any] | None:
    """Move a failed job with a known message back to queued; None if it is not retryable."""
    return conn.execute(
        "UPDATE jobs SET state = 'queued', finished_at = NULL WHERE id = %s AND state = 'failed' "
        "AND actor IS NOT NULL RETURNING id, actor, args",
        (job_id,),
    ).fetchone()


def count_by_state(conn: Connection) -> dict[str, int]:
    rows = conn.execute("SELECT state, count(*) AS n FROM jobs GROUP BY state").fetchall()
    return {str(r["state"]): int(r["n"]) for r in rows}


def create_many(conn: Connection, rows: list[tuple[str, int | None, int | None]]) -> list[int]:
    """(kind, user_id, subject_id) rows in one statement; ids come back in input order."""
    if not rows:
        return []
    result = conn.execute(
        "INSERT INTO jobs (kind, user_id, subject_id) "
        "SELECT k, u, s FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) "
        "WITH ORDINALITY AS r(k, u, s, n) ORDER BY n RETURNING id",
        ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
    ).fetchall()
    # Ids come from one sequence in insertion order, which ORDER BY n made the input order.
    return sorted(int(r["id"]) for r in result)
