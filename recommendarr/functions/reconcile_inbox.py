"""reconcile_inbox(period_key): re-send inbox rows whose processing never finished.

Closes the gap between "committed" and "sent" (a crash, a Redis restart, an in-memory broker
that died with the process). Safe to run any time: on_watch_event is idempotent.
"""

from __future__ import annotations

import logging

import dramatiq
from dramatiq import Actor

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.on_arr_event import on_arr_event
from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.shared import resources
from recommendarr.shared.errors import Permanent
from recommendarr.shared.store import inbox

log = logging.getLogger(__name__)
BATCH = 5_000
# Sources whose rows another actor processes; everything else is a playback webhook.
ACTOR_FOR_SOURCE: dict[str, Actor[[int], None]] = {"radarr": on_arr_event, "sonarr": on_arr_event}


@dramatiq.actor(
    actor_name="reconcile_inbox",
    queue_name="events",
    max_retries=1,
    time_limit=60_000,
    throws=(Permanent,),
)
def reconcile_inbox(period_key: str, older_than_s: int = 120) -> None:
    with resources.current().pool.connection() as conn:
        rows = inbox.unfinished(conn, older_than_s, BATCH)
    for inbox_id, source in rows:
        ACTOR_FOR_SOURCE.get(source, on_watch_event).send(inbox_id)
    if rows:
        log.info("reconcile %s: re-sent %d unfinished inbox rows", period_key, len(rows))
