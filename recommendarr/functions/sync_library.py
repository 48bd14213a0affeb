"""sync_library(period_key): make servers, libraries, titles, users and access match upstream.

For each configured media server: read everything first (no transaction open during HTTP),
then write it in one transaction. Access is replaced, not merged: what the server does not
confirm is deleted, including access inferred from playback. New titles are enriched and
embedded after the commit; users whose access changed get their profile and picks rebuilt.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.functions.enrich_item import enrich_item
from recommendarr.functions.rank_user import rank_user
from recommendarr.functions.refresh_profile import refresh_profile
from recommendarr.shared import resources
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.media_server import (
    LibraryItem,
    MediaServer,
    ServerSnapshot,
    ServerUser,
    library_domain,
)
from recommendarr.shared.errors import Permanent, Transient
from recommendarr.shared.integrations import Integrations
from recommendarr.shared.store import items, users
from recommendarr.shared.store import sync as sync_store

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one server's sync changed, and the messages to send once it has committed."""

    server: str
    libraries: int = 0
    titles: int = 0
    unmapped: int = 0
    titles_changed: int = 0
    titles_removed: int = 0
    users: int = 0
    access_granted: int = 0
    access_revoked: int = 0
    new_item_ids: list[int] = field(default_factory=list)
    changed_user_ids: set[int] = field(default_factory=set)

    def summary(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "libraries": self.libraries,
            "titles": self.titles,
            "new_titles": len(self.new_item_ids),
            "unmapped": self.unmapped,
            "titles_changed": self.titles_changed,
            "titles_removed": self.titles_removed,
            "users": self.users,
            "access_granted": self.access_granted,
            "access_revoked": self.access_revoked,
            "users_with_changed_access": len(self.changed_user_ids),
        }


@dramatiq.actor(
    actor_name="sync_library",
    queue_name="events",
    max_retries=3,
    min_backoff=30_000,
    max_backoff=600_000,
    time_limit=30 * 60_000,
    throws=(Permanent,),
)
def sync_library(period_key: str) -> dict[str, Any]:
    res = resources.current()
    servers = configured_servers(res.integrations)
    if not servers:
        return {"period": period_key, "servers": [], "note": "no media server is configured"}
    summaries, failures = [], []
    for server in servers:
        try:
            snapshot = fetch_snapshot(server)
        except (Permanent, Transient) as exc:
            log.warning("library sync of %s failed: %s", type(server).__name__, exc)
            failures.append(exc)
            continue
        with res.pool.connection() as conn, conn.transaction():
            outcome = apply_snapshot(conn, snapshot)
        send_follow_ups(outcome)
        log.info("library sync %s: %s", period_key, outcome.summary())
        summaries.append(outcome.summary())
    if failures:
        raise_failures(failures, summaries)
    return {"period": period_key, "servers": summaries}


def configured_servers(integrations: Integrations) -> list[MediaServer]:
    found: list[MediaServer | None] = [integrations.plex, integrations.jellyfin]
    return [server for server in found if server is not None]


def fetch_snapshot(server: MediaServer) -> ServerSnapshot:
    info = server.server_info()
    libraries = [lib for lib in server.libraries() if lib.holds_titles]
    return ServerSnapshot(
        info=info,
        libraries=libraries,
        items={lib.key: server.library_items(lib.key) for lib in libraries},
        users=server.users(),
        access=server.access(),
    )


def apply_snapshot(conn: Connection, snapshot: ServerSnapshot) -> Outcome:
    info = snapshot.info
    outcome = Outcome(server=f"{info.kind}:{info.name or info.machine_id}")
    sync_store.lock_server(conn, info.kind, info.machine_id)
    server_id = sync_store.claim_server(
        conn, info.kind, info.machine_id, info.name, snapshot.owner_key
    )
    overrides = sync_store.domain_overrides(conn, server_id)
    item_ids = record_title_rows(conn, snapshot, outcome)
    library_ids: dict[str, int] = {}
    for library in snapshot.libraries:
        titles = snapshot.items.get(library.key, [])
        domain = library_domain(library, titles, overrides.get(library.key))
        library_id = sync_store.upsert_library(
            conn, server_id, library.key, library.name, library.kind, domain
        )
        library_ids[library.key] = library_id
        record_titles(conn, library_id, titles, item_ids, outcome)
    outcome.libraries = len(library_ids)
    record_access(conn, server_id, snapshot, library_ids, outcome)
    return outcome


