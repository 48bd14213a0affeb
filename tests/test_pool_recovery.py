"""After the server drops every connection (pg_terminate_backend, a restart), the pool recovers
at once instead of checking dead connections one by one with growing sleeps."""

from __future__ import annotations

import asyncio
import time

import psycopg

from recommendarr.shared import db
from recommendarr.shared.resources import Resources


def test_pool_recovers_quickly_after_all_connections_are_terminated(res: Resources) -> None:
    pool = db.open_pool(res.database_url, 10)
    try:
        held = [pool.getconn() for _ in range(10)]
        pids = [c.info.backend_pid for c in held]
        for conn in held:
            pool.putconn(conn)
        with psycopg.connect(res.database_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) pid", (pids,))
        started = time.monotonic()
        with pool.connection(timeout=10) as conn:
            assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
        assert time.monotonic() - started < 3.0
    finally:
        pool.close()


def test_async_read_pool_reads_again_after_a_dropped_connection(res: Resources) -> None:
    async def scenario() -> dict[str, int] | None:
        pool = await db.open_async_read_pool(res.database_url, 2)
        try:
            async with pool.connection() as conn:
                pid = conn.info.backend_pid
            with psycopg.connect(res.database_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

            async def answer(conn: db.AsyncConnection) -> dict[str, int] | None:
                cursor = await conn.execute("SELECT 41 + 1 AS answer")
                return await cursor.fetchone()

            return await db.read_async_once_more_on_a_dropped_connection(pool, answer)
        finally:
            await pool.close()

    assert asyncio.run(scenario()) == {"answer": 42}
