"""sync_arr(period_key): mirror every configured Radarr/Sonarr library into arr_items.

Webhooks keep arr_items current between runs; this run is the truth, so titles an instance
no longer holds (and instances no longer configured) are removed. One instance failing does not
stop the others; the run then fails with every instance's error, and a retry re-reads all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.shared import resources
from recommendarr.shared.clients.arr import ArrClient, ArrTitle
from recommendarr.shared.domain.arr import instance_key
from recommendarr.shared.errors import Permanent, Transient
from recommendarr.shared.store import arr

log = logging.getLogger(__name__)


@dramatiq.actor(
    actor_name="sync_arr",
    queue_name="events",
    max_retries=3,
    min_backoff=30_000,
    max_backoff=600_000,
    time_limit=600_000,
    throws=(Permanent,),
)
def sync_arr(period_key: str) -> dict[str, object]:
    integrations = resources.current().integrations
    failures: dict[str, Exception] = {}
    counts: dict[str, int] = {}
    for source, media_type, clients in (
        ("radarr", "movie", integrations.radarr),
        ("sonarr", "tv", integrations.sonarr),
    ):
        synced = sync_kind(source, media_type, clients, failures)
        counts.update(synced)
    if failures:
        raise failure(period_key, failures)
    log.info("sync_arr %s: %s", period_key, counts or "no instances configured")
    return {"titles": counts}


def sync_kind(
    source: str,
    media_type: str,
    clients: Mapping[str, ArrClient],
    failures: dict[str, Exception],
) -> dict[str, int]:
    counts = {}
    for name, client in clients.items():
        key = instance_key(source, name)
        try:
            # Library reads can take seconds on big instances: no transaction is open here.
            titles = client.library()
        except (Permanent, Transient) as exc:
            log.warning("sync_arr: %s failed: %s", client.label, exc)
            failures[key] = exc
            continue
        counts[key] = store_library(key, media_type, titles)
    if clients:
        # Only configuration removes instances: a failed read keeps the instance's rows.
        with resources.current().pool.connection() as conn, conn.transaction():
            arr.delete_other_instances(conn, media_type, [instance_key(source, n) for n in clients])
    return counts


def store_library(key: str, media_type: str, titles: Sequence[ArrTitle]) -> int:
    rows = [asdict(t) for t in titles if t.media_type == media_type]
    with resources.current().pool.connection() as conn, conn.transaction():
        arr.replace_instance_items(conn, key, media_type, rows)
    return len(rows)


def failure(period_key: str, failures: Mapping[str, Exception]) -> Exception:
    summary = "; ".join(f"{key}: {exc}" for key, exc in sorted(failures.items()))
    message = f"sync_arr {period_key}: {summary}"
    if any(not isinstance(exc, Permanent) for exc in failures.values()):
        return Transient(message)
    return Permanent(message)
