"""Watch event to refreshed recommendations: how long until a finished title changes the picks.

    recommendarr bench freshness --trials 60

Starts `recommendarr demo` (the all-in-one default: actors on threads beside the HTTP server),
then repeatedly posts a Tautulli "watched" for one of a user's current picks and times how long
until GET /users/{id}/recommendations shows a list generated after that webhook was accepted.
"""

from __future__ import annotations

import argparse
import json
import random
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.serving import WEBHOOK_TOKEN, percentile, start_demo, wait_healthy

ANCHOR = 1_780_000_000  # after the demo's history, so each trial is a new viewing


def watched_payload(user: dict[str, Any], pick: dict[str, Any], n: int) -> dict[str, str]:
    when = ANCHOR + n * 600
    return {
        "source": "tautulli",
        "action": "watched",
        "timestamp": str(when),
        "user_id": str(user["plex_user_id"] or user["tautulli_user_id"]),
        "username": user["username"],
        "user": user["friendly_name"] or user["username"],
        "media_type": "movie",
        "library_name": "Movies",
        "section_id": "1",
        "rating_key": f"bench-{pick['tmdb_id']}",
        "title": pick["title"],
        "year": str(pick["year"] or ""),
        "themoviedb_id": str(pick["tmdb_id"]),
        "progress_percent": "100",
        "duration_ms": "6000000",
        "session_key": f"bench-{n}",
    }


def one_trial(
    client: httpx.Client, admin: dict[str, str], user: dict[str, Any], n: int, timeout_s: float
) -> float | None:
    url = f"/api/v1/users/{user['id']}/recommendations"
    before = client.get(url, headers=admin).json()
    picks = before["items"]
    if not picks:
        return None
    pick = picks[random.randrange(len(picks))]
    started = time.perf_counter()
    response = client.post(
        "/api/v1/webhooks/tautulli",
        params={"token": WEBHOOK_TOKEN},
        content=json.dumps(watched_payload(user, pick, n)),
        headers={"Content-Type": "application/json"},
    )
    response.raise_for_status()
    previous = before["meta"]["generated_at"]
    while time.perf_counter() - started < timeout_s:
        meta = client.get(url, headers=admin, params={"limit": 1}).json()["meta"]
        if meta["generated_at"] != previous:
            return (time.perf_counter() - started) * 1000
        time.sleep(0.01)
    return float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recommendarr bench freshness", description=__doc__)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per trial")
    args = parser.parse_args(argv)
    random.seed(7)
    data_dir = Path(tempfile.mkdtemp(prefix="rcm-bench-fresh-"))
    process, base_url, admin_token = start_demo(data_dir)
    latencies: list[float] = []
    try:
        wait_healthy(base_url)
        admin = {"Authorization": f"Bearer {admin_token}"}
        with httpx.Client(base_url=base_url, timeout=30) as client:
            users = client.get("/api/v1/users", headers=admin).json()["users"]
            for n in range(args.trials):
                latency = one_trial(client, admin, users[n % len(users)], n, args.timeout)
                if latency is not None:
                    latencies.append(latency)
                time.sleep(0.2)  # let the previous chain settle, as real viewings are apart
    finally:
        process.terminate()
        process.wait(timeout=30)
        # The demo stopped its embedded database on the way out: nothing of the run is kept.
        shutil.rmtree(data_dir, ignore_errors=True)
    print("command:", "recommendarr bench freshness " + shlex.join(argv or sys.argv[1:]))
    print(f"  trials: {len(latencies)}  (watched webhook -> new picks visible through the API)")
    for q in (50, 95, 99):
        print(f"  p{q}: {percentile(latencies, q):.0f} ms")
    print(f"  max: {max(latencies):.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
