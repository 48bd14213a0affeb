"""Parsing Tautulli API v2 answers, and turning a history row into a webhook-shaped body.

Every answer is wrapped as {"response": {"result": "success"|"error", "message", "data"}}.
History rows carry ids as numbers but a movie's missing parent keys as "", `watched_status` as
0/0.25/…/1, and only the Plex guid: TMDB/IMDb/TVDB ids come from get_metadata's `guids` (for
an episode, `grandparent_guids`, the show's, which is what the webhook template sends too).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from recommendarr.shared.domain.events import PlaybackEvent, WebhookEvent
from recommendarr.shared.domain.json_shapes import (
    MalformedResponse,
    json_list,
    json_object,
    objects,
    optional_float,
    optional_int,
    required_text,
    text,
    unix_time,
)
from recommendarr.shared.domain.json_shapes import names as genre_names
from recommendarr.shared.domain.media_server import (
    Access,
    ExternalIds,
    HistoryRow,
    Library,
    ServerUser,
    external_ids,
)
from recommendarr.shared.domain.tautulli import parse_tautulli

HISTORY_SOURCE = "tautulli_history"
VIDEO_TYPES = frozenset({"movie", "episode"})
# Tautulli's default "watched" threshold, used only when a row lacks watched_status.
WATCHED_PERCENT = 85
# Whose ids a title's row names: an episode is ranked as its show, a season likewise.
GUIDS_FIELD = {"episode": "grandparent_guids", "season": "parent_guids"}


class TautulliError(ValueError):
    """Tautulli answered result "error"; the message is Tautulli's own (it never holds the key)."""


@dataclass(frozen=True)
class TautulliHistoryRow(HistoryRow):
    username: str = ""
    friendly_name: str = ""
    full_title: str = ""
    grandparent_title: str = ""
    parent_rating_key: str = ""
    grandparent_rating_key: str = ""
    year: int | None = None
    media_index: str = ""
    parent_media_index: str = ""
    guid: str = ""
    play_duration_s: int | None = None
    player: str = ""
    platform: str = ""
    product: str = ""
    machine_id: str = ""
    transcode_decision: str = ""


@dataclass(frozen=True)
class HistoryPage:
    rows: list[TautulliHistoryRow]
    returned: int
    total: int | None


@dataclass(frozen=True)
class TitleFacts:
    """What get_metadata adds to a history row: the library and the title's external ids."""

    media_type: str
    section_id: str
    library_name: str
    ids: ExternalIds
    genres: tuple[str, ...]
    duration_ms: int | None


def unwrap(payload: object) -> Any:
    response = json_object(json_object(payload, "body").get("response"), "response")
    result = text(response.get("result"))
    if result == "error":
        raise TautulliError(text(response.get("message")) or "Tautulli reported an error")
    if result != "success":
        raise MalformedResponse(f"response.result is {result!r}, not 'success'")
    return response.get("data")


def history_ref(row_id: str, stopped_unix: int) -> str:
    """Stable per play, and sortable: the newest ref is the newest play already taken in."""
    return f"{stopped_unix:012d}:{row_id}"


def ref_stopped_at(ref: str) -> datetime | None:
    stopped, _, _ = ref.partition(":")
    return datetime.fromtimestamp(int(stopped), tz=UTC) if stopped.isdecimal() else None


def parse_tautulli_history(body: bytes) -> WebhookEvent:
    """A history row that poll_tautulli rendered in the webhook template's shape: read like the
    webhook, but under its own source name, so on_watch_event can recognise the webhook's report
    of the same play (its time differs by seconds) and fold the two into one viewing."""
    event = parse_tautulli(body)
    return replace(event, source=HISTORY_SOURCE) if isinstance(event, PlaybackEvent) else event


def parse_history_page(data: object) -> HistoryPage:
    page = json_object(data, "get_history data")
    entries = objects(page.get("data"), "data")
    rows = [row for row in (parse_history_row(e) for e in entries) if row is not None]
    return HistoryPage(rows, len(entries), optional_int(page.get("recordsFiltered")))


def parse_history_row(entry: dict[str, Any]) -> TautulliHistoryRow | None:
    """A finished play; None for a session still running (rows with a `state`)."""
    stopped = unix_time(entry.get("stopped"))
    if entry.get("state") is not None or stopped is None:
        return None
    row_id = text(entry.get("row_id")) or required_text(entry, "id", "history row")
    status = optional_float(entry.get("watched_status"))
    percent = optional_int(entry.get("percent_complete"))
    watched = status >= 1 if status is not None else (percent or 0) >= WATCHED_PERCENT
    return TautulliHistoryRow(
        source=HISTORY_SOURCE,
        ref=history_ref(row_id, int(stopped.timestamp())),
        user_key=required_text(entry, "user_id", "history row"),
        item_key=required_text(entry, "rating_key", "history row"),
        title=text(entry.get("title")),
        media_type=text(entry.get("media_type")),
        stopped_at=stopped,
        percent_complete=percent,
        watched=watched,
        username=text(entry.get("user")),
        friendly_name=text(entry.get("friendly_name")),
        full_title=text(entry.get("full_title")),
        grandparent_title=text(entry.get("grandparent_title")),
        parent_rating_key=text(entry.get("parent_rating_key")),
        grandparent_rating_key=text(entry.get("grandparent_rating_key")),
        year=optional_int(entry.get("year")),
        media_index=text(entry.get("media_index")),
        parent_media_index=text(entry.get("parent_media_index")),
        guid=text(entry.get("guid")),
        play_duration_s=optional_int(entry.get("play_duration") or entry.get("duration")),
        player=text(entry.get("player")),
        platform=text(entry.get("platform")),
        product=text(entry.get("product")),
        machine_id=text(entry.get("machine_id")),
        transcode_decision=text(entry.get("transcode_decision")),
    )


