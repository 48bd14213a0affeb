"""reconcile_derived(period_key): re-send follow-ups whose messages were lost.

reconcile_inbox makes sure every webhook is recorded; this makes sure what is derived from the
records (vectors, profiles, picks) catches up even when a Redis restart dropped the messages
that would have triggered it.
"""

from __future__ import annotations

import logging

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.enrich_item import enrich_item
from recommendarr.functions.rank_user import rank_user
from recommendarr.functions.refresh_profile import refresh_profile
from recommendarr.shared import resources
from recommendarr.shared.errors import Permanent
from recommendarr.shared.store import change_logs, pending_requests, reconcile
from recommendarr.shared.store.pending_requests import Pending

log = logging.getLogger(__name__)
BATCH = 2_000
# A pending profile refresh normally runs within seconds; one this old lost its message.
REQUEST_STALE_S = 60


@dramatiq.actor(
    actor_name="reconcile_derived",
    queue_name="events",
    max_retries=1,
    time_limit=120_000,
    throws=(Permanent,),
)
def reconcile_derived(period_key: str, older_than_s: int = 300) -> None:
    res = resources.current()
    with res.pool.connection() as conn:
        items = reconcile.items_without_embedding(
            conn, res.embedder.model_name, older_than_s, BATCH
        )
        profiles = reconcile.users_with_stale_profiles(conn, older_than_s, BATCH)
        picks = reconcile.users_with_stale_picks(conn, older_than_s, BATCH)
        stale_after = min(older_than_s, REQUEST_STALE_S)
        requests = pending_requests.resend_stale(conn, Pending.PROFILE, stale_after, BATCH)
        ranking_requests = pending_requests.resend_stale(conn, Pending.RANKING, stale_after, BATCH)
        change_logs.fold(conn, "library_changes")
        change_logs.fold(conn, "title_changes")
        conn.commit()
    refreshes = sorted(set(profiles) | set(requests))
    for item_id in items:
        enrich_item.send(item_id)
    for user_id in refreshes:
        refresh_profile.send(user_id)
    rankings = sorted((set(picks) | set(ranking_requests)) - set(refreshes))
    for user_id in rankings:
        rank_user.send(user_id)
    if items or refreshes or rankings:
        log.info(
            "reconcile %s: %d items to embed, %d profiles (%d requested) and %d pick lists "
            "to refresh",
            period_key,
            len(items),
            len(refreshes),
            len(requests),
            len(rankings),
        )
