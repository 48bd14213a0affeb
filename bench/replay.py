"""Replay a MovieLens-layout ratings file as webhooks through HTTP and the actors.

    recommendarr bench replay --ratings ../shared/data/movielens-small/ratings.csv --workers 1 2

Each rating becomes a Plex `media.rate` webhook (the user, the title by its TMDB guid from
links.csv beside the ratings, the rating on Plex's 0-10 scale), posted in timestamp order to a
fresh all-Redis deployment (serve + N worker processes, an empty embedded PostgreSQL). The clock
stops when every webhook has been processed and every user's picks reflect their last rating.
Run with several --workers values to see horizontal scaling.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import shlex
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis

from bench.serving import WEBHOOK_TOKEN, RawConnection, running_server

CONCURRENCY = 32
SETTLE_LIMIT_S = 3 * 3600


def load_ratings(
    ratings: Path, links: Path, limit: int | None
) -> list[tuple[int, int, float, int]]:
    """(user, tmdb id, rating, timestamp), oldest first; ratings of titles without a TMDB id
    are dropped (a media server could not name them either)."""
    with links.open(newline="") as handle:
        tmdb = {row["movieId"]: row["tmdbId"] for row in csv.DictReader(handle) if row["tmdbId"]}
    rows = []
    with ratings.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["movieId"] in tmdb:
                rows.append(
                    (
                        int(row["userId"]),
                        int(tmdb[row["movieId"]]),
                        float(row["rating"]),
                        int(row["timestamp"]),
                    )
                )
    rows.sort(key=lambda r: (r[3], r[0], r[1]))
    return rows[:limit] if limit else rows


def rate_payload(user: int, tmdb_id: int, rating: float, timestamp: int) -> bytes:
    return json.dumps(
        {
            "event": "media.rate",
            "user": True,
            "owner": False,
            "rating": rating * 2,
            "Account": {"id": 100_000 + user, "title": f"ml{user}"},
            "Server": {"title": "Replay", "uuid": "replay-server"},
            "Metadata": {
                "librarySectionType": "movie",
                "ratingKey": str(tmdb_id),
                "type": "movie",
                "title": f"TMDB {tmdb_id}",
                "librarySectionTitle": "Movies",
                "librarySectionID": 1,
                "Guid": [{"id": f"tmdb://{tmdb_id}"}],
                "lastRatedAt": timestamp,
            },
        }
    ).encode()


async def post_all(base_url: str, rows: list[tuple[int, int, float, int]]) -> int:
    parts = urlsplit(base_url)
    path = f"/api/v1/webhooks/plex?token={WEBHOOK_TOKEN}"
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for row in rows:
        queue.put_nowait(rate_payload(*row))
    accepted = 0

    async def sender() -> None:
        nonlocal accepted
        connection = RawConnection(parts.hostname or "127.0.0.1", parts.port or 80, path)
        while not queue.empty():
            body = queue.get_nowait()
            for _ in range(5):  # a sender retries what was not accepted
                if await connection.post(body) == 202:
                    accepted += 1
                    break
        connection.close()

    await asyncio.gather(*(sender() for _ in range(CONCURRENCY)))
    return accepted


def settled(database_url: str, redis_url: str) -> bool:
    client = redis.Redis.from_url(redis_url)
    if any(client.llen(f"dramatiq:{q}") for q in ("events", "embeddings", "profiles")):
        return False
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM inbox "
            "  WHERE state IN ('received', 'recorded', 'mapping')),"
            # Which profile build a list reflects, not when its ranking began: a ranking
            # that waited for a rebuild's lock started before that build's timestamp.
            " (SELECT count(*) FROM taste_profiles p LEFT JOIN recommendation_runs r "
            "  ON r.user_id = p.user_id AND r.mode = 'tonight' "
            "  WHERE r.profile_built_at IS NULL OR r.profile_built_at < p.built_at),"
            " (SELECT count(*) FROM users u WHERE NOT EXISTS "
            "  (SELECT 1 FROM taste_profiles p WHERE p.user_id = u.id))"
        ).fetchone()
    return row is not None and row == (0, 0, 0)


def run_once(
    rows: list[tuple[int, int, float, int]], workers: int, redis_url: str
) -> dict[str, float]:
    redis.Redis.from_url(redis_url).flushdb()
    with running_server(redis_url, None, workers=workers) as server:
        time.sleep(3)  # the workers boot
        started = time.perf_counter()
        accepted = asyncio.run(post_all(server.base_url, rows))
        posted = time.perf_counter() - started
        deadline = time.monotonic() + SETTLE_LIMIT_S
        while not settled(server.env["DATABASE_URL"], redis_url):
            if time.monotonic() > deadline:
                raise RuntimeError(f"not settled after {SETTLE_LIMIT_S} s; see {server.data_dir}")
            time.sleep(1)
        total = time.perf_counter() - started
        with psycopg.connect(server.env["DATABASE_URL"]) as conn:
            events = conn.execute("SELECT count(*) FROM watch_events").fetchone()
    redis.Redis.from_url(redis_url).flushdb()
    return {
        "workers": workers,
        "webhooks": len(rows),
        "accepted": accepted,
        "watch_events": int(events[0]) if events else 0,
        "posting_s": round(posted, 1),
        "total_s": round(total, 1),
        "events_per_s": round(len(rows) / total, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recommendarr bench replay", description=__doc__)
    parser.add_argument("--ratings", required=True, type=Path)
    parser.add_argument("--links", type=Path, help="default: links.csv beside the ratings")
    parser.add_argument("--limit", type=int, help="replay only the oldest N ratings")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args(argv)
    rows = load_ratings(args.ratings, args.links or args.ratings.with_name("links.csv"), args.limit)
    results = [run_once(rows, n, args.redis_url) for n in args.workers]
    print("command:", "recommendarr bench replay " + shlex.join(argv or sys.argv[1:]))
    for result in results:
        print("  " + "  ".join(f"{k}={v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
