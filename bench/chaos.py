"""Fault injection: every accepted webhook has exactly one effect, whatever breaks meanwhile.

    recommendarr bench chaos --plays 3000 --seconds 150

Starts its own redis-server on a free loopback port, an embedded PostgreSQL, `serve`, workers and
a clock. Sends distinct Tautulli plays (a share twice: both at once, or again later) while a fault
injector SIGKILLs and SIGTERMs workers, restarts Redis (dropping every queued message), terminates
every PostgreSQL connection, and enqueues poison pills (bench/chaos_actors.py) that kill the
worker running them. Then it stops injecting, lets the system settle, triggers the reconcilers
and counts from PostgreSQL which accepted plays have exactly one watch event.
Exits 1 when a play was lost or duplicated, a poison pill was not quarantined, or the system
did not settle.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dramatiq
import httpx
import psycopg
import redis
from dramatiq.brokers.redis import RedisBroker

from bench.serving import WEBHOOK_TOKEN, bench_env, free_port, spawn, wait_healthy
from bench.webhooks import BASE_PAYLOAD

REPO_ROOT = Path(__file__).resolve().parents[1]
REDIS_SERVER = "/usr/bin/redis-server"
NAMESPACE = "dramatiq"
HEARTBEATS = f"{NAMESPACE}:__heartbeats__"
# Declared in bench/chaos_actors.py, which the workers import; importing it here would build
# the app's broker in this process.
POISON_ACTOR = "chaos_poison_pill"
POISON_EXIT_CODE = 137
EVENTS_QUEUE = "events"
FIRST_TIMESTAMP = 1_700_000_000
FAULT_WEIGHTS = {"sigkill_worker": 4, "sigterm_worker": 2, "redis_restart": 2, "pg_terminate": 3}
TERMINATE_SQL = (
    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity "
    "WHERE pid <> pg_backend_pid() AND datname = current_database()"
)
RECOVERY_WATCH_LIMIT_S = 600.0
WEBHOOK_PATH = "/api/v1/webhooks/tautulli"
STARTED = time.monotonic()


def webhook_headers() -> dict[str, str]:
    # In a header rather than ?token=, so that no request log line carries the secret.
    return {"Content-Type": "application/json", "X-Recommendarr-Token": WEBHOOK_TOKEN}


def log(message: str) -> None:
    sys.stderr.write(f"[chaos {time.monotonic() - STARTED:7.1f}s] {message}\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Config:
    plays: int
    seconds: float
    duplicate_share: float
    later_max_s: float
    workers: int
    worker_threads: int
    fault_interval_s: float
    redis_down_s: float
    poison_pills: int
    poison_after_s: float
    users: int
    titles: int
    attempts: int
    concurrency: int
    settle_timeout_s: float
    seed: int
    reconcile: bool


def parse_config(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(
        prog="recommendarr bench chaos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--plays", type=int, default=3000, help="distinct plays to send (default 3000)")
    add("--seconds", type=float, default=150, help="how long sending (and injecting) lasts")
    add("--duplicate-share", type=float, default=0.36, help="share of plays sent twice")
    add("--later-max-s", type=float, default=30, help="a later duplicate waits up to this long")
    add("--workers", type=int, default=2, help="`recommendarr worker` processes")
    add("--worker-threads", type=int, default=4, help="actor threads per worker")
    add("--fault-interval", type=float, default=3.0, help="mean seconds between process faults")
    add("--redis-down-s", type=float, default=2.0, help="how long a Redis restart keeps it down")
    add("--poison-pills", type=int, default=3, help="messages that kill their worker")
    add("--poison-after-s", type=float, default=5.0, help="when the poison pills are sent")
    add("--users", type=int, default=20)
    add("--titles", type=int, default=400)
    add("--attempts", type=int, default=6, help="tries per delivery, like a retrying sender")
    add("--concurrency", type=int, default=48, help="requests in flight at most")
    add("--settle-timeout", type=float, default=300, help="seconds to wait for the system to idle")
    add("--seed", type=int, default=1)
    add(
        "--no-reconcile",
        action="store_true",
        help="no clock and no final reconcile: shows what the reconcilers recover (and that "
        "this benchmark notices losses: expect lost > 0 once Redis was restarted under load)",
    )
    args = parser.parse_args(argv)
    return Config(
        plays=args.plays,
        seconds=args.seconds,
        duplicate_share=args.duplicate_share,
        later_max_s=args.later_max_s,
        workers=args.workers,
        worker_threads=args.worker_threads,
        fault_interval_s=args.fault_interval,
        redis_down_s=args.redis_down_s,
        poison_pills=args.poison_pills,
        poison_after_s=args.poison_after_s,
        users=args.users,
        titles=args.titles,
        attempts=args.attempts,
        concurrency=args.concurrency,
        settle_timeout_s=args.settle_timeout,
        seed=args.seed,
        reconcile=not args.no_reconcile,
    )


# --------------------------------------------------------------------------- plays


@dataclass(frozen=True)
class Play:
    """One viewing; its identity is what a watch event row keeps of it."""

    n: int
    user_key: str
    tmdb_id: int
    timestamp: int

    def body(self) -> bytes:
        payload = dict(BASE_PAYLOAD)
        payload.update(
            user_id=self.user_key,
            username=f"chaos{self.user_key}",
            themoviedb_id=str(self.tmdb_id),
            rating_key=str(self.tmdb_id),
            title=f"Chaos {self.tmdb_id}",
            timestamp=str(self.timestamp),
            progress_percent=str(60 + self.n % 41),
        )
        return json.dumps(payload).encode()


def make_plays(config: Config) -> list[Play]:
    return [
        Play(n, str(1000 + n % config.users), 1 + (n * 7) % config.titles, FIRST_TIMESTAMP + n)
        for n in range(config.plays)
    ]


def duplicate_plan(config: Config, rng: random.Random) -> dict[int, tuple[str, float]]:
    """play -> (how it is sent again, how long a later copy waits)."""
    plan = {}
    for n in range(config.plays):
        draw = rng.random()
        if draw < config.duplicate_share / 2:
            plan[n] = ("duplicate_concurrent", 0.0)
        elif draw < config.duplicate_share:
            plan[n] = ("duplicate_later", rng.uniform(1.0, config.later_max_s))
    return plan


@dataclass
class Ledger:
    """What the senders saw: a play counts as accepted only once it got a 202."""

    accepted: set[int] = field(default_factory=set)
    duplicates_sent: Counter[str] = field(default_factory=Counter)
    duplicates_accepted: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    retries: int = 0
    gave_up: int = 0
    last_logged_failure: float = 0.0

    def failed(self, what: str) -> None:
        self.failures[what] += 1
        if time.monotonic() - self.last_logged_failure > 1:
            # One line a second at most: enough to line failures up with the faults.
            self.last_logged_failure = time.monotonic()
            log(f"delivery failed: {what} (failures so far: {dict(self.failures)})")

    def record(self, n: int, kind: str | None, deliveries: list[bool]) -> None:
        if any(deliveries):
            self.accepted.add(n)
        if kind is None:
            return
        self.duplicates_sent[kind] += 1
        if all(deliveries):
            self.duplicates_accepted[kind] += 1


class Sender:
    """Posts like Tautulli with a retry policy: 5xx and connection errors are tried again."""

    def __init__(self, client: httpx.AsyncClient, ledger: Ledger, config: Config) -> None:
        self.client = client
        self.ledger = ledger
        self.attempts = config.attempts
        self.slots = asyncio.Semaphore(config.concurrency)

    async def deliver(self, body: bytes) -> bool:
        for attempt in range(self.attempts):
            status, failure = await self.post(body)
            self.ledger.statuses[status] += 1
            if status == 202:
                return True
            self.ledger.failed(failure)
            if 400 <= status < 500:
                return False  # the bench's own payload is wrong: retrying cannot help
            if attempt + 1 < self.attempts:
                self.ledger.retries += 1
                await asyncio.sleep(min(8.0, 0.5 * 2**attempt) * random.uniform(0.8, 1.2))
        self.ledger.gave_up += 1
        return False

    async def post(self, body: bytes) -> tuple[int, str]:
        """The status (0: no answer) and, for a failure, what it was."""
        async with self.slots:
            try:
                response = await self.client.post(
                    WEBHOOK_PATH, content=body, headers=webhook_headers()
                )
            except httpx.HTTPError as exc:
                return 0, type(exc).__name__
            return response.status_code, f"HTTP {response.status_code}"


async def send_play(sender: Sender, play: Play, plan: tuple[str, float] | None) -> None:
    body = play.body()
    kind = plan[0] if plan else None
    if kind == "duplicate_concurrent":
        deliveries = list(await asyncio.gather(sender.deliver(body), sender.deliver(body)))
    else:
        deliveries = [await sender.deliver(body)]
        if plan is not None:
            await asyncio.sleep(plan[1])
            deliveries.append(await sender.deliver(body))
    sender.ledger.record(play.n, kind, deliveries)


async def send_all(base_url: str, plays: list[Play], config: Config, ledger: Ledger) -> float:
    """Open loop at plays/seconds; the seconds the sending took, later duplicates included."""
    plan = duplicate_plan(config, random.Random(config.seed))
    limits = httpx.Limits(
        max_connections=config.concurrency, max_keepalive_connections=config.concurrency
    )
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=15) as client:
        sender = Sender(client, ledger, config)
        started = time.perf_counter()
        tasks = []
        for play in plays:
            delay = started + play.n * config.seconds / len(plays) - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send_play(sender, play, plan.get(play.n))))
        await asyncio.gather(*tasks)
        return time.perf_counter() - started


# --------------------------------------------------------------------------- redis


class RedisServer:
    """A redis-server of our own on a loopback port: restartable, and never the machine's."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        # Bumped before each restart: a watcher that saw the same epoch before and after a read
        # knows the read did not see the wiped server.
        self.epoch = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5, decode_responses=True)

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        with self.log_path.open("ab") as handle:
            self.process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
        wait_until(self.answers, 15, "redis-server to answer PING")

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self, down_s: float) -> None:
        self.epoch += 1
        self.kill()
        time.sleep(down_s)
        self.start()


