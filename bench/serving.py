"""Start a real `recommendarr serve` (and optionally workers) on loopback for benchmarks."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ADMIN_TOKEN = "bench-admin-token-00000000000000000000000000"
WEBHOOK_TOKEN = "bench-webhook-token-000000000000000000000000"


@dataclass(frozen=True)
class Server:
    base_url: str
    env: dict[str, str]
    data_dir: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(data_dir: Path, redis_url: str | None, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        RECOMMENDARR_DATA_DIR=str(data_dir),
        RECOMMENDARR_ADMIN_TOKEN=ADMIN_TOKEN,
        RECOMMENDARR_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
        RECOMMENDARR_LOG_LEVEL="WARNING",
        RECOMMENDARR_DB_POOL_SIZE="20",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "recommendarr.cli", *args],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def wait_healthy(base_url: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {base_url} did not become healthy")


@contextmanager
def running_server(
    redis_url: str | None, database_url: str | None, workers: int = 0
) -> Iterator[Server]:
    """serve (+ `workers` worker processes when redis_url is given), stopped on exit."""
    data_dir = Path(tempfile.mkdtemp(prefix="rcm-bench-"))
    env = bench_env(data_dir, redis_url, database_url)
    if database_url is None:
        # Start the embedded server once here so serve and workers attach to the same one.
        from recommendarr.shared.db import start_embedded_postgres

        env["DATABASE_URL"] = start_embedded_postgres(data_dir / "postgres")
    port = free_port()
    processes = [spawn(["serve", "--port", str(port)], env, data_dir / "serve.log")]
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base_url)
        for n in range(workers):
            processes.append(spawn(["worker"], env, data_dir / f"worker{n}.log"))
        yield Server(base_url, env, data_dir)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def start_demo(data_dir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """`recommendarr demo` serving on a free port: the process, its URL and its admin token."""
    port = free_port()
    env = bench_env(data_dir, None, None)
    env.pop("RECOMMENDARR_ADMIN_TOKEN")
    log = data_dir / "demo.log"
    process = spawn(["demo", "--port", str(port), "--data-dir", str(data_dir)], env, log)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        found = re.search(r"Admin token for this demo run: (\S+)", log.read_text(errors="replace"))
        if found:
            return process, f"http://127.0.0.1:{port}", found.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"demo exited early; see {log}")
        time.sleep(0.5)
    raise RuntimeError("the demo household was not loaded in time")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class RawConnection:
    """One keep-alive HTTP/1.1 connection written by hand: a load generator that costs far less
    CPU per request than a full client, so the server, not the client, is what saturates."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> int:
        status, _ = await self.request(
            "POST", self.path, body, "Content-Type: application/json\r\n"
        )
        return status

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: str = ""
    ) -> tuple[int, bytes]:
        """Send one request on the kept-alive connection; the status and the body."""
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
        content = await self.reader.readexactly(length)
        return int(status_line.split()[1]), content

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
