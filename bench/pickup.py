"""Idle job pickup: how long a message waits before an idle `recommendarr worker` starts it.

    recommendarr bench pickup --trials 100

Runs serve + one worker over Redis. Each trial waits a random idle time (so the worker's
consumers are in their idle back-off), then asks for a job (POST /api/v1/admin/sync, which
records the job and enqueues its message) and reads the job's created_at and started_at, both
stamped by PostgreSQL's clock.
"""

from __future__ import annotations

import argparse
import random
import shlex
import sys
import time
from datetime import datetime

import httpx
import redis

from bench.serving import ADMIN_TOKEN, percentile, running_server


def started_after(client: httpx.Client, job_id: int, timeout_s: float = 30) -> float:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["started_at"]:
            created = datetime.fromisoformat(job["created_at"])
            started = datetime.fromisoformat(job["started_at"])
            return (started - created).total_seconds() * 1000
        time.sleep(0.02)
    return float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recommendarr bench pickup", description=__doc__)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args(argv)
    random.seed(3)
    redis.Redis.from_url(args.redis_url).flushdb()
    latencies: list[float] = []
    with running_server(args.redis_url, None, workers=1) as server:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            time.sleep(3)  # the worker boots
            for _ in range(args.trials):
                time.sleep(random.uniform(0.3, 1.5))
                job_id = client.post("/api/v1/admin/sync", headers=headers).json()["job_id"]
                latencies.append(started_after(client, job_id))
    redis.Redis.from_url(args.redis_url).flushdb()
    print("command:", "recommendarr bench pickup " + shlex.join(argv or sys.argv[1:]))
    print(f"  trials: {len(latencies)} (job created -> started by an idle worker, DB clock)")
    for q in (50, 95, 99):
        print(f"  p{q}: {percentile(latencies, q):.1f} ms")
    print(f"  max: {max(latencies):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
