"""Read path load: GET /users/{id}/recommendations with many concurrent clients.

    recommendarr bench reads --clients 50 --seconds 10

Starts `recommendarr demo` (the demo household, served on loopback), issues a token per user,
then runs closed-loop clients that each read a random user's picks with that user's token.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.serving import RawConnection, percentile, start_demo, wait_healthy


async def client_loop(
    connection: RawConnection,
    users: list[tuple[int, str]],
    deadline: float,
    latencies: list[float],
    statuses: dict[int, int],
    seed: int,
    interval: float,
) -> None:
    """Ask, wait for the answer, and (with a target rate) wait until this client's next slot."""
    rng = random.Random(seed)
    next_at = time.perf_counter() + rng.uniform(0, interval)
    while time.perf_counter() < deadline:
        if interval:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += interval
        user_id, token = rng.choice(users)
        started = time.perf_counter()
        status, _ = await connection.request(
            "GET",
            f"/api/v1/users/{user_id}/recommendations?limit=10",
            headers=f"Authorization: Bearer {token}\r\n",
        )
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1


async def closed_loop(
    base_url: str, users: list[tuple[int, str]], clients: int, seconds: float, rate: float = 0.0
) -> dict[str, Any]:
    """Each client waits for its answer before asking again (50 clients = at most 50 in
    flight). Without a rate they ask as fast as answers come, which measures capacity; with
    one, the clients share that request rate, which measures latency at that load."""
    interval = clients / rate if rate else 0.0
    parts = urlsplit(base_url)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connections = [
        RawConnection(parts.hostname or "127.0.0.1", parts.port or 80, "/") for _ in range(clients)
    ]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            client_loop(c, users, deadline, latencies, statuses, n, interval)
            for n, c in enumerate(connections)
        )
    )
    elapsed = time.perf_counter() - started
    for connection in connections:
        connection.close()
    return {
        "clients": clients,
        "requests": len(latencies),
        "statuses": statuses,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
    }


def user_tokens(base_url: str, admin_token: str) -> list[tuple[int, str]]:
    headers = {"Authorization": f"Bearer {admin_token}"}
    users = httpx.get(f"{base_url}/api/v1/users", headers=headers).json()["users"]
    tokens = []
    for user in users:
        issued = httpx.post(f"{base_url}/api/v1/users/{user['id']}/tokens", headers=headers)
        tokens.append((int(user["id"]), str(issued.json()["token"])))
    return tokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recommendarr bench reads", description=__doc__)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="total requests/s the clients share (0: as fast as possible)",
    )
    args = parser.parse_args(argv)
    data_dir = Path(tempfile.mkdtemp(prefix="rcm-bench-reads-"))
    process, base_url, admin_token = start_demo(data_dir)
    try:
        wait_healthy(base_url)
        users = user_tokens(base_url, admin_token)
        asyncio.run(closed_loop(base_url, users, args.clients, 2))  # warm-up
        result = asyncio.run(closed_loop(base_url, users, args.clients, args.seconds, args.rate))
    finally:
        process.terminate()
        process.wait(timeout=30)
        # The demo stopped its embedded database on the way out: nothing of the run is kept.
        shutil.rmtree(data_dir, ignore_errors=True)
    print("command:", "recommendarr bench reads " + shlex.join(argv or sys.argv[1:]))
    for key, value in result.items():
        print(f"  {key:>14}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
