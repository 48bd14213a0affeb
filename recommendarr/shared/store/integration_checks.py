"""Connection tests waiting for their job: the URL and key live here only until the job runs."""

from __future__ import annotations

from typing import Any

from recommendarr.shared.db import Connection

# A check whose message was lost (an in-memory broker that restarted) must not keep its key.
STALE_AFTER_S = 3600


def record(conn: Connection, job_id: int, kind: str, url: str, api_key: str) -> None:
    conn.execute(
        "INSERT INTO integration_checks (job_id, kind, url, api_key) VALUES (%s, %s, %s, %s)",
        (job_id, kind, url, api_key),
    )


def claim(conn: Connection, job_id: int) -> dict[str, Any] | None:
    """The check's request, removed in the same statement: only one run ever sees the key."""
    return conn.execute(
        "DELETE FROM integration_checks WHERE job_id = %s RETURNING job_id, kind, url, api_key",
        (job_id,),
    ).fetchone()


def purge_stale(conn: Connection, older_than_s: int = STALE_AFTER_S) -> int:
    deleted = conn.execute(
        "DELETE FROM integration_checks WHERE created_at < now() - make_interval(secs => %s)",
        (older_than_s,),
    )
    return deleted.rowcount
