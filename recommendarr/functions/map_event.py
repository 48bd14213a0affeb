"""map_event(inbox_id): find the TMDB id of a title a webhook named only by other ids.

An episode from Plex or Jellyfin names its show by the server's own key; a legacy Plex agent
gives only an IMDb or TVDB id. The lookups (the media server, TMDB's /find) run outside any
transaction; the answer is cached in title_aliases and the inbox row goes back to
on_watch_event, which now finds the alias. Nothing able to answer: the row ends 'ignored'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, Protocol

import dramatiq

from recommendarr.broker import broker  # also declares the broker before the actor
from recommendarr.shared import resources
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.events import (
    LibraryAddition,
    LibraryRef,
    PayloadError,
    PlaybackEvent,
    TitleRef,
)
from recommendarr.shared.domain.jellyfin_webhook import provider_ids
from recommendarr.shared.domain.plex_webhook import external_ids
from recommendarr.shared.domain.title_mapping import (
    Alias,
    ExternalIds,
    alias_keys,
    show_id_from_episode_find,
    tmdb_id_from_find,
)
from recommendarr.shared.domain.webhooks import parse_webhook
from recommendarr.shared.errors import Permanent
from recommendarr.shared.store import inbox, title_aliases

log = logging.getLogger(__name__)
ExternalSource = Literal["imdb_id", "tvdb_id"]


class PlexMetadata(Protocol):
    def metadata(self, rating_key: str) -> dict[str, Any]: ...


class JellyfinItems(Protocol):
    def item(self, item_id: str) -> dict[str, Any]: ...


class TmdbFind(Protocol):
    def find(self, external_source: ExternalSource, external_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Services:
    """The clients that can name a title; None when that service is not configured."""

    plex: PlexMetadata | None
    jellyfin: JellyfinItems | None
    tmdb: TmdbFind | None


@dataclass(frozen=True)
class Lookup:
    name: str
    run: Callable[[], Alias | None]


@dataclass(frozen=True)
class Pending:
    title: TitleRef
    library: LibraryRef


def configured_services() -> Services:
    # The client fields appear on Integrations as each client lands; absent means unconfigured.
    integrations = resources.current().integrations
    return Services(
        plex=getattr(integrations, "plex", None),
        jellyfin=getattr(integrations, "jellyfin", None),
        tmdb=getattr(integrations, "tmdb", None),
    )


@dramatiq.actor(
    actor_name="map_event",
    queue_name="events",
    max_retries=5,
    min_backoff=5_000,
    max_backoff=300_000,
    time_limit=60_000,
    throws=(Permanent,),
)
def map_event(inbox_id: int) -> None:
    with resources.current().pool.connection() as conn:
        with conn.transaction():
            row = inbox.get(conn, inbox_id)
            if row is None or row["state"] != "mapping":
                return  # gone, or already mapped: a re-run
            pending = pending_title(row)
            cached = None if pending is None else find_alias(conn, pending)
        if pending is not None and cached is None:
            alias, problems = resolve(
                lookups(pending.title, pending.library, configured_services())
            )
            if not store(conn, inbox_id, pending, alias, problems):
                return
    # Also when the body holds no title to map (a parser changed): on_watch_event settles it.
    hand_back(inbox_id)


def pending_title(row: dict[str, Any]) -> Pending | None:
    try:
        event = parse_webhook(row["source"], bytes(row["body"]), row["received_at"])
    except PayloadError:
        return None
    if not isinstance(event, PlaybackEvent | LibraryAddition):
        return None
    return Pending(event.title, event.library)


def find_alias(conn: Connection, pending: Pending) -> Alias | None:
    library = pending.library
    return title_aliases.find(
        conn, library.server_kind, library.server_id, alias_keys(pending.title)
    )


def store(
    conn: Connection, inbox_id: int, pending: Pending, alias: Alias | None, problems: list[str]
) -> bool:
    """Cache the answer, or settle the row as ignored; True when on_watch_event should go on."""
    with conn.transaction():
        row = inbox.lock(conn, inbox_id)
        if row is None or row["state"] != "mapping":
            return False
        if alias is None:
            inbox.set_state(conn, inbox_id, "ignored", unmapped_reason(pending.title, problems))
            return False
        library = pending.library
        keys = alias_keys(pending.title)
        title_aliases.save(conn, library.server_kind, library.server_id, keys, alias)
    log.info("mapped %r (%s) to tmdb %s", pending.title.title, ", ".join(keys), alias.tmdb_id)
    return True


def hand_back(inbox_id: int) -> None:
    # By name: on_watch_event imports this module to send map_event.
    broker.get_actor("on_watch_event").send(inbox_id)


def can_map(title: TitleRef, library: LibraryRef) -> bool:
    return bool(lookups(title, library, configured_services()))


def unmapped_reason(title: TitleRef, problems: list[str]) -> str:
    why = "; ".join(problems) if problems else "no configured service can look it up"
    return f"{title.title!r} has no TMDB id and could not be mapped: {why}"


def lookups(title: TitleRef, library: LibraryRef, services: Services) -> list[Lookup]:
    """What can name this title, the most direct first. Empty: nothing configured can."""
    steps: list[Lookup] = []
    if title.show_key and library.server_kind == "plex" and services.plex:
        steps.append(Lookup("Plex", partial(from_plex_show, services.plex, services.tmdb, title)))
    if title.show_key and library.server_kind == "jellyfin" and services.jellyfin:
        steps.append(
            Lookup(
                "Jellyfin", partial(from_jellyfin_series, services.jellyfin, services.tmdb, title)
            )
        )
    tmdb = services.tmdb
    if tmdb is None:
        return steps
    if title.imdb_id:
        steps.append(tmdb_lookup(tmdb, "imdb_id", title.imdb_id, title.media_type))
    if title.tvdb_id and title.media_type == "tv":
        steps.append(tmdb_lookup(tmdb, "tvdb_id", str(title.tvdb_id), "tv"))
    if title.episode_imdb_id:
        steps.append(episode_lookup(tmdb, "imdb_id", title.episode_imdb_id))
    if title.episode_tvdb_id:
        steps.append(episode_lookup(tmdb, "tvdb_id", str(title.episode_tvdb_id)))
    return steps


def resolve(steps: list[Lookup]) -> tuple[Alias | None, list[str]]:
    """The first answer; otherwise what each lookup said. Transient errors propagate (retry)."""
    problems = []
    for step in steps:
        try:
            alias = step.run()
        except (Permanent, PayloadError) as exc:
            problems.append(f"{step.name}: {exc}")
            continue
        if alias is not None:
            return alias, problems
        problems.append(f"{step.name} knows no TMDB id for it")
    return None, problems


def tmdb_lookup(tmdb: TmdbFind, source: ExternalSource, value: str, media_type: str) -> Lookup:
    def run() -> Alias | None:
        tmdb_id = tmdb_id_from_find(tmdb.find(source, value), media_type)
        return None if tmdb_id is None else Alias(tmdb_id, media_type)

    return Lookup(f"TMDB /find {source}={value}", run)


def episode_lookup(tmdb: TmdbFind, source: ExternalSource, value: str) -> Lookup:
    def run() -> Alias | None:
        show_id = show_id_from_episode_find(tmdb.find(source, value))
        return None if show_id is None else Alias(show_id, "tv")

    return Lookup(f"TMDB /find episode {source}={value}", run)


def from_plex_show(plex: PlexMetadata, tmdb: TmdbFind | None, title: TitleRef) -> Alias | None:
    assert title.show_key is not None
    metadata = plex.metadata(title.show_key)
    if not names_match(metadata.get("title"), title.title):
        # The configured server is not the one that sent the webhook: its key means another show.
        log.warning(
            "Plex key %s is %r there, not %r", title.show_key, metadata.get("title"), title.title
        )
        return None
    return alias_from_ids(external_ids(metadata), tmdb)


def from_jellyfin_series(
    jellyfin: JellyfinItems, tmdb: TmdbFind | None, title: TitleRef
) -> Alias | None:
    assert title.show_key is not None
    item = jellyfin.item(title.show_key)
    if not names_match(item.get("Name"), title.title):
        log.warning("Jellyfin item %s is %r, not %r", title.show_key, item.get("Name"), title.title)
        return None
    return alias_from_ids(provider_ids(item), tmdb)


def alias_from_ids(ids: ExternalIds, tmdb: TmdbFind | None) -> Alias | None:
    """A show's ids from its server: its TMDB id, or one TMDB can find it by."""
    if ids.tmdb is not None:
        return Alias(ids.tmdb, "tv")
    if tmdb is None:
        return None
    if ids.tvdb is not None:
        found = tmdb_id_from_find(tmdb.find("tvdb_id", str(ids.tvdb)), "tv")
        if found is not None:
            return Alias(found, "tv")
    if ids.imdb is not None:
        found = tmdb_id_from_find(tmdb.find("imdb_id", ids.imdb), "tv")
        if found is not None:
            return Alias(found, "tv")
    return None


def names_match(found: object, expected: str) -> bool:
    """A missing name is no evidence either way."""
    return not isinstance(found, str) or found.strip().casefold() == expected.strip().casefold()
