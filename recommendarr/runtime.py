"""Start-up shared by serve, worker and demo: resources, secrets, and in-process workers."""

from __future__ import annotations

import gc
import importlib
import logging
import sys
import threading
from dataclasses import dataclass

import dramatiq
import numpy as np
from pydantic import SecretStr
from threadpoolctl import threadpool_limits

from recommendarr import functions as _functions  # noqa: F401 - declares every actor
from recommendarr.broker import broker
from recommendarr.clock import run_clock
from recommendarr.functions.reconcile_inbox import reconcile_inbox
from recommendarr.http.auth import SecretHashes
from recommendarr.settings import Settings
from recommendarr.shared import resources
from recommendarr.shared.db import Connection
from recommendarr.shared.store import secrets

log = logging.getLogger(__name__)

# A ranking builds some tens of thousands of short-lived containers (facts, signals, picks);
# at Python's default of 700 it sat through about twenty young collections, each walking
# what the ranking was still using. Most are freed by reference counting long before this many
# pile up, so young collections become rare without the heap growing.
YOUNG_COLLECTION_THRESHOLD = 50_000


@dataclass
class Runtime:
    resources: resources.Resources
    secret_hashes: SecretHashes
    worker: dramatiq.Worker | None
    clock_stop: threading.Event | None = None

    def stop(self) -> None:
        if self.clock_stop is not None:
            self.clock_stop.set()
        if self.worker is not None:
            # Finishes in-flight messages; with a StubBroker the rest stay in Postgres' inbox.
            self.worker.stop(timeout=10_000)
        resources.uninstall()
        self.resources.close()


def start_runtime(settings: Settings, role: str) -> Runtime:
    """role: serve (HTTP; runs actors itself without Redis), worker (only actors)."""
    built = resources.build(settings)
    resources.install(built)
    with built.pool.connection() as conn, conn.transaction():
        hashes = SecretHashes(
            admin=secret_hash(conn, "admin", settings.admin_token, "RECOMMENDARR_ADMIN_TOKEN"),
            webhook=secret_hash(
                conn, "webhook", settings.webhook_token, "RECOMMENDARR_WEBHOOK_TOKEN"
            ),
        )
    runtime = Runtime(built, hashes, worker=None)
    if role == "worker" or settings.embedded_broker:
        limit_numeric_threads(settings.numeric_threads)
        import_extra_actor_modules(settings)
        freeze_boot_objects()
        runtime.worker = dramatiq.Worker(
            broker, worker_threads=settings.worker_threads, worker_timeout=100
        )
        runtime.worker.start()
    if settings.embedded_broker and role == "serve":
        # Messages in memory died with the last process; the inbox still has their work.
        reconcile_inbox.send("startup", 0)
        runtime.clock_stop = threading.Event()
        threading.Thread(
            target=run_clock, args=(runtime.clock_stop,), name="clock", daemon=True
        ).start()
    log.info("%s", describe_mode(settings, role))
    return runtime


def limit_numeric_threads(threads: int) -> None:
    """Actors run on several threads, beside PostgreSQL: BLAS threads on top of them only
    contend for the same cores (a ranking took three times the CPU for no gain). OpenBLAS
    resets its thread count when first used, so it is used once before the limit is set."""
    square = np.ones((2, 2))
    square @ square
    threadpool_limits(threads)


def freeze_boot_objects() -> None:
    """Hide what start-up built (modules, classes, functions: some 80,000 objects that live as
    long as the process) from the cyclic garbage collector. Each full collection walked them
    all, 40 ms on a 2-core machine, and landed inside whichever ranking was running: most of
    rank_user's slowest runs. Reference counting still frees them. Young collections then wait
    for YOUNG_COLLECTION_THRESHOLD new objects."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)


def import_extra_actor_modules(settings: Settings) -> None:
    """Declare the actors of RECOMMENDARR_EXTRA_ACTOR_MODULES, after recommendarr.functions."""
    for name in settings.extra_actor_module_names:
        importlib.import_module(name)


def describe_mode(settings: Settings, role: str) -> str:
    database = (
        "embedded PostgreSQL in " + str(settings.data_dir / "postgres")
        if (settings.embedded_database)
        else "PostgreSQL at DATABASE_URL"
    )
    if settings.embedded_broker:
        actors = f"actors run on {settings.worker_threads} threads in this process (no REDIS_URL)"
    elif role == "worker":
        actors = f"consuming from Redis with {settings.worker_threads} threads"
    else:
        actors = "actors are enqueued to Redis for `recommendarr worker` processes"
    return f"{role}: {database}; {actors}"


def secret_hash(conn: Connection, name: str, configured: SecretStr | None, env_name: str) -> bytes:
    """The configured secret's hash; else the stored one; else a new secret, printed once."""
    if configured is not None and configured.get_secret_value():
        return secrets.digest(configured.get_secret_value())
    stored = secrets.stored_hash(conn, name)
    if stored is not None:
        return stored
    token = secrets.new_token("")
    if not secrets.create_if_missing(conn, name, token):
        # Another process generated it first; theirs is the one that was printed.
        raced = secrets.stored_hash(conn, name)
        assert raced is not None
        return raced
    announce_generated(name, env_name, token)
    return secrets.digest(token)


def announce_generated(name: str, env_name: str, token: str) -> None:
    # Printed once, to the terminal, never to the log: only its hash is stored.
    sys.stderr.write(
        f"\n  Generated the {name} token (shown only now; set {env_name} to choose your own):\n"
        f"    {token}\n\n"
    )
    sys.stderr.flush()
