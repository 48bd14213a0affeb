"""The insert-only change logs (schema.sql) that tell a worker's caches whether what they hold
may be out of date: library_changes for library membership, title_changes for title facts
and vectors."""

from __future__ import annotations

from typing import Literal

from psycopg import sql

from recommendarr.shared.db import Connection

ChangeLog = Literal["library_changes", "title_changes"]
Stamp = tuple[object, ...]


def stamp(conn: Connection, log: ChangeLog) -> Stamp:
    """Moves with every committed change the log records. The count catches a change
    committed after a later one (ids are handed out at insert); the time tells apart equal ids
    handed out again (a restored or truncated table)."""
    row = conn.execute(
        sql.SQL(
            "SELECT count(*) AS n, max(id) AS last, sum(id) AS ids, max(changed_at) AS latest "
            "FROM {}"
        ).format(sql.Identifier(log))
    ).fetchone()
    assert row is not None
    return tuple(row.values())


def prune(conn: Connection, log: ChangeLog, older_than_s: int) -> int:
    """Forget old changes (keeping the newest): caches only compare summaries, and a pruned
    summary differs from every earlier one, so it costs one check of each entry at most."""
    cursor = conn.execute(
        sql.SQL(
            "DELETE FROM {log} WHERE changed_at < now() - make_interval(secs => %s) "
            "AND id < (SELECT max(id) FROM {log})"
        ).format(log=sql.Identifier(log)),
        (older_than_s,),
    )
    return cursor.rowcount
