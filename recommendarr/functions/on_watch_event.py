"""on_watch_event(inbox_id): turn one recorded webhook into a watch event and its follow-ups."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.enrich_item import enrich_item
from recommendarr.functions.map_event import can_map, map_event
from recommendarr.functions.refresh_profile import refresh_profile
from recommendarr.shared import resources
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.events import (
    IgnoredEvent,
    LibraryAddition,
    LibraryRef,
    PayloadError,
    PlaybackEvent,
    TitleRef,
)
from recommendarr.shared.domain.title_mapping import alias_keys, with_alias
from recommendarr.shared.domain.webhooks import parse_webhook
from recommendarr.shared.errors import Permanent
from recommendarr.shared.store import (
    events,
    inbox,
    items,
    libraries,
    pending_requests,
    title_aliases,
    users,
)
from recommendarr.shared.store.pending_requests import Pending

log = logging.getLogger(__name__)
# Two sources' reports of one viewing (a Tautulli stop, a Plex scrobble at 90 %) lie this close.
SAME_VIEWING_WINDOW = timedelta(minutes=30)


@dataclass
class FollowUps:
    """Messages to send once the transaction has committed."""

    enrich_item_ids: list[int] = field(default_factory=list)
    refresh_user_ids: list[int] = field(default_factory=list)
    map_inbox_ids: list[int] = field(default_factory=list)


@dramatiq.actor(
    actor_name="on_watch_event",
    queue_name="events",
    max_retries=5,
    min_backoff=1_000,
    max_backoff=60_000,
    time_limit=30_000,
    throws=(Permanent,),
)
def on_watch_event(inbox_id: int) -> None:
    with resources.current().pool.connection() as conn:
        with conn.transaction():
            row = inbox.lock(conn, inbox_id)
            if row is None:
                log.warning("inbox row %s is gone; nothing to do", inbox_id)
                return
            if row["state"] in inbox.FINISHED_STATES:
                return
            # "recorded" means an earlier delivery committed but may have died before sending:
            # send again; every downstream actor is a no-op when its work is already done.
            resuming = row["state"] == "recorded"
            follow_ups = record(
                conn, row["source"], inbox_id, bytes(row["body"]), row["received_at"], resuming
            )
        send(follow_ups)
        if follow_ups is not None and not follow_ups.map_inbox_ids:
            inbox.set_state(conn, inbox_id, "done")
            conn.commit()


def record(
    conn: Connection,
    source: str,
    inbox_id: int,
    body: bytes,
    received_at: datetime | None,
    resuming: bool,
) -> FollowUps | None:
    """Write what the webhook says; None when it says nothing to act on (state records why)."""
    try:
        event = parse_webhook(source, body, received_at)
    except PayloadError as exc:
        inbox.set_state(conn, inbox_id, "failed", str(exc))
        return None
    if isinstance(event, IgnoredEvent):
        inbox.set_state(conn, inbox_id, "ignored", event.reason)
        return None
    if event.title.tmdb_id is None:
        mapped = mapped_event(conn, event)
        if mapped is None:
            return await_mapping(conn, inbox_id, event.title, event.library)
        event = mapped
    follow_ups = FollowUps()
    item_id, created = ensure_title(conn, event.title)
    if created or resuming:
        follow_ups.enrich_item_ids.append(item_id)
    library_id = ensure_library_item(conn, event.library, event.title, item_id)
    if isinstance(event, PlaybackEvent):
        record_playback(conn, event, inbox_id, item_id, library_id, follow_ups, resuming)
    inbox.set_state(conn, inbox_id, "recorded")
    return follow_ups


def mapped_event(
    conn: Connection, event: PlaybackEvent | LibraryAddition
) -> PlaybackEvent | LibraryAddition | None:
    """The event with the TMDB id map_event found for its title earlier, if it did."""
    alias = title_aliases.find(
        conn, event.library.server_kind, event.library.server_id, alias_keys(event.title)
    )
    return None if alias is None else replace(event, title=with_alias(event.title, alias))


def await_mapping(
    conn: Connection, inbox_id: int, title: TitleRef, library: LibraryRef
) -> FollowUps | None:
    if not can_map(title, library):
        inbox.set_state(
            conn,
            inbox_id,
            "ignored",
            f"{title.title!r} has no TMDB id and nothing configured can map it: connect TMDB "
            "(or the media server that sent it) to look it up",
        )
        return None
    inbox.set_state(conn, inbox_id, "mapping")
    return FollowUps(map_inbox_ids=[inbox_id])


def ensure_title(conn: Connection, title: TitleRef) -> tuple[int, bool]:
    assert title.tmdb_id is not None
    return items.ensure_item(
        conn, title.tmdb_id, title.media_type, title.title, title.year, title.genres
    )


def ensure_library_item(conn: Connection, ref: LibraryRef, title: TitleRef, item_id: int) -> int:
    server_id = libraries.upsert_server(conn, ref.server_kind, ref.server_id)
    library_id = libraries.upsert_library(
        conn, server_id, ref.section_id, ref.library_name, libraries.domain_for(title.media_type)
    )
    libraries.upsert_library_item(conn, library_id, item_id, ref.rating_key)
    return library_id


def record_playback(
    conn: Connection,
    event: PlaybackEvent,
    inbox_id: int,
    item_id: int,
    library_id: int,
    follow_ups: FollowUps,
    resuming: bool,
) -> None:
    user_id = users.upsert_from_ref(conn, event.user, via=event.source)
    # A user who played from a library can see it; a library sync replaces the guess.
    users.grant_library(conn, user_id, library_id, granted_by="observed")
    if event.ends_a_viewing:
        changed = record_viewing_end(conn, event, inbox_id, user_id, item_id, library_id)
    else:
        changed = events.insert(conn, event, inbox_id, user_id, item_id, library_id) is not None
    if not event.changes_taste or not (changed or resuming):
        return
    # A refresh already on its way reads this event too (request() makes sure of it). A resumed
    # delivery sends anyway: its first attempt may have inserted the request and died unsent.
    if pending_requests.request(conn, Pending.PROFILE, user_id) or resuming:
        follow_ups.refresh_user_ids.append(user_id)


def record_viewing_end(
    conn: Connection,
    event: PlaybackEvent,
    inbox_id: int,
    user_id: int,
    item_id: int,
    library_id: int,
) -> bool:
    """Insert a stop/watched, unless another source already reported the same viewing: then
    fold this report into that row. True when what the profile reads changed."""
    events.lock_viewing(conn, user_id, item_id)
    if events.exists(conn, event.event_key):
        return False
    kept = events.same_viewing_elsewhere(
        conn, user_id, item_id, event.source, event.occurred_at, SAME_VIEWING_WINDOW
    )
    if kept is not None:
        log.info(
            "%s %s repeats watch event %s from another source",
            event.source,
            event.action,
            kept["id"],
        )
        return events.merge_report(conn, kept, event)
    return events.insert(conn, event, inbox_id, user_id, item_id, library_id) is not None


def send(follow_ups: FollowUps | None) -> None:
    if follow_ups is None:
        return
    for item_id in follow_ups.enrich_item_ids:
        # Enrichment sends embed_item itself (straight away when TMDB is not configured).
        enrich_item.send(item_id)
    for user_id in follow_ups.refresh_user_ids:
        refresh_profile.send(user_id)
    for inbox_id in follow_ups.map_inbox_ids:
        map_event.send(inbox_id)
