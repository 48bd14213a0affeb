"""The demo household: a facts-only catalog, three users, and their history as Tautulli webhooks."""

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
SERVER_ID = "demo0000000000000000000000000000000000000"
SECTION_ID = "1"
LIBRARY_NAME = "Movies"


@dataclass(frozen=True)
class Viewing:
    tmdb_id: int
    progress: int
    days_ago: int
    hour: int


@dataclass(frozen=True)
class DemoUser:
    tautulli_user_id: str
    username: str
    friendly_name: str
    history: tuple[Viewing, ...]


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
            history=tuple(Viewing(**v) for v in u["history"]),
        )
        for u in read_json("household.json")["users"]
    ]


def rating_key(tmdb_id: int) -> str:
    return f"9{tmdb_id}"


def viewing_payloads(user: DemoUser, viewing: Viewing, item: ItemFacts) -> list[dict[str, str]]:
    """What Tautulli sends for one viewing: play, then stop, then watched when it was finished."""
    runtime_min = item.runtime or 100
    started = (ANCHOR - timedelta(days=viewing.days_ago)).replace(hour=viewing.hour)
    stopped = started + timedelta(minutes=runtime_min * viewing.progress / 100)
    session = f"{user.tautulli_user_id}-{item.tmdb_id}-{viewing.days_ago}"
    payloads = [
        tautulli_payload(user, item, "play", started, 0, session),
        tautulli_payload(user, item, "stop", stopped, viewing.progress, session),
    ]
    if viewing.progress >= 85:
        payloads.append(tautulli_payload(user, item, "watched", stopped, viewing.progress, session))
    return payloads


def tautulli_payload(
    user: DemoUser, item: ItemFacts, action: str, when: datetime, progress: int, session: str
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
        "library_name": LIBRARY_NAME,
        "section_id": SECTION_ID,
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