def record_title_rows(
    conn: Connection, snapshot: ServerSnapshot, outcome: Outcome
) -> dict[tuple[int, str], int]:
    """The items row of every title with a TMDB id, by (tmdb id, media type). Written in the
    order of those keys, as enrich_item writes its related titles: a sync that adds titles
    while the enrichments of earlier ones run cannot deadlock with them."""
    listed: dict[tuple[int, str], list[LibraryItem]] = {}
    for library in snapshot.libraries:
        for title in snapshot.items.get(library.key, []):
            if title.tmdb_id is not None:
                listed.setdefault((title.tmdb_id, title.media_type), []).append(title)
    item_ids: dict[tuple[int, str], int] = {}
    for key in sorted(listed):
        first = listed[key][0]
        item_id, created = items.ensure_item(
            conn, key[0], first.media_type, first.title, first.year, first.genres
        )
        for title in listed[key]:  # each library's copy may know an id the others lack
            tvdb_id = title.tvdb_id if title.media_type == "tv" else None
            sync_store.fill_external_ids(conn, item_id, title.imdb_id, tvdb_id)
        if created:
            outcome.new_item_ids.append(item_id)
        item_ids[key] = item_id
    return item_ids


def record_titles(
    conn: Connection,
    library_id: int,
    titles: list[LibraryItem],
    item_ids: dict[tuple[int, str], int],
    outcome: Outcome,
) -> None:
    """Titles with a TMDB id are stored; the others are counted as unmapped (a legacy agent
    without TMDB guids) and left to the webhook mapper, whose rows a sync does not remove."""
    for title in titles:
        if title.tmdb_id is None:
            outcome.unmapped += 1
            continue
        item_id = item_ids[(title.tmdb_id, title.media_type)]
        changed = sync_store.upsert_library_item(
            conn,
            library_id,
            item_id,
            title.rating_key,
            title.added_at,
            title.file_size,
            title.media_info,
        )
        outcome.titles += 1
        outcome.titles_changed += int(changed)
    upstream_keys = [title.rating_key for title in titles]
    outcome.titles_removed += sync_store.remove_library_items_except(
        conn, library_id, upstream_keys
    )


def record_access(
    conn: Connection,
    server_id: int,
    snapshot: ServerSnapshot,
    library_ids: dict[str, int],
    outcome: Outcome,
) -> None:
    confirmed: list[tuple[int, int]] = []
    for user in snapshot.users:
        user_id = upsert_user(conn, user)
        outcome.users += 1
        for key in snapshot.opens(user.key):
            library_id = library_ids[key]
            confirmed.append((user_id, library_id))
            if sync_store.grant(conn, user_id, library_id):
                outcome.access_granted += 1
                outcome.changed_user_ids.add(user_id)
    managed = sync_store.managed_libraries(conn, server_id)
    revoked = sync_store.revoke_unconfirmed(conn, managed, confirmed)
    outcome.access_revoked += len(revoked)
    outcome.changed_user_ids.update(user_id for user_id, _ in revoked)


def upsert_user(conn: Connection, user: ServerUser) -> int:
    if user.kind == "jellyfin":
        return users.upsert_jellyfin_user(conn, user.key, user.username, user.friendly_name)
    if user.is_owner:
        return sync_store.claim_plex_owner(conn, user.key, user.username, user.friendly_name)
    return users.upsert_plex_user(conn, user.key, user.username, user.friendly_name)


def send_follow_ups(outcome: Outcome) -> None:
    for item_id in outcome.new_item_ids:
        enrich_item.send(item_id)
    for user_id in sorted(outcome.changed_user_ids):
        refresh_profile.send(user_id)
        # The profile may be unchanged while the candidates are not (a library gained or lost).
        rank_user.send(user_id)


def raise_failures(failures: Sequence[Exception], summaries: list[dict[str, Any]]) -> None:
    message = "; ".join(str(f) for f in failures)
    if summaries:
        message += f" (the other servers synced: {', '.join(s['server'] for s in summaries)})"
    if any(isinstance(f, Transient) for f in failures):
        raise Transient(message)
    raise Permanent(message)
