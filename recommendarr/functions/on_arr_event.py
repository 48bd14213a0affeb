"""on_arr_event(inbox_id): record what a Radarr/Sonarr webhook says the household now has.

Download marks the title available (once) and its Arr row as having a file; Grab and
MovieAdded/SeriesAdd note that the instance monitors it; Test and other events record nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.enrich_item import enrich_item
from recommendarr.settings import Settings
from recommendarr.shared import resources
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.arr import (
    ArrEvent,
    instance_key,
    parse_arr_webhook,
    resolve_instance,
)
from recommendarr.shared.domain.events import IgnoredEvent, PayloadError
from recommendarr.shared.errors import Permanent
from recommendarr.shared.store import arr, inbox, items

log = logging.getLogger(__name__)


@dramatiq.actor(
    actor_name="on_arr_event",
    queue_name="events",
    max_retries=5,
    min_backoff=1_000,
    max_backoff=60_000,
    time_limit=30_000,
    throws=(Permanent,),
)
def on_arr_event(inbox_id: int) -> None:
    res = resources.current()
    with res.pool.connection() as conn:
        with conn.transaction():
            row = inbox.lock(conn, inbox_id)
            if row is None:
                log.warning("inbox row %s is gone; nothing to do", inbox_id)
                return
            if row["state"] in inbox.FINISHED_STATES:
                return
            # "recorded": an earlier run committed but may have died before sending; send again
            # (enrich_item is a no-op for a title already enriched).
            resuming = row["state"] == "recorded"
            to_enrich = record(
                conn, res.settings, row["source"], inbox_id, bytes(row["body"]), resuming
            )
        if to_enrich is None:
            return
        enrich_item.send(to_enrich)
        inbox.set_state(conn, inbox_id, "done")
        conn.commit()


def record(
    conn: Connection, settings: Settings, source: str, inbox_id: int, body: bytes, resuming: bool
) -> int | None:
    """Write what the event says; the id of a title to enrich once committed, else None.

    Rows with nothing to send get their final state here; the others are "recorded".
    """
    try:
        event = parse_arr_webhook(source, body)
    except PayloadError as exc:
        inbox.set_state(conn, inbox_id, "failed", str(exc))
        return None
    if isinstance(event, IgnoredEvent):
        inbox.set_state(conn, inbox_id, "ignored", event.reason)
        return None
    if event.is_test:
        inbox.set_state(conn, inbox_id, "ignored", "test event")
        return None
    note_arr_item(conn, settings, event)
    to_enrich = record_download(conn, event, inbox_id, resuming) if event.is_download else None
    inbox.set_state(conn, inbox_id, "recorded" if to_enrich is not None else "done")
    return to_enrich


def note_arr_item(conn: Connection, settings: Settings, event: ArrEvent) -> None:
    assert event.arr_id is not None
    configured = [
        i.name for i in (settings.radarr if event.source == "radarr" else settings.sonarr)
    ]
    instance = resolve_instance(event.instance_name, configured)
    arr.note_from_webhook(
        conn,
        instance_key(event.source, instance),
        event.arr_id,
        event.media_type,
        event.tmdb_id,
        event.tvdb_id,
        event.title,
        has_file=event.is_download,
    )


def record_download(conn: Connection, event: ArrEvent, inbox_id: int, resuming: bool) -> int | None:
    """Mark the title available; the item id when it is new (or may not have been sent)."""
    if event.tmdb_id is None:
        # Sonarr sends tmdbId 0 when it has no mapping; titles are keyed by TMDB id here.
        log.info("%s has no TMDB id in %s; availability not recorded", event.title, event.source)
        return None
    item_id, created = items.ensure_item(
        conn, event.tmdb_id, event.media_type, event.title, event.year, event.genres
    )
    arr.fill_external_ids(conn, item_id, event.imdb_id, event.tvdb_id)
    available_at = event.file_added_at or datetime.now(UTC)
    arr.record_availability(conn, item_id, event.source, available_at, inbox_id)
    return item_id if created or resuming else None
