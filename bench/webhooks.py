"""Webhook receiver load: latency percentiles and sustained rate against a real `serve`.

    recommendarr bench webhooks --rate 1000 --seconds 10

With Redis reachable (default redis://127.0.0.1:6379/15), serve only records and enqueues, which
is exactly the receiver's path; workers are not started so they do not compete for the CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import psycopg
import redis

from bench.serving import WEBHOOK_TOKEN, RawConnection, percentile, running_server

BASE_PAYLOAD: dict[str, str] = {
    "source": "tautulli",
    "action": "stop",
    "server_id": "bench-server",
    "user_id": "1000",
    "username": "bench",
    "user": "Bench",
    "media_type": "movie",
    "library_name": "Movies",
    "section_id": "1",
    "rating_key": "1",
    "title": "Bench",
    "year": "2020",
    "themoviedb_id": "1",
    "progress_percent": "50",
    "duration_ms": "6000000",
}


def payload(n: int) -> bytes:
    body = dict(BASE_PAYLOAD)
    body.update(
        timestamp=str(1_700_000_000 + n),
        user_id=str(1000 + n % 15),
        themoviedb_id=str(1 + n % 5000),
        rating_key=str(1 + n % 5000),
    )
    return json.dumps(body).encode()


async def worker(
    connection: RawConnection,
    schedule: Schedule,
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    """One connection's loop: take the next slot, wait for its time, send, record."""
    while (slot := schedule.next()) is not None:
        n, due = slot
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            status = await connection.post(payload(n))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            connection.close()
            connection.writer = connection.reader = None
            status = 0
        # Measured from the scheduled time: queueing behind a slow server counts as latency.
        latencies.append((time.perf_counter() - due) * 1000)
        statuses[status] = statuses.get(status, 0) + 1


class Schedule:
    """Send times for an open loop at a fixed rate, handed out in order."""

    def __init__(self, rate: float, total: int) -> None:
        self.rate, self.total, self.issued = rate, total, 0
        self.started = time.perf_counter()

    def next(self) -> tuple[int, float] | None:
        if self.issued >= self.total:
            return None
        n = self.issued
        self.issued += 1
        return n, self.started + n / self.rate


async def open_loop(base_url: str, rate: float, seconds: float, concurrency: int) -> dict[str, Any]:
    """Send at a fixed rate whatever the answers (an open loop shows queueing honestly).

    A fixed set of connection loops keeps the client's own pool out of the measurement.
    """
    parts = urlsplit(base_url)
    path = f"/api/v1/webhooks/tautulli?token={WEBHOOK_TOKEN}"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    total = int(rate * seconds)
    connections = [
        RawConnection(parts.hostname or "127.0.0.1", parts.port or 80, path)
        for _ in range(concurrency)
    ]
    schedule = Schedule(rate, total)
    await asyncio.gather(*(worker(c, schedule, latencies, statuses) for c in connections))
    elapsed = time.perf_counter() - schedule.started
    for connection in connections:
        connection.close()
    accepted = statuses.get(202, 0)
    return {
        "target_rate": rate,
        "sent": total,
        "accepted": accepted,
        "statuses": statuses,
        "elapsed_s": round(elapsed, 2),
        "achieved_rate": round(accepted / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
    }


def recorded_rows(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM inbox").fetchone()
        return int(row[0]) if row else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recommendarr bench webhooks", description=__doc__)
    parser.add_argument("--rate", type=float, default=1000, help="requests per second to send")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--database-url", default=None, help="default: a fresh embedded server")
    args = parser.parse_args(argv)
    redis.Redis.from_url(args.redis_url).flushdb()
    with running_server(args.redis_url, args.database_url) as server:
        # A warm-up so connection pools and caches are in their steady state.
        asyncio.run(open_loop(server.base_url, 100, 2, args.concurrency))
        result = asyncio.run(open_loop(server.base_url, args.rate, args.seconds, args.concurrency))
        result["inbox_rows"] = recorded_rows(server.env["DATABASE_URL"])
    redis.Redis.from_url(args.redis_url).flushdb()
    print("command:", "recommendarr bench webhooks " + shlex.join(argv or sys.argv[1:]))
    for key, value in result.items():
        print(f"  {key:>14}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