def message_hashes(client: redis.Redis) -> list[str]:
    """Every queue's and delay queue's message hash; dead letters (XQ) are finished business."""
    keys = [str(k) for k in client.scan_iter(match=f"{NAMESPACE}:*.msgs", count=1000)]
    return [k for k in keys if not k.endswith(".XQ.msgs")]


def unfinished_messages(client: redis.Redis) -> int:
    """Messages enqueued and not yet acked: queued, delayed, or held by a worker (dead or not)."""
    return sum(int(client.hlen(key)) for key in message_hashes(client))


def held_messages(client: redis.Redis, broker_id: str) -> list[tuple[str, str]]:
    """(queue, message id) of what a worker fetched and never acked."""
    prefix = f"{NAMESPACE}:__acks__.{broker_id}."
    held = []
    for key in client.scan_iter(match=prefix + "*", count=1000):
        queue = str(key)[len(prefix) :]
        for message_id in client.smembers(key):
            if client.hexists(f"{NAMESPACE}:{queue}.msgs", message_id):
                held.append((queue, str(message_id)))
    return held


def heartbeat_ids(client: redis.Redis) -> set[str]:
    try:
        return {str(i) for i in client.zrange(HEARTBEATS, 0, -1)}
    except redis.RedisError:
        return set()


def sending_broker(url: str) -> RedisBroker:
    """A bare broker for sending messages by actor name, as any process may."""
    broker = RedisBroker(url=url, middleware=[])  # type: ignore[no-untyped-call]
    broker.declare_queue(EVENTS_QUEUE)
    return broker


