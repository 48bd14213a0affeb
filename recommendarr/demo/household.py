"""The demo household: a facts-only catalog on a Plex server with two libraries, three users,
and their history as Tautulli webhooks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources as package_files
from typing import Any

from recommendarr.shared.domain.item_text import ItemFacts

# A fixed anchor keeps the replayed events identical from run to run, so a second demo run
# is recognised as the same deliveries and records nothing new.
ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
# The simulated Plex's machineIdentifier, which Tautulli sends as server_id.
SERVER_ID = "demo0000000000000000000000000000000000000"
SERVER_NAME = "Demo Plex"


@dataclass(frozen=True)
class Viewing:
    tmdb_id: int
    progress: int
    days_ago: int
    hour: int


@dataclass(frozen=True)
class DemoUser:
    # Tautulli's user_id is the plex.tv account id, so the simulated plex.tv uses it too.
    tautulli_user_id: str
    username: str
    friendly_name: str
    is_owner: bool
    history: tuple[Viewing, ...]


@dataclass(frozen=True)
class DemoLibrary:
    """A Plex section. The owner opens every one; friends only the shared ones."""

    key: str
    title: str
    shared: bool
    video_resolution: str
    titles: tuple[ItemFacts, ...]


def read_json(name: str) -> Any:
    return json.loads(package_files.files("recommendarr.demo").joinpath("data", name).read_text())


def load_catalog() -> list[ItemFacts]:
    return [
        ItemFacts(
            tmdb_id=int(i["tmdb_id"]),
            media_type=i["media_type"],
            title=i["title"],
            year=i.get("year"),
            genres=tuple(i["genres"]),
            keywords=tuple(i["keywords"]),
            directors=tuple(i["directors"]),
            cast=tuple(i["cast"]),
            language=i.get("language"),
            runtime=i.get("runtime"),
        )
        for i in read_json("catalog.json")["items"]
    ]


def load_users() -> list[DemoUser]:
    return [
        DemoUser(
            tautulli_user_id=u["tautulli_user_id"],
            username=u["username"],
            friendly_name=u["friendly_name"],
            is_owner=bool(u.get("owner", False)),
            history=tuple(Viewing(**v) for v in u["history"]),
        )
        for u in read_json("household.json")["users"]
    ]


def load_libraries(catalog: list[ItemFacts]) -> list[DemoLibrary]:
    """A library that lists `tmdb_ids` holds exactly those titles; the one that does not holds
    every other catalog title but those `not_on_server`."""
    household = read_json("household.json")
    specs = household["libraries"]
    by_tmdb = {facts.tmdb_id: facts for facts in catalog}
    shelved = [int(i) for spec in specs for i in spec.get("tmdb_ids", [])]
    elsewhere = {int(i) for i in household.get("not_on_server", [])}
    if elsewhere & set(shelved) or elsewhere - by_tmdb.keys():
        raise ValueError("household.json: not_on_server must list catalog titles no library lists")
    listed = set(shelved)
    if len(listed) != len(shelved):
        # A title in two libraries would need two rating keys; rating_key() gives one.
        raise ValueError("household.json lists a tmdb_id in more than one library")
    if missing := listed - by_tmdb.keys():
        raise ValueError(f"household.json lists tmdb_ids missing from the catalog: {missing}")
    if not all(str(spec["key"]).isdecimal() for spec in specs):
        raise ValueError('household.json library keys are Plex section numbers, e.g. "1"')
    if sum("tmdb_ids" not in spec for spec in specs) != 1:
        raise ValueError("household.json needs exactly one library without tmdb_ids")
    off_shelf = listed | elsewhere
    rest = tuple(facts for facts in catalog if facts.tmdb_id not in off_shelf)
    return [
        DemoLibrary(
            key=spec["key"],
            title=spec["title"],
            shared=bool(spec["shared"]),
            video_resolution=spec["video_resolution"],
            titles=(
                tuple(by_tmdb[int(i)] for i in spec["tmdb_ids"]) if "tmdb_ids" in spec else rest
            ),
        )
        for spec in specs
    ]


def owner_of(household: list[DemoUser]) -> DemoUser:
    owners = [member for member in household if member.is_owner]
    if len(owners) != 1:
        raise ValueError('household.json needs exactly one user with "owner": true')
    return owners[0]


def rating_key(tmdb_id: int) -> str:
    """Unique on the server because every title sits in exactly one library."""
    return f"9{tmdb_id}"


def viewing_payloads(
    user: DemoUser, viewing: Viewing, item: ItemFacts, library: DemoLibrary
) -> list[dict[str, str]]:
    """What Tautulli sends for one viewing: play, then stop, then watched when it was finished."""
    runtime_min = item.runtime or 100
    started = (ANCHOR - timedelta(days=viewing.days_ago)).replace(hour=viewing.hour)
    stopped = started + timedelta(minutes=runtime_min * viewing.progress / 100)
    session = f"{user.tautulli_user_id}-{item.tmdb_id}-{viewing.days_ago}"
    payloads = [
        tautulli_payload(user, item, library, "play", started, 0, session),
        tautulli_payload(user, item, library, "stop", stopped, viewing.progress, session),
    ]
    if viewing.progress >= 85:
        payloads.append(
            tautulli_payload(user, item, library, "watched", stopped, viewing.progress, session)
        )
    return payloads


def tautulli_payload(
    user: DemoUser,
    item: ItemFacts,
    library: DemoLibrary,
    action: str,
    when: datetime,
    progress: int,
    session: str,
) -> dict[str, str]:
    """The recommended template, rendered the way Tautulli renders it: every value a string."""
    runtime_min = item.runtime or 100
    return {
        "source": "tautulli",
        "action": action,
        "timestamp": str(int(when.timestamp())),
        "utctime": when.replace(tzinfo=None).isoformat(),
        "server_id": SERVER_ID,
        "user_id": user.tautulli_user_id,
        "username": user.username,
        "user": user.friendly_name,
        "session_id": session,
        "session_key": session,
        "media_type": "movie",
        "library_name": library.title,
        "section_id": library.key,
        "rating_key": rating_key(item.tmdb_id),
        "parent_rating_key": "",
        "grandparent_rating_key": "",
        "title": item.title,
        "show_name": "",
        "year": str(item.year or ""),
        "imdb_id": "",
        "themoviedb_id": str(item.tmdb_id),
        "thetvdb_id": "",
        "genres": ", ".join(item.genres),
        "progress_percent": str(progress),
        "view_offset": str(runtime_min * 60_000 * progress // 100),
        "duration_ms": str(runtime_min * 60_000),
        "duration": str(runtime_min),
    }