def parse_metadata(data: object) -> TitleFacts | None:
    """get_metadata; None when Tautulli answers {} (Plex no longer has the item)."""
    meta = json_object(data, "get_metadata data") if data not in (None, [], "") else {}
    if not meta:
        return None
    media_type = text(meta.get("media_type"))
    guids_field = GUIDS_FIELD.get(media_type, "guids")
    guids = [text(g) for g in json_list(meta.get(guids_field), guids_field)]
    return TitleFacts(
        media_type=media_type,
        section_id=text(meta.get("section_id")),
        library_name=text(meta.get("library_name")),
        ids=external_ids(guids),
        genres=genre_names(meta.get("genres")),
        duration_ms=optional_int(meta.get("duration")),
    )


def parse_server_identity(data: object) -> str:
    """get_server_identity: documented as a one-element list, answered as an object."""
    if isinstance(data, list) and data:
        data = data[0]
    identity = json_object(data, "get_server_identity data")
    return required_text(identity, "machine_identifier", "data")


def parse_users(data: object) -> list[tuple[ServerUser, Access]]:
    """get_users: user_id is the plex.tv id (0 is Tautulli's built-in "Local" user, skipped);
    shared_libraries lists section ids as strings."""
    found = []
    for entry in objects(data, "get_users data"):
        key = text(entry.get("user_id"))
        if not key or key == "0":
            continue
        username = text(entry.get("username")) or key
        user = ServerUser(
            "plex",
            key,
            username,
            text(entry.get("friendly_name")) or username,
            is_owner=text(entry.get("is_admin")) == "1",
        )
        shared = frozenset(text(s) for s in json_list(entry.get("shared_libraries"), "shared"))
        found.append((user, Access(key, frozenset(s for s in shared if s))))
    return found


def parse_libraries(data: object) -> list[Library]:
    return [
        Library(
            key=required_text(entry, "section_id", "library"),
            name=text(entry.get("section_name")),
            kind=text(entry.get("section_type")),
        )
        for entry in objects(data, "get_libraries data")
    ]


def history_action(row: TautulliHistoryRow) -> str:
    return "watched" if row.watched else "stop"


def webhook_body(row: TautulliHistoryRow, facts: TitleFacts, server_id: str) -> dict[str, str]:
    """The row as the recommended Tautulli webhook template would have rendered it: every value
    a string, "" where a field does not apply, ids from get_metadata (the show's for episodes)."""
    episode = row.media_type == "episode"
    duration_ms = facts.duration_ms
    stopped = int(row.stopped_at.timestamp())
    return {
        "source": "tautulli",
        "action": history_action(row),
        "timestamp": str(stopped),
        "utctime": row.stopped_at.astimezone(UTC).replace(tzinfo=None).isoformat(),
        "server_id": server_id,
        "user_id": row.user_key,
        "username": row.username,
        "user": row.friendly_name,
        "session_id": "",
        "session_key": "",
        "machine_id": row.machine_id,
        "player": row.player,
        "platform": row.platform,
        "product": row.product,
        "media_type": row.media_type,
        "library_name": facts.library_name,
        "section_id": facts.section_id,
        "rating_key": row.item_key,
        "parent_rating_key": row.parent_rating_key,
        "grandparent_rating_key": row.grandparent_rating_key,
        "title": row.full_title or row.title,
        "show_name": row.grandparent_title if episode else "",
        "season_num": row.parent_media_index if episode else "",
        "episode_num": row.media_index if episode else "",
        "year": "" if row.year is None else str(row.year),
        "guid": row.guid,
        "plex_id": row.guid.rsplit("/", 1)[-1] if row.guid.startswith("plex://") else "",
        "imdb_id": facts.ids.imdb_id or "",
        "themoviedb_id": "" if facts.ids.tmdb_id is None else str(facts.ids.tmdb_id),
        "thetvdb_id": "" if facts.ids.tvdb_id is None else str(facts.ids.tvdb_id),
        "genres": ", ".join(facts.genres),
        "progress_percent": "" if row.percent_complete is None else str(row.percent_complete),
        "view_offset": "",
        "duration_ms": "" if duration_ms is None else str(duration_ms),
        "duration": "" if duration_ms is None else str(duration_ms // 60_000),
        "stream_duration_sec": "" if row.play_duration_s is None else str(row.play_duration_s),
        "transcode_decision": row.transcode_decision,
        "tautulli_history_ref": row.ref,
    }
