"""refresh_profile(user_id): rebuild the user's taste profiles when their inputs changed.

Senders coalesce through profile_refresh_requests (store/pending_requests.py): a burst of events
for one user sends one message, and the rebuild reads every event committed before it started.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.rank_user import rank_user
from recommendarr.shared import resources
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.taste import build_profile, input_hash, summarize_titles
from recommendarr.shared.errors import Permanent
from recommendarr.shared.store import events as event_store
from recommendarr.shared.store import pending_requests, profiles, users
from recommendarr.shared.store.pending_requests import Pending

log = logging.getLogger(__name__)


@dramatiq.actor(
    actor_name="refresh_profile",
    queue_name="profiles",
    max_retries=3,
    min_backoff=1_000,
    max_backoff=30_000,
    time_limit=60_000,
    throws=(Permanent,),
)
def refresh_profile(user_id: int) -> None:
    res = resources.current()
    with res.pool.connection() as conn:
        with conn.transaction():
            # Committed before the history is read: an event committed from here on finds no
            # pending request and sends a new message, so no event is left unread. Deleting
            # inside the rebuild's transaction would hold up the user's events until it ends.
            pending_requests.take(conn, Pending.PROFILE, user_id)
        send_ranking = refresh(conn, user_id, res.embedder.model_name)
    if send_ranking:
        rank_user.send(user_id)


def refresh(conn: Connection, user_id: int, model: str) -> bool:
    """Rebuild; True when a rank_user message must follow (the profile changed and no ranking
    is pending already). A failure from here on leaves the request taken but the message
    unacknowledged: Dramatiq runs it again, and a rebuild never skips for want of a request."""
    with conn.transaction():
        if users.get(conn, user_id) is None:
            log.warning("user %s is gone; no profile to refresh", user_id)
            return False
        profiles.lock_user(conn, user_id)
        if not rebuild(conn, user_id, model):
            return False
        return pending_requests.request(conn, Pending.RANKING, user_id)


def rebuild(conn: Connection, user_id: int, model: str) -> bool:
    """Rebuild every domain whose inputs changed; True when any profile was written."""
    viewings = event_store.viewings(conn, user_id)
    item_ids = {v.item_id for v in viewings}
    vectors = profiles.vectors_for(conn, item_ids, model)
    facts = profiles.facts_for(conn, item_ids)
    titles = summarize_titles(viewings)
    stored = profiles.stored_hashes(conn, user_id)
    domains = sorted({t.domain for t in titles})
    now = datetime.now(UTC)
    changed = False
    for domain in domains:
        domain_viewings = [v for v in viewings if v.domain == domain]
        digest = input_hash(
            domain_viewings,
            model,
            (i for i in vectors if i in {v.item_id for v in domain_viewings}),
        )
        if stored.get(domain) == digest:
            continue
        profile = build_profile(domain, titles, vectors, facts, now)
        profiles.save(conn, user_id, profile, model, digest)
        changed = True
    if set(stored) - set(domains):
        profiles.delete_other_domains(conn, user_id, domains)
        changed = True
    return changed
