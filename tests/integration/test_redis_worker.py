"""With REDIS_URL, `serve` only enqueues and a separate `recommendarr worker` drains it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from recommendarr.shared import db
from recommendarr.shared.resources import Resources
from tests.conftest import ADMIN_TOKEN, WEBHOOK_TOKEN, fixture_bytes

REDIS_URL = "redis://127.0.0.1:6379/14"


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        not redis_available() and not os.environ.get("CI"), reason="no Redis at 127.0.0.1:6379"
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "recommendarr.cli", *args],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def wait_for(predicate: object, timeout: float, what: str) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def process_env(res: Resources, tmp_path: Path) -> Iterator[dict[str, str]]:
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": res.database_url,
        "REDIS_URL": REDIS_URL,
        "RECOMMENDARR_DATA_DIR": str(tmp_path),
        "RECOMMENDARR_ADMIN_TOKEN": ADMIN_TOKEN,
        "RECOMMENDARR_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "RECOMMENDARR_WORKER_THREADS": "2",
    }
    yield env
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_worker_process_drains_what_serve_enqueued(
    process_env: dict[str, str], conn: db.Connection, tmp_path: Path
) -> None:
    port = free_port()
    serve = spawn(["serve", "--port", str(port)], process_env, tmp_path / "serve.log")
    worker = None
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: ping(base), 60, "serve to answer /health")
        body = fixture_bytes("tautulli/webhook_watched.json")
        for _ in range(2):
            response = httpx.post(
                f"{base}/api/v1/webhooks/tautulli",
                params={"token": WEBHOOK_TOKEN},
                content=body,
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 202
        job_id = response.json()["job_id"]
        # serve only enqueues: the messages wait in Redis, the inbox rows stay 'received'.
        assert redis.Redis.from_url(REDIS_URL).llen("dramatiq:events") == 2
        assert conn.execute("SELECT count(*) AS n FROM watch_events").fetchone() == {"n": 0}
        health = httpx.get(f"{base}/api/v1/health").json()
        assert health["mode"] == "redis" and health["queues"]["events"] == 2

        worker = spawn(["worker"], process_env, tmp_path / "worker.log")
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        wait_for(
            lambda: (
                httpx.get(f"{base}/api/v1/jobs/{job_id}", headers=headers).json()["state"] == "done"
            ),
            60,
            "the worker to finish the job",
        )
        wait_for(
            lambda: (
                conn.execute("SELECT count(*) AS n FROM inbox WHERE state = 'done'").fetchone()
                == {"n": 2}
            ),
            30,
            "both inbox rows",
        )
        assert conn.execute("SELECT count(*) AS n FROM watch_events").fetchone() == {"n": 1}
    finally:
        for process in (worker, serve):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    assert worker is not None and worker.returncode == 0, (tmp_path / "worker.log").read_text()
    log = (tmp_path / "worker.log").read_text()
    assert "consuming from Redis" in log and ADMIN_TOKEN not in log


def ping(base: str) -> bool:
    try:
        return httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
