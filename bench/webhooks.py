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

import httpx
import psycopg
import redis

from bench.serving import WEBHOOK_TOKEN, percentile, running_server

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


async def fire(
    client: httpx.AsyncClient, url: str, n: int, latencies: list[float], statuses: dict[int, int]
) -> None:
    started = time.perf_counter()
    try:
        response = await client.post(
            url, content=payload(n), headers={"Content-Type": "application/json"}
        )
        status = response.status_code
    except httpx.HTTPError:
        status = 0
    latencies.append((time.perf_counter() - started) * 1000)
    statuses[status] = statuses.get(status, 0) + 1


async def open_loop(base_url: str, rate: float, seconds: float, concurrency: int) -> dict[str, Any]:
    """Send at a fixed rate regardless of answers (an open loop shows queueing honestly)."""
    url = f"{base_url}/api/v1/webhooks/tautulli?token={WEBHOOK_TOKEN}"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        tasks = []
        total = int(rate * seconds)
        started = time.perf_counter()
        for n in range(total):
            due = started + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(fire(client, url, n, latencies, statuses)))
        send_span = time.perf_counter() - started
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    accepted = statuses.get(202, 0)
    return {
        "target_rate": rate,
        "sent": total,
        "accepted": accepted,
        "statuses": statuses,
        "send_span_s": round(send_span, 2),
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
