"""The secret hashes requests are checked against, kept fresh so a rotation needs no restart.

Secrets set in the environment are pinned: the environment is the operator's choice and wins.
Everything else is re-read from app_secrets at most every RELOAD_S seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

from psycopg_pool import ConnectionPool

from recommendarr.http.auth import SecretHashes
from recommendarr.shared.db import Connection
from recommendarr.shared.store import secrets

RELOAD_S = 10.0


class SecretBook:
    def __init__(
        self,
        initial: SecretHashes,
        pool: ConnectionPool[Connection],
        pinned: frozenset[str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hashes = initial
        self.pool = pool
        self.pinned = pinned
        self.clock = clock
        self.loaded_at = clock()
        self.lock = threading.Lock()

    def fresh(self) -> bool:
        return self.clock() - self.loaded_at < RELOAD_S

    def current(self) -> SecretHashes:
        if self.clock() - self.loaded_at < RELOAD_S:
            return self.hashes
        with self.lock:
            if self.clock() - self.loaded_at >= RELOAD_S:
                self.hashes = self.reload()
                self.loaded_at = self.clock()
        return self.hashes

    def reload(self) -> SecretHashes:
        with self.pool.connection() as conn:
            stored = secrets.all_hashes(conn)
        per_source = {
            name.removeprefix("webhook:"): digest
            for name, digest in stored.items()
            if name.startswith("webhook:")
        }
        admin = (
            self.hashes.admin if "admin" in self.pinned else stored.get("admin", self.hashes.admin)
        )
        webhook = (
            self.hashes.webhook
            if "webhook" in self.pinned
            else stored.get("webhook", self.hashes.webhook)
        )
        return replace(self.hashes, admin=admin, webhook=webhook, per_source=per_source)
