"""request_grab(grab_request_id): hand a title worth grabbing to Seerr, Radarr or Sonarr.

The upstream call happens with no transaction open. A request already sent (or found to exist)
is a no-op. Two concurrent runs for one row can both call out; the upstreams refuse the second
add ("already requested" / "already added"), which lands here as `exists`, so no lock is held
across the call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.shared import resources
from recommendarr.shared.clients.arr import AddResult, ArrTitle, RateLimited
from recommendarr.shared.db import Connection
from recommendarr.shared.domain.arr import (
    GrabRoute,
    NoRoute,
    instance_key,
    route_grab,
    title_domain,
)
from recommendarr.shared.errors import Permanent, Transient
from recommendarr.shared.integrations import Integrations
from recommendarr.shared.store import arr

log = logging.getLogger(__name__)
SETTLED_STATES = frozenset({"sent", "exists"})
MAX_RETRY_AFTER_MS = 15 * 60 * 1000


@dataclass(frozen=True)
class Outcome:
    state: str  # sent | exists
    external_id: str | None = None
    added: ArrTitle | None = None


@dramatiq.actor(
    actor_name="request_grab",
    queue_name="events",
    max_retries=5,
    min_backoff=5_000,
    max_backoff=600_000,
    time_limit=60_000,
    throws=(Permanent,),
)
def request_grab(grab_request_id: int) -> dict[str, Any] | None:
    res = resources.current()
    with res.pool.connection() as conn:
        grab = arr.get_grab(conn, grab_request_id)
        conn.commit()  # no transaction stays open across the upstream call
        if grab is None:
            log.warning("grab request %s is gone; nothing to send", grab_request_id)
            return None
        if grab["state"] in SETTLED_STATES:
            return result(grab["via"], grab["state"], grab["external_id"])
        route = route_for(res.integrations, grab)
        if isinstance(route, NoRoute):
            with conn.transaction():
                arr.finish_grab(conn, grab_request_id, grab["via"], "failed", error=route.reason)
            raise Permanent(f"grab request {grab_request_id}: {route.reason}")
        if arr.arr_has(conn, grab["media_type"], grab["tmdb_id"]):
            with conn.transaction():
                arr.finish_grab(conn, grab_request_id, route.via, "exists")
            return result(route.via, "exists", None)
        conn.commit()
        outcome = send_or_record_failure(conn, res.integrations, route, grab)
        with conn.transaction():
            arr.finish_grab(conn, grab_request_id, route.via, outcome.state, outcome.external_id)
            if outcome.added is not None and route.instance is not None:
                note_added(conn, route, outcome.added)
    return result(route.via, outcome.state, outcome.external_id)


def route_for(integrations: Integrations, grab: dict[str, Any]) -> GrabRoute | NoRoute:
    domain = title_domain(
        grab["media_type"], grab["genres"] or (), grab["language"], grab["library_domain"]
    )
    return route_grab(
        grab["media_type"],
        domain,
        seerr_configured=integrations.seerr is not None,
        radarr=list(integrations.radarr.values()),
        sonarr=list(integrations.sonarr.values()),
    )


def send_or_record_failure(
    conn: Connection, integrations: Integrations, route: GrabRoute, grab: dict[str, Any]
) -> Outcome:
    grab_id = int(grab["id"])
    try:
        return send(integrations, route, grab)
    except RateLimited as exc:
        with conn.transaction():
            arr.note_grab_error(conn, grab_id, str(exc))
        if exc.retry_after_s is None:
            raise
        delay = min(int(exc.retry_after_s * 1000), MAX_RETRY_AFTER_MS)
        raise dramatiq.Retry(str(exc), delay=delay) from exc
    except Transient as exc:
        with conn.transaction():
            arr.note_grab_error(conn, grab_id, str(exc))
        raise
    except Permanent as exc:
        with conn.transaction():
            arr.finish_grab(conn, grab_id, route.via, "failed", error=str(exc))
        raise


def send(integrations: Integrations, route: GrabRoute, grab: dict[str, Any]) -> Outcome:
    media_type, tmdb_id, title = grab["media_type"], int(grab["tmdb_id"]), str(grab["title"])
    if route.via == "seerr":
        assert integrations.seerr is not None
        tvdb_id = grab["tvdb_id"] if media_type == "tv" else None
        reply = integrations.seerr.request(media_type, tmdb_id, tvdb_id=tvdb_id)
        if reply.state == "created":
            return Outcome("sent", str(reply.request_id))
        return Outcome("exists")
    assert route.instance is not None
    if route.via == "radarr":
        added = integrations.radarr[route.instance].add_movie(tmdb_id, title, grab["year"])
        return arr_outcome(route.instance, added)
    if grab["tvdb_id"] is None:
        raise Permanent(
            f"{title!r} has no TVDB id yet and Sonarr adds shows by TVDB id: it is filled by "
            "TMDB enrichment (TMDB_API_KEY); ask again once the title is enriched"
        )
    added = integrations.sonarr[route.instance].add_series(int(grab["tvdb_id"]), title)
    return arr_outcome(route.instance, added)


def arr_outcome(instance: str, added: AddResult) -> Outcome:
    if not added.added or added.title is None:
        return Outcome("exists")
    return Outcome("sent", f"{instance}:{added.title.arr_id}", added.title)


def note_added(conn: Connection, route: GrabRoute, title: ArrTitle) -> None:
    """Known as held right away, so nothing grabs it twice before the webhook or sync."""
    assert route.instance is not None
    arr.note_from_webhook(
        conn,
        instance_key(route.via, route.instance),
        title.arr_id,
        title.media_type,
        title.tmdb_id,
        title.tvdb_id,
        title.title,
        has_file=title.has_file,
    )


def result(via: str, state: str, external_id: str | None) -> dict[str, Any]:
    return {"via": via, "state": state, "external_id": external_id}
