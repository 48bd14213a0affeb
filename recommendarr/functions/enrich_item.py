"""enrich_item(item_id): fill a title's facts from TMDB, then have it embedded.

Without a TMDB key the webhook's facts are all there is, so the title goes straight to
embed_item. A title fetched within TMDB_CACHE_DAYS whose embedding matches its facts is left
alone, which makes a re-run a no-op.
"""

from __future__ import annotations

import logging

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.embed_item import embed_item
from recommendarr.shared import resources
from recommendarr.shared.clients.tmdb import TmdbClient
from recommendarr.shared.domain.item_text import content_hash
from recommendarr.shared.domain.tmdb_facts import TmdbShapeError, parse_details
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
        return True
    except TmdbShapeError as exc:
        log.warning("%s; embedding what the webhook said", exc)
        return True
    except Permanent:
        # A rejected key is the operator's to fix; the title is still worth embedding meanwhile,
        # and the failed job keeps the error where they will see it.
        embed_item.send(state.item_id)
        raise
    with resources.current().pool.connection() as conn, conn.transaction():
        recorded = enrichment.record_details(conn, state.item_id, facts, extras)
    if not recorded:
        log.warning("item %s vanished while TMDB was asked about it", state.item_id)
    return recorded
