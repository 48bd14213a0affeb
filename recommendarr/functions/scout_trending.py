"""scout_trending(period_key): record what TMDB says is trending this week (movies and shows).

Trending titles are grab mode's candidates beside the titles related to what users liked. Each
becomes an items row with its list facts; the ones TMDB was not yet asked about are sent to
enrich_item (the lists are 20 titles each, so this cannot crawl: enrich_item records no relations
for a title that is in no library). The run's rows are keyed by its period key, so a re-run adds
nothing. Without TMDB configured there is nothing to ask: the run is skipped.
"""

from __future__ import annotations

import logging

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.enrich_item import enrich_item
from recommendarr.shared import resources
from recommendarr.shared.clients.tmdb import MediaType, TmdbClient, TrendingWindow
from recommendarr.shared.domain.tmdb_lists import ListedTitle, parse_list, sort_key
from recommendarr.shared.errors import Permanent
from recommendarr.shared.store import enrichment, trending

log = logging.getLogger(__name__)
WINDOW: TrendingWindow = "week"
MEDIA_TYPES: tuple[MediaType, ...] = ("movie", "tv")


@dramatiq.actor(
    actor_name="scout_trending",
    queue_name="events",
    max_retries=3,
    min_backoff=60_000,
    max_backoff=900_000,
    time_limit=120_000,
    throws=(Permanent,),
)
def scout_trending(period_key: str) -> dict[str, object]:
    tmdb = resources.current().integrations.tmdb
    if tmdb is None:
        log.info("scout_trending %s: TMDB is not configured; skipped", period_key)
        return {"skipped": "TMDB is not configured"}
    # Both lists before any write: a failure retries the whole run, never half of it.
    lists = fetch(tmdb)
    with resources.current().pool.connection() as conn, conn.transaction():
        ids: dict[tuple[int, str], int] = {}
        new_ids: list[int] = []
        unasked: list[int] = []
        # In one order for every writer of items, so concurrent upserts cannot deadlock.
        for listed in sorted((t for ts in lists.values() for t in ts), key=sort_key):
            item_id, recorded = enrichment.upsert_listed(conn, listed)
            ids[listed.key] = item_id
            if recorded == "created":
                new_ids.append(item_id)
            elif recorded != "asked":
                # Known only from a related list or a webhook so far: trending, it is worth
                # its details, whichever list named it first.
                unasked.append(item_id)
        added = sum(
            trending.record(conn, period_key, WINDOW, [(ids[t.key], t.position) for t in titles])
            for titles in lists.values()
        )
        pruned = trending.prune(conn)
    for item_id in new_ids + unasked:
        enrich_item.send(item_id)
    counts = {media_type: len(titles) for media_type, titles in lists.items()}
    log.info(
        "scout_trending %s: %s trending, %d rows added, %d new titles, %d old rows pruned",
        period_key,
        counts,
        added,
        len(new_ids),
        pruned,
    )
    return {"trending": counts, "added": added, "new_items": len(new_ids)}


def fetch(tmdb: TmdbClient) -> dict[str, list[ListedTitle]]:
    return {
        media_type: parse_list(tmdb.trending(media_type, WINDOW), media_type)
        for media_type in MEDIA_TYPES
    }
