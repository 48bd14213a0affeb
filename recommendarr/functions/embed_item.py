"""embed_item(item_id): store the title's vector for the active model, only when it changed."""

from __future__ import annotations

import logging

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.refresh_profile import refresh_profile
from recommendarr.shared import resources
from recommendarr.shared.domain.item_text import content_hash
from recommendarr.shared.errors import Permanent, Transient
from recommendarr.shared.store import items

log = logging.getLogger(__name__)


@dramatiq.actor(
    actor_name="embed_item",
    queue_name="embeddings",
    max_retries=5,
    min_backoff=2_000,
    max_backoff=300_000,
    time_limit=120_000,
    throws=(Permanent,),
)
def embed_item(item_id: int) -> None:
    res = resources.current()
    model = res.embedder.model_name
    with res.pool.connection() as conn:
        row = items.get(conn, item_id)
        if row is None:
            log.warning("item %s is gone; nothing to embed", item_id)
            return
        facts = items.facts_from_row(row)
        digest = content_hash(facts)
        if items.embedding_hash(conn, item_id, model) == digest:
            return
        conn.commit()  # no transaction stays open across the provider call
        try:
            [vector] = res.embedder.embed([facts])
        except Transient:
            log.warning("embedding item %s failed transiently; will retry", item_id)
            raise
        with conn.transaction():
            changed = items.store_embedding(conn, item_id, model, digest, vector)
            watchers = items.users_who_watched(conn, item_id) if changed else []
    for user_id in watchers:
        refresh_profile.send(user_id)
