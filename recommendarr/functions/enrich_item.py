"""enrich_item(item_id): fill a title's facts from TMDB, then have it embedded.

Without a TMDB key the webhook's facts are all there is, so the title goes straight to
embed_item. A title fetched within TMDB_CACHE_DAYS whose embedding matches its facts is left
alone, which makes a re-run a no-op.

For a title in some library, the details' appended recommendations and similar titles are
recorded too (item_relations; grab mode's candidates), each related title becoming an items row
with the facts its list entry gives. So that this does not crawl TMDB, only library titles get
relations recorded (a related or trending title does not). Of the related titles, those TMDB
was not yet asked about in the top RELATED_TO_ENRICH places of either list are enriched,
whichever library title listed them first; the others are embedded from their list facts when
the list gave them facts. A library title enriched before relations were recorded
(fresh, none recorded) gets them from the details, normally still in the response cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.embed_item import embed_item
from recommendarr.shared import resources
from recommendarr.shared.clients.tmdb import TmdbClient
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.item_text import content_hash
from recommendarr.shared.domain.tmdb_facts import TmdbShapeError, parse_details
from recommendarr.shared.domain.tmdb_lists import (
    ListedTitle,
    Recorded,
    RelationKind,
    follow_ups,
    related_lists,
    sort_key,
)
from recommendarr.shared.errors import NotFound, Permanent
from recommendarr.shared.store import enrichment
from recommendarr.shared.store.enrichment import EnrichmentState

log = logging.getLogger(__name__)


@dramatiq.actor(
    actor_name="enrich_item",
    queue_name="embeddings",
    max_retries=5,
    min_backoff=2_000,
    max_backoff=300_000,
    time_limit=60_000,
    throws=(Permanent,),
)
def enrich_item(item_id: int) -> None:
    res = resources.current()
    with res.pool.connection() as conn:
        state = enrichment.read_state(
            conn, item_id, res.settings.tmdb_cache_days, res.embedder.model_name
        )
    if state is None:
        log.warning("item %s is gone; nothing to enrich", item_id)
        return
    tmdb = res.integrations.tmdb
    if tmdb is None:
        embed_item.send(item_id)
        return
    if state.fresh:
        if state.embedded_hash != content_hash(state.facts):
            embed_item.send(item_id)
        if state.in_library and not state.has_relations:
            relate(tmdb, state)
        return
    if enrich(tmdb, state):
        embed_item.send(item_id)


def enrich(tmdb: TmdbClient, state: EnrichmentState) -> bool:
    """Fetch (no transaction open) and record the details; False when the item has vanished."""
    label = f"{state.media_type} {state.tmdb_id} (item {state.item_id})"
    try:
        details = tmdb.details("movie" if state.media_type == "movie" else "tv", state.tmdb_id)
        facts, extras = parse_details(state.media_type, state.tmdb_id, details)
    except NotFound:
        log.warning("TMDB has no %s; embedding what the webhook said", label)
        with resources.current().pool.connection() as conn, conn.transaction():
            enrichment.record_missing(conn, state.item_id)
        return True
    except TmdbShapeError as exc:
        log.warning("%s; embedding what the webhook said", exc)
        return True
    except Permanent:
        # A rejected key is the operator's to fix; the title is still worth embedding meanwhile,
        # and the failed job keeps the error where they will see it.
        embed_item.send(state.item_id)
        raise
    lists = related_lists(state.media_type, state.tmdb_id, details) if state.in_library else {}
    try:
        with resources.current().pool.connection() as conn, conn.transaction():
            upserted = record_relations(
                conn,
                state,
                lists,
                lambda: enrichment.record_details(conn, state.item_id, facts, extras),
            )
    except TitleVanishedError:
        log.warning("item %s vanished while TMDB was asked about it", state.item_id)
        return False
    send_follow_ups(lists, upserted)
    return True


def relate(tmdb: TmdbClient, state: EnrichmentState) -> None:
    """Record a fresh library title's relations, which an earlier enrichment did not."""
    try:
        details = tmdb.details("movie" if state.media_type == "movie" else "tv", state.tmdb_id)
    except NotFound:
        log.warning("TMDB has no %s %s; no related titles", state.media_type, state.tmdb_id)
        return
    lists = related_lists(state.media_type, state.tmdb_id, details)
    try:
        with resources.current().pool.connection() as conn, conn.transaction():
            upserted = record_relations(
                conn, state, lists, lambda: enrichment.lock_item(conn, state.item_id)
            )
    except TitleVanishedError:
        return
    send_follow_ups(lists, upserted)


Upserted = dict[tuple[int, str], tuple[int, Recorded]]


class TitleVanishedError(Exception):
    """The title was removed while TMDB was asked about it: its transaction writes nothing."""


def record_relations(
    conn: Connection,
    state: EnrichmentState,
    lists: dict[RelationKind, list[ListedTitle]],
    write_title: Callable[[], bool],
) -> Upserted:
    """Write the title (`write_title`, False when it is gone), upsert its related titles and
    record its relations; each related title's id and what recording it did.

    Every row is locked in one order of (tmdb id, media type), the title's own among its related
    titles', in every such transaction: an enrichment that held its own title while upserting
    related ones would deadlock with one listing that title while holding a title it lists.
    """
    own = (state.tmdb_id, state.media_type)
    upserted: Upserted = {}
    written = False
    for listed in sorted({t.key: t for ts in lists.values() for t in ts}.values(), key=sort_key):
        if not written and own < listed.key:
            write_or_vanish(write_title)
            written = True
        upserted[listed.key] = enrichment.upsert_listed(conn, listed)
    if not written:
        write_or_vanish(write_title)
    for kind, titles in lists.items():
        related = [(upserted[t.key][0], t.position) for t in titles]
        enrichment.record_relations(conn, state.item_id, kind, related)
    return upserted


def write_or_vanish(write_title: Callable[[], bool]) -> None:
    if not write_title():
        raise TitleVanishedError


def send_follow_ups(lists: dict[RelationKind, list[ListedTitle]], upserted: Upserted) -> None:
    to_enrich, to_embed = follow_ups(lists, {key: done for key, (_, done) in upserted.items()})
    for key in to_enrich:
        enrich_item.send(upserted[key][0])
    for key in to_embed:
        embed_item.send(upserted[key][0])
