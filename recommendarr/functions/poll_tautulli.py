"""poll_tautulli(period_key): take in plays from Tautulli's history that no webhook reported.

A fallback for when webhooks are not configured or got lost: skipped while Tautulli webhooks
are arriving. Each finished history row becomes one inbox row in the webhook template's shape
(source "tautulli_history"), keyed by Tautulli's row id, so re-polling inserts nothing twice;
on_watch_event then records it like a webhook and folds it into the webhook's report of the
same play if there was one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.on_watch_event import on_watch_event
from recommendarr.shared import resources
from recommendarr.shared.clients.tautulli import TautulliClient
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.tautulli_api import (
    HISTORY_SOURCE,
    VIDEO_TYPES,
    TautulliHistoryRow,
    TitleFacts,
    ref_stopped_at,
    webhook_body,
)
from recommendarr.shared.errors import NotFound, Permanent
from recommendarr.shared.store import history_poll

log = logging.getLogger(__name__)
WEBHOOK_SOURCE = "tautulli"
WEBHOOK_QUIET = timedelta(minutes=5)
BACKFILL_DAYS = 365


@dataclass
class Rendered:
    bodies: list[tuple[str, bytes]] = field(default_factory=list)  # (external ref, body)
    unresolved: int = 0


@dramatiq.actor(
    actor_name="poll_tautulli",
    queue_name="events",
    max_retries=3,
    min_backoff=10_000,
    max_backoff=120_000,
    time_limit=15 * 60_000,
    throws=(Permanent,),
)
def poll_tautulli(period_key: str, backfill_days: int = BACKFILL_DAYS) -> dict[str, Any]:
    res = resources.current()
    tautulli = res.integrations.tautulli
    if tautulli is None:
        return {"period": period_key, "skipped": "Tautulli is not configured"}
    with res.pool.connection() as conn:
        if history_poll.webhook_received_within(conn, WEBHOOK_SOURCE, WEBHOOK_QUIET):
            return {"period": period_key, "skipped": "a Tautulli webhook arrived lately"}
        since = poll_start(conn, datetime.now(UTC) - timedelta(days=backfill_days))
    rows = [r for r in tautulli.history_since(since) if r.media_type in VIDEO_TYPES]
    with res.pool.connection() as conn:
        known = history_poll.known_refs(conn, HISTORY_SOURCE, [r.ref for r in rows])
    fresh = [r for r in rows if r.ref not in known]
    rendered = render(tautulli, fresh) if fresh else Rendered()
    with res.pool.connection() as conn, conn.transaction():
        recorded = [history_poll.record(conn, HISTORY_SOURCE, b, ref) for ref, b in rendered.bodies]
    inbox_ids = [i for i in recorded if i is not None]
    for inbox_id in inbox_ids:
        on_watch_event.send(inbox_id)
    return {
        "period": period_key,
        "since": since.isoformat(),
        "rows": len(rows),
        "new": len(inbox_ids),
        "unresolved": rendered.unresolved,
    }


def poll_start(conn: Connection, backfill_from: datetime) -> datetime:
    """From the newest play we have from Tautulli (webhook or history); on the first run, from
    the start of the backfill window (a year by default)."""
    newest = [history_poll.newest_event(conn, (WEBHOOK_SOURCE, HISTORY_SOURCE))]
    ref = history_poll.newest_ref(conn, HISTORY_SOURCE)
    newest.append(ref_stopped_at(ref) if ref else None)
    known = [t for t in newest if t is not None]
    return max(known) if known else backfill_from


def render(tautulli: TautulliClient, rows: list[TautulliHistoryRow]) -> Rendered:
    """Webhook-shaped bodies; get_metadata supplies section and TMDB ids, once per item."""
    server_id = tautulli.get_server_identity()
    facts: dict[str, TitleFacts | None] = {}
    rendered = Rendered()
    for row in rows:
        if row.item_key not in facts:
            facts[row.item_key] = title_facts(tautulli, row.item_key)
        known = facts[row.item_key]
        if known is None:
            rendered.unresolved += 1
            continue
        body = json.dumps(webhook_body(row, known, server_id)).encode()
        rendered.bodies.append((row.ref, body))
    return rendered


def title_facts(tautulli: TautulliClient, rating_key: str) -> TitleFacts | None:
    try:
        return tautulli.get_metadata(rating_key)
    except NotFound:
        # The item left Plex: no library or ids to record the play against.
        log.info("Tautulli history names item %s that Plex no longer has; skipped", rating_key)
        return None
