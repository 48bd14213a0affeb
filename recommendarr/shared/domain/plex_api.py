"""Parsing Plex Media Server JSON and plex.tv responses into media-server shapes.

Quirks handled here (see the fixtures' README): section keys are strings and `hidden` is 0/1;
external ids live in `Guid[]` only when the listing asked for includeGuids=1, otherwise (and on
legacy agents) in the single `guid`; `userRating` is the token owner's; plex.tv's
shared_servers is XML with one <SharedServer userID=…> per friend and per-section `shared` flags.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from recommendarr.shared.domain.json_shapes import (
    MalformedResponse,
    json_object,
    objects,
    optional_float,
    optional_int,
    required_text,
    text,
    unix_time,
)
from recommendarr.shared.domain.json_shapes import flag as json_flag
from recommendarr.shared.domain.json_shapes import names as genre_names
from recommendarr.shared.domain.media_server import (
    ALL,
    Access,
    AllLibraries,
    Library,
    LibraryItem,
    ServerInfo,
    ServerUser,
    external_ids,
)

MEDIA_TYPES = {"movie": "movie", "show": "tv"}


@dataclass(frozen=True)
class ItemsPage:
    items: list[LibraryItem]
    returned: int  # Metadata entries on this page, titles or not (the paging cursor moves by it)
    total: int | None


@dataclass(frozen=True)
class SharedUser:
    user: ServerUser
    access: Access


def container(payload: object, where: str) -> dict[str, Any]:
    return json_object(json_object(payload, where).get("MediaContainer"), f"{where}.MediaContainer")


def parse_server_info(payload: object) -> ServerInfo:
    """GET / (or /identity, which lacks the friendly name)."""
    root = container(payload, "server")
    return ServerInfo(
        kind="plex",
        machine_id=required_text(root, "machineIdentifier", "MediaContainer"),
        name=text(root.get("friendlyName")),
        version=text(root.get("version")),
    )


def parse_sections(payload: object) -> list[Library]:
    directories = objects(container(payload, "sections").get("Directory"), "Directory")
    return [
        Library(
            key=required_text(d, "key", "Directory"),
            name=text(d.get("title")),
            kind=text(d.get("type")),
            language=text(d.get("language")) or None,
            hidden=json_flag(d.get("hidden")),
        )
        for d in directories
    ]


def parse_items_page(payload: object) -> ItemsPage:
    """One page of /library/sections/{key}/all?includeGuids=1; entries other than movies and
    shows (e.g. collections) are not titles and are left out."""
    root = container(payload, "items")
    entries = objects(root.get("Metadata"), "Metadata")
    items = [item for item in (parse_item(e) for e in entries) if item is not None]
    return ItemsPage(items=items, returned=len(entries), total=optional_int(root.get("totalSize")))


def parse_item(entry: dict[str, Any]) -> LibraryItem | None:
    media_type = MEDIA_TYPES.get(text(entry.get("type")))
    if media_type is None:
        return None
    ids = external_ids(item_guids(entry))
    return LibraryItem(
        rating_key=required_text(entry, "ratingKey", "Metadata"),
        media_type=media_type,
        tmdb_id=ids.tmdb_id,
        imdb_id=ids.imdb_id,
        tvdb_id=ids.tvdb_id,
        title=text(entry.get("title")),
        year=optional_int(entry.get("year")),
        genres=genre_names(entry.get("Genre")),
        added_at=unix_time(entry.get("addedAt")),
        user_rating=optional_float(entry.get("userRating")),
        file_size=file_size(entry),
        media_info=media_info(entry),
    )


def item_guids(entry: dict[str, Any]) -> list[str]:
    guids = [text(g.get("id")) for g in objects(entry.get("Guid"), "Guid")]
    return [*guids, text(entry.get("guid"))]


def first_media(entry: dict[str, Any]) -> dict[str, Any] | None:
    media = objects(entry.get("Media"), "Media")
    return media[0] if media else None


def file_size(entry: dict[str, Any]) -> int | None:
    media = first_media(entry)
    if media is None:
        return None
    sizes = [optional_int(p.get("size")) for p in objects(media.get("Part"), "Part")]
    known = [s for s in sizes if s is not None]
    return sum(known) if known else None


def media_info(entry: dict[str, Any]) -> dict[str, Any]:
    media = first_media(entry)
    if media is None:
        return {}
    wanted = ("videoResolution", "videoCodec", "audioCodec", "audioChannels", "container")
    return {k: media[k] for k in wanted if k in media and media[k] not in (None, "")}


def parse_metadata(payload: object) -> dict[str, Any] | None:
    """GET /library/metadata/{key}: the raw first Metadata entry; None when there is none."""
    entries = objects(container(payload, "metadata").get("Metadata"), "Metadata")
    return entries[0] if entries else None


def parse_account(payload: object) -> ServerUser:
    """plex.tv GET /api/v2/user (JSON): the account that owns the token, i.e. the server owner."""
    account = json_object(payload, "user")
    username = required_text(account, "username", "user")
    return ServerUser(
        kind="plex",
        key=required_text(account, "id", "user"),
        username=username,
        friendly_name=text(account.get("friendlyName")) or text(account.get("title")) or username,
        is_owner=True,
    )


def parse_shared_servers(xml_text: str) -> list[SharedUser]:
    """plex.tv GET /api/servers/{machineIdentifier}/shared_servers (XML, owner token)."""
    try:
        # The body comes from plex.tv over the owner's authenticated connection; the stdlib's
        # expat (>= 2.4.1) refuses entity expansion bombs and never fetches external entities.
        root = ET.fromstring(xml_text)  # noqa: S314
    except ET.ParseError as exc:
        raise MalformedResponse(f"shared_servers is not XML ({exc})") from exc
    if root.tag != "MediaContainer":
        raise MalformedResponse(f"shared_servers root is <{root.tag}>, not <MediaContainer>")
    return [parse_shared_server(element) for element in root.iter("SharedServer")]


def parse_shared_server(element: ET.Element) -> SharedUser:
    user_id = (element.get("userID") or "").strip()
    if not user_id:
        raise MalformedResponse("SharedServer.userID is missing")
    username = (element.get("username") or "").strip() or user_id
    if xml_flag(element.get("allLibraries")):
        library_keys: frozenset[str] | AllLibraries = ALL
    else:
        library_keys = frozenset(
            key
            for section in element.iter("Section")
            if xml_flag(section.get("shared")) and (key := (section.get("key") or "").strip())
        )
    return SharedUser(
        user=ServerUser("plex", user_id, username, username, is_owner=False),
        access=Access(user_id, library_keys),
    )


def xml_flag(value: str | None) -> bool:
    return (value or "").strip() in ("1", "true")