def send_message(broker: RedisBroker, actor: str, args: tuple[Any, ...], **kwargs: Any) -> None:
    broker.enqueue(dramatiq.Message(EVENTS_QUEUE, actor, args, kwargs, {}))


# --------------------------------------------------------------------------- processes


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    broker_id: str | None = None


class Cluster:
    """serve, the workers and the clock; only the injector thread (then main) changes it."""

    def __init__(self, env: dict[str, str], data_dir: Path, redis_server: RedisServer) -> None:
        self.env = env
        self.data_dir = data_dir
        self.redis = redis_server
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.serve: subprocess.Popen[bytes] | None = None
        self.clock: subprocess.Popen[bytes] | None = None
        self.workers: list[Worker] = []
        self.sender = sending_broker(redis_server.url)
        # Every process that sends also heartbeats; only workers' ids may name a worker.
        self.known_broker_ids: set[str] = {self.sender.broker_id}
        self.spawned = 0
        self.unexpected_exits: Counter[int] = Counter()

    def start(self, workers: int, clock: bool) -> None:
        """serve and the clock first, so the heartbeat that appears next is a worker's."""
        self.serve = spawn(["serve", "--port", str(self.port)], self.env, self.log("serve"))
        wait_healthy(self.base_url, timeout_s=180)
        self.send_ignored_webhook()
        self.await_fresh_broker_id("serve", self.serve)
        if clock:
            self.clock = spawn(["clock"], self.env, self.log("clock"))
            self.await_fresh_broker_id("clock", self.clock)
        for _ in range(workers):
            self.spawn_worker()

    def send_ignored_webhook(self) -> None:
        """serve's broker heartbeats only once it sends: an action Tautulli sends but that
        carries no taste (the inbox row ends 'ignored') makes it send."""
        response = httpx.post(
            f"{self.base_url}{WEBHOOK_PATH}",
            content=json.dumps({"action": "buffer"}).encode(),
            headers=webhook_headers(),
        )
        response.raise_for_status()

    def log(self, name: str) -> Path:
        return self.data_dir / f"{name}.log"

    def spawn_worker(self) -> Worker:
        self.spawned += 1
        name = f"worker{self.spawned}"
        worker = Worker(name, spawn(["worker"], self.env, self.log(name)))
        self.workers.append(worker)
        worker.broker_id = self.await_fresh_broker_id(name, worker.process)
        return worker

    def await_fresh_broker_id(
        self, name: str, process: subprocess.Popen[bytes], timeout_s: float = 90
    ) -> str | None:
        """The one heartbeat never seen before: processes start one at a time, so it is this
        one's. For a worker it also shows that it consumes."""
        deadline = time.monotonic() + timeout_s
        client = self.redis.client()
        while time.monotonic() < deadline and process.poll() is None:
            fresh = heartbeat_ids(client) - self.known_broker_ids
            if fresh:
                self.known_broker_ids |= fresh
                if len(fresh) > 1:
                    log(f"{len(fresh)} new heartbeats while {name} started; not attributing")
                    return None
                return fresh.pop()
            time.sleep(0.2)
        log(f"{name} showed no heartbeat within {timeout_s:.0f}s")
        return None

    def live_workers(self) -> list[Worker]:
        return [w for w in self.workers if w.process.poll() is None]

    def replace_dead_workers(self) -> list[tuple[str, int]]:
        """Workers that exited without our signal (a poison pill): replaced, like a supervisor."""
        dead = [w for w in self.workers if w.process.poll() is not None]
        for worker in dead:
            code = int(worker.process.returncode)
            self.unexpected_exits[code] += 1
            self.workers.remove(worker)
            log(f"{worker.name} exited with {code}; starting a replacement")
            self.spawn_worker()
        return [(w.name, int(w.process.returncode)) for w in dead]

    def stop(self) -> None:
        processes = [w.process for w in self.workers] + [self.serve, self.clock]
        running = [p for p in processes if p is not None and p.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --------------------------------------------------------------------------- faults


@dataclass
class Fault:
    kind: str
    at_s: float
    detail: str


@dataclass
class Recovery:
    """Time from a SIGKILL until every message the killed worker held was acked elsewhere."""

    worker: str
    killed_at_s: float
    held: int
    seconds: float | None = None
    outcome: str = "watching"


@dataclass
class FaultLog:
    started: float = field(default_factory=time.monotonic)
    faults: list[Fault] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    watchers: list[threading.Thread] = field(default_factory=list)
    redis_restarts_deferred: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def add(self, kind: str, detail: str) -> None:
        with self.lock:
            self.faults.append(Fault(kind, self.elapsed(), detail))
        log(f"fault {kind}: {detail}")

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(f.kind for f in self.faults)


def watch_recovery(
    redis_server: RedisServer, held: list[tuple[str, str]], killed_at: float, record: Recovery
) -> None:
    client = redis_server.client()
    epoch = redis_server.epoch
    while time.monotonic() - killed_at < RECOVERY_WATCH_LIMIT_S:
        try:
            remaining = sum(1 for q, m in held if client.hexists(f"{NAMESPACE}:{q}.msgs", m))
        except redis.RedisError:
            remaining = len(held)
        if redis_server.epoch != epoch:
            record.outcome = "void: Redis restarted first (the reconcilers re-send from Postgres)"
            return
        if not remaining:
            record.seconds = time.monotonic() - killed_at
            record.outcome = "recovered"
            return
        time.sleep(0.25)
    record.outcome = f"not recovered within {RECOVERY_WATCH_LIMIT_S:.0f}s"


class Injector:
    """Runs in a thread beside the load: faults at random intervals, and supervision."""

    def __init__(
        self,
        cluster: Cluster,
        config: Config,
        faults: FaultLog,
        database_url: str,
    ) -> None:
        self.cluster = cluster
        self.config = config
        self.faults = faults
        self.database_url = database_url
        self.rng = random.Random(config.seed + 1)
        self.pills: list[str] = []
        self.restarts_owed = 0

    def gap(self) -> float:
        return self.rng.uniform(0.5, 1.5) * self.config.fault_interval_s

    def run(self, stop: threading.Event) -> None:
        next_fault = time.monotonic() + self.gap()
        pills_due = time.monotonic() + self.config.poison_after_s
        while not stop.is_set():
            try:
                self.cluster.replace_dead_workers()
                if not self.pills and self.config.poison_pills and time.monotonic() >= pills_due:
                    self.send_pills()
                if self.config.fault_interval_s > 0 and time.monotonic() >= next_fault:
                    self.inject(self.pick_kind())
                    next_fault = time.monotonic() + self.gap()
            except Exception as exc:  # noqa: BLE001 - reported at the end; the run goes on
                self.faults.errors.append(f"{type(exc).__name__}: {exc}")
                log(f"injector error: {type(exc).__name__}: {exc}")
            stop.wait(0.25)

    def pick_kind(self) -> str:
        kinds = list(FAULT_WEIGHTS)
        kind = self.rng.choices(kinds, weights=[FAULT_WEIGHTS[k] for k in kinds])[0]
        if kind == "redis_restart" and self.pills_pending():
            # A restart would drop a pill before it is quarantined, proving nothing: it is
            # owed until the pills are settled.
            self.restarts_owed += 1
            self.faults.redis_restarts_deferred += 1
            kinds.remove(kind)
            return self.rng.choices(kinds, weights=[FAULT_WEIGHTS[k] for k in kinds])[0]
        if kind != "redis_restart" and self.restarts_owed and not self.pills_pending():
            self.restarts_owed -= 1
            return "redis_restart"
        return kind

    def pills_pending(self) -> bool:
        return len(quarantined_pills(self.database_url, self.pills)) < len(self.pills)

    def send_pills(self) -> None:
        for n in range(self.config.poison_pills):
            marker = f"pill-{n + 1}-{time.time_ns()}"
            send_message(self.cluster.sender, POISON_ACTOR, (marker,))
            self.pills.append(marker)
            self.faults.add("poison_pill", marker)

    def inject(self, kind: str) -> None:
        actions: dict[str, Callable[[], str]] = {
            "sigkill_worker": self.sigkill_worker,
            "sigterm_worker": self.sigterm_worker,
            "redis_restart": self.restart_redis,
            "pg_terminate": self.terminate_connections,
        }
        self.faults.add(kind, actions[kind]())

    def victim(self) -> Worker:
        return self.rng.choice(self.cluster.live_workers())

    def busy_victim(self, wait_s: float = 3.0) -> Worker:
        """A worker in the middle of a job when there is one within wait_s: a kill that hits
        an idle worker proves little."""
        client = self.cluster.redis.client()
        deadline = time.monotonic() + wait_s
        while True:
            live = self.cluster.live_workers()
            busy = [w for w in live if w.broker_id and held_messages(client, w.broker_id)]
            if busy or time.monotonic() >= deadline:
                return self.rng.choice(busy or live)
            time.sleep(0.05)

    def sigkill_worker(self) -> str:
        worker = self.busy_victim()
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait()
        killed_at = time.monotonic()
        self.cluster.workers.remove(worker)
        held = held_messages(self.cluster.redis.client(), worker.broker_id or "unknown")
        record = Recovery(worker.name, killed_at - self.faults.started, len(held))
        self.faults.recoveries.append(record)
        if worker.broker_id is None:
            record.outcome = "unmeasured: its broker id was never seen"
        elif not held:
            record.outcome = "nothing in flight"
        else:
            watcher = threading.Thread(
                target=watch_recovery,
                args=(self.cluster.redis, held, killed_at, record),
                daemon=True,
            )
            watcher.start()
            self.faults.watchers.append(watcher)
        replacement = self.cluster.spawn_worker()
        return f"{worker.name} held {len(held)} messages; {replacement.name} started"

    def sigterm_worker(self) -> str:
        worker = self.victim()
        worker.process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        try:
            code = worker.process.wait(timeout=60)
            outcome = f"exited {code} after {time.monotonic() - started:.1f}s"
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait()
            outcome = "HUNG for 60s after SIGTERM; killed"
            self.faults.errors.append(f"{worker.name} did not stop within 60s of SIGTERM")
        self.cluster.workers.remove(worker)
        replacement = self.cluster.spawn_worker()
        return f"{worker.name} {outcome}; {replacement.name} started"

    def restart_redis(self) -> str:
        dropped = unfinished_messages(self.cluster.redis.client())
        started = time.monotonic()
        self.cluster.redis.restart(self.config.redis_down_s)
        return (
            f"dropped {dropped} unfinished messages; back after {time.monotonic() - started:.1f}s"
        )

    def terminate_connections(self) -> str:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            row = conn.execute(TERMINATE_SQL).fetchone()
        return f"{row[0] if row else 0} PostgreSQL connections terminated"


# --------------------------------------------------------------------------- database reads


def query(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """A fresh connection per read: the injector terminates every connection now and then."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def quarantined_pills(database_url: str, markers: list[str]) -> dict[str, str]:
    if not markers:
        return {}
    rows = query(
        database_url,
        "SELECT args->>0, error FROM jobs WHERE actor = %s AND state = 'failed' "
        "AND error LIKE 'quarantined%%' AND args->>0 = ANY(%s)",
        (POISON_ACTOR, markers),
    )
    return {str(marker): str(error) for marker, error in rows}


def unfinished_inbox(database_url: str) -> int:
    rows = query(
        database_url,
        "SELECT count(*) FROM inbox WHERE state IN ('received', 'recorded', 'mapping')",
    )
    return int(rows[0][0])


def events_per_play(database_url: str) -> Counter[tuple[str, int, int]]:
    """Watch event rows by what identifies a play: user, title, and the time it reports."""
    rows = query(
        database_url,
        "SELECT u.tautulli_user_id, i.tmdb_id, extract(epoch FROM w.occurred_at)::bigint, "
        "count(*) FROM watch_events w JOIN users u ON u.id = w.user_id "
        "JOIN items i ON i.id = w.item_id WHERE w.source = 'tautulli' GROUP BY 1, 2, 3",
    )
    return Counter({(str(u), int(t), int(ts)): int(n) for u, t, ts, n in rows})


def recorded_event_keys(database_url: str) -> set[str]:
    return {str(row[0]) for row in query(database_url, "SELECT event_key FROM watch_events")}


def inbox_states(database_url: str) -> dict[str, int]:
    rows = query(database_url, "SELECT state, count(*) FROM inbox GROUP BY state ORDER BY 1")
    return {str(s): int(n) for s, n in rows}


def failed_jobs(database_url: str) -> list[tuple[str, str, int]]:
    rows = query(
        database_url,
        "SELECT kind, left(coalesce(error, ''), 90), count(*) FROM jobs WHERE state = 'failed' "
        "AND kind <> %s GROUP BY 1, 2 ORDER BY 3 DESC",
        (POISON_ACTOR,),
    )
    return [(str(k), str(e), int(n)) for k, e, n in rows]


def collateral_quarantines(database_url: str) -> Counter[str]:
    """Messages other than the pills that DeliveryLimit quarantined, by actor and by the final
    state of the inbox row a webhook job stands for."""
    rows = query(
        database_url,
        "SELECT j.actor, i.state FROM jobs j LEFT JOIN inbox i "
        "ON j.kind LIKE 'webhook:%%' AND i.id = j.subject_id "
        "WHERE j.error LIKE 'quarantined%%' AND j.actor <> %s",
        (POISON_ACTOR,),
    )
    return Counter(f"{actor} (inbox row {state or '-'})" for actor, state in rows)


# --------------------------------------------------------------------------- settling


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    log(f"gave up waiting for {what} after {timeout_s:.0f}s")
    return False


@dataclass
class Settled:
    idle: bool
    seconds: float
    reconcile_sends: int
    pills_quarantined: dict[str, str]


def make_healthy(cluster: Cluster, workers: int) -> None:
    if not cluster.redis.answers():
        cluster.redis.start()
    cluster.replace_dead_workers()
    while len(cluster.live_workers()) < workers:
        cluster.spawn_worker()
    wait_healthy(cluster.base_url, timeout_s=60)
    if cluster.clock is not None and cluster.clock.poll() is not None:
        log(f"the clock exited with {cluster.clock.returncode}; restarting it")
        cluster.clock = spawn(["clock"], cluster.env, cluster.log("clock"))


def settle(cluster: Cluster, config: Config, database_url: str, pills: list[str]) -> Settled:
    """Wait for the pills and the backlog, reconcile with no age limit, wait until idle."""
    started = time.monotonic()
    deadline = started + config.settle_timeout_s
    client = cluster.redis.client()

    def supervised(check: Callable[[], bool]) -> Callable[[], bool]:
        def run() -> bool:
            cluster.replace_dead_workers()
            return check()

        return run

    wait_until(
        supervised(lambda: len(quarantined_pills(database_url, pills)) == len(pills)),
        max(1.0, deadline - time.monotonic()),
        "the poison pills to be quarantined",
    )
    wait_until(
        supervised(lambda: unfinished_messages(client) == 0),
        max(1.0, deadline - time.monotonic()),
        "the queues to drain",
    )
    sends = 0
    quiet_since: float | None = None
    idle = False
    while time.monotonic() < deadline:
        cluster.replace_dead_workers()
        queued, unfinished = unfinished_messages(client), unfinished_inbox(database_url)
        if queued == 0 and unfinished == 0 and sends:
            idle = True
            break
        if queued == 0 and not config.reconcile:
            idle = unfinished == 0
            log(f"queues empty; {unfinished} inbox rows unfinished and no reconciler runs")
            break
        if queued == 0 and (quiet_since is None or time.monotonic() - quiet_since > 10):
            # Whatever is unfinished now is in no queue: only the reconcilers can find it.
            send_message(cluster.sender, "reconcile_inbox", ("chaos-settle",), older_than_s=0)
            send_message(cluster.sender, "reconcile_derived", ("chaos-settle",), older_than_s=0)
            sends += 1
            quiet_since = time.monotonic()
            log(f"reconcilers sent (inbox rows unfinished: {unfinished})")
        time.sleep(1)
    return Settled(idle, time.monotonic() - started, sends, quarantined_pills(database_url, pills))


# --------------------------------------------------------------------------- results


@dataclass
class Outcome:
    accepted: int
    effected: int
    lost: list[int]
    duplicated: list[int]
    recorded_not_accepted: int
    event_keys_recorded: int


def count_outcome(database_url: str, plays: list[Play], ledger: Ledger) -> Outcome:
    from recommendarr.shared.domain.events import PlaybackEvent
    from recommendarr.shared.domain.tautulli import parse_tautulli

    rows = events_per_play(database_url)
    keys = recorded_event_keys(database_url)
    per_play = {p.n: rows.get((p.user_key, p.tmdb_id, p.timestamp), 0) for p in plays}
    parsed = [parse_tautulli(p.body()) for p in plays]
    event_keys = {e.event_key for e in parsed if isinstance(e, PlaybackEvent)}
    return Outcome(
        accepted=len(ledger.accepted),
        effected=sum(1 for n in ledger.accepted if per_play[n] == 1),
        lost=sorted(n for n in ledger.accepted if per_play[n] == 0),
        duplicated=sorted(n for n, count in per_play.items() if count > 1),
        recorded_not_accepted=sum(1 for n, c in per_play.items() if c and n not in ledger.accepted),
        event_keys_recorded=len(event_keys & keys),
    )


def recovery_lines(recoveries: list[Recovery]) -> list[str]:
    lines = [f"    {'worker':>9} {'killed at':>9} {'held':>5} {'recovered in':>12}  outcome"]
    for r in recoveries:
        seconds = "-" if r.seconds is None else f"{r.seconds:.1f}s"
        lines.append(
            f"    {r.worker:>9} {r.killed_at_s:>8.1f}s {r.held:>5} {seconds:>12}  {r.outcome}"
        )
    measured = [r.seconds for r in recoveries if r.seconds is not None]
    if measured:
        lines.append(
            f"    measured {len(measured)}: median {statistics.median(measured):.1f}s, "
            f"max {max(measured):.1f}s, over 60s: {sum(1 for s in measured if s > 60)}"
        )
    return lines


def report(
    argv: list[str],
    config: Config,
    outcome: Outcome,
    ledger: Ledger,
    faults: FaultLog,
    settled: Settled,
    cluster: Cluster,
    database_url: str,
    timings: dict[str, float],
) -> list[str]:
    counts = faults.counts()
    counts.update(ledger.duplicates_accepted)
    lines = [
        "command: recommendarr bench chaos " + shlex.join(argv),
        "wall time: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()),
        f"  {'plays sent':>32}: {config.plays}",
        f"  {'accepted (a 202 at least once)':>32}: {outcome.accepted}",
        f"  {'effected (exactly one event)':>32}: {outcome.effected}",
        f"  {'lost (accepted, no event)':>32}: {len(outcome.lost)}",
        f"  {'duplicated (more than one event)':>32}: {len(outcome.duplicated)}",
        f"  {'recorded though never accepted':>32}: {outcome.recorded_not_accepted}",
        f"  {'event keys found (cross-check)':>32}: {outcome.event_keys_recorded}",
        f"  {'HTTP statuses (0 = no answer)':>32}: {dict(sorted(ledger.statuses.items()))}",
        f"  {'failed attempts':>32}: {dict(ledger.failures)}",
        f"  {'sender retries / gave up':>32}: {ledger.retries} / {ledger.gave_up}",
        f"  {'inbox states':>32}: {inbox_states(database_url)}",
        f"  {'settled (idle) / reconcile sends':>32}: {settled.idle} / {settled.reconcile_sends}",
        "faults injected:",
    ]
    for kind, count in sorted(counts.items()):
        lines.append(f"    {kind:>22}: {count}")
    lines.append(f"    {'total':>22}: {sum(counts.values())}")
    lines.append(
        f"    duplicates sent {dict(ledger.duplicates_sent)}; a duplicate counts as a fault "
        "when both copies got a 202"
    )
    lines.append(
        f"    redis restarts deferred until the pills were quarantined (then made up for): "
        f"{faults.redis_restarts_deferred}"
    )
    lines.append(
        "SIGKILL recovery (from the kill until every message the killed worker had fetched, "
        "running or prefetched, was acked by another worker):"
    )
    lines.extend(recovery_lines(faults.recoveries))
    lines.append(f"poison pills quarantined: {len(settled.pills_quarantined)}")
    lines.extend(f"    {m}: {e}" for m, e in sorted(settled.pills_quarantined.items()))
    poisoned = cluster.unexpected_exits[POISON_EXIT_CODE]
    lines.append(
        f"workers killed by a pill (exit {POISON_EXIT_CODE}): {poisoned}; other exits on "
        f"their own: {sum(cluster.unexpected_exits.values()) - poisoned}; "
        f"workers started in all: {cluster.spawned}"
    )
    lines.append(f"innocent messages quarantined: {dict(collateral_quarantines(database_url))}")
    lines.append(f"failed jobs (other than pills): {failed_jobs(database_url)}")
    lines.append(f"injector errors: {faults.errors or 'none'}")
    if outcome.lost or outcome.duplicated:
        lines.append(
            f"lost plays: {outcome.lost[:20]}; duplicated plays: {outcome.duplicated[:20]}"
        )
    lines.append(f"logs: {cluster.data_dir}")
    return lines


# --------------------------------------------------------------------------- main


@contextmanager
def chaos_cluster(config: Config) -> Iterator[tuple[Cluster, str]]:
    from recommendarr.shared.db import start_embedded_postgres

    data_dir = Path(tempfile.mkdtemp(prefix="rcm-chaos-"))
    redis_server = RedisServer(free_port(), data_dir / "redis.log")
    redis_server.start()
    database_url = start_embedded_postgres(data_dir / "postgres")
    env = bench_env(data_dir, redis_server.url, database_url)
    env.update(
        RECOMMENDARR_EXTRA_ACTOR_MODULES="bench.chaos_actors",
        RECOMMENDARR_WORKER_THREADS=str(config.worker_threads),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p),
    )
    cluster = Cluster(env, data_dir, redis_server)
    try:
        cluster.start(config.workers, clock=config.reconcile)
        yield cluster, database_url
    finally:
        cluster.stop()
        redis_server.kill()


def run(config: Config, argv: list[str]) -> int:
    timings: dict[str, float] = {}
    began = time.monotonic()
    with chaos_cluster(config) as (cluster, database_url):
        timings["start-up"] = time.monotonic() - began
        log(
            f"serve at {cluster.base_url}, Redis at {cluster.redis.url}, logs in {cluster.data_dir}"
        )
        plays, ledger, faults = make_plays(config), Ledger(), FaultLog()
        injector = Injector(cluster, config, faults, database_url)
        stop = threading.Event()
        thread = threading.Thread(target=injector.run, args=(stop,), name="injector")
        thread.start()
        try:
            timings["load"] = asyncio.run(send_all(cluster.base_url, plays, config, ledger))
        finally:
            stop.set()
            thread.join()
        log(f"load done: {len(ledger.accepted)} plays accepted; settling")
        make_healthy(cluster, config.workers)
        settled = settle(cluster, config, database_url, injector.pills)
        timings["settle"] = settled.seconds
        for watcher in faults.watchers:
            watcher.join(timeout=5)
        outcome = count_outcome(database_url, plays, ledger)
        timings["total"] = time.monotonic() - began
        lines = report(
            argv, config, outcome, ledger, faults, settled, cluster, database_url, timings
        )
    print("\n".join(lines))
    failed = outcome.lost or outcome.duplicated or not settled.idle
    return 1 if failed or len(settled.pills_quarantined) < len(injector.pills) else 0


def main(argv: list[str] | None = None) -> int:
    # `recommendarr bench` logs at INFO: a line per request would bury the fault log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = list(sys.argv[1:] if argv is None else argv)
    return run(parse_config(args), args)


if __name__ == "__main__":
    raise SystemExit(main())
