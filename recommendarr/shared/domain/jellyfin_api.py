"""Parsing Jellyfin REST responses into media-server shapes.

Quirks handled here (see the fixtures' README): the REST API writes guids as 32 hex digits while
webhook templates write them hyphenated, so every id is normalized; dates have 7 fractional
digits; library access is `Policy.EnableAllFolders` or the folder ids in `Policy.EnabledFolders`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recommendarr.shared.domain.json_shapes import flag as json_flag
from recommendarr.shared.domain.json_shapes import (
    iso_time,
    json_object,
    objects,
    optional_float,
    optional_int,
    required_text,
    text,
)
from recommendarr.shared.domain.json_shapes import names as genre_names
from recommendarr.shared.domain.media_server import (
    ALL,
    Access,
    AllLibraries,
    HistoryRow,
    Library,
    LibraryItem,
    Rating,
    ServerInfo,
    ServerUser,
    positive_int,
)

COLLECTION_KINDS = {"movies": "movie", "tvshows": "show", "mixed": "mixed", "": "mixed"}
ITEM_TYPES = {"Movie": "movie", "Series": "tv"}
PLAYBACK_STOPPED = "VideoPlaybackStopped"


@dataclass(frozen=True)
class ItemsPage:
    items: list[LibraryItem]
    returned: int
    total: int | None


@dataclass(frozen=True)
class UserWithAccess:
    user: ServerUser
    access: Access


@dataclass(frozen=True)
class ActivityPage:
    rows: list[HistoryRow]
    returned: int
    total: int | None


def normalize_guid(value: str) -> str:
    """Webhooks write guids hyphenated, the REST API as 32 hex digits: compare them bare."""
    return value.replace("-", "").strip().lower()


def parse_system_info(payload: object) -> ServerInfo:
    """GET /System/Info."""
    info = json_object(payload, "System/Info")
    return ServerInfo(
        kind="jellyfin",
        machine_id=normalize_guid(required_text(info, "Id", "System/Info")),
        name=text(info.get("ServerName")),
        version=text(info.get("Version")),
    )


def parse_virtual_folders(payload: object) -> list[Library]:
    """GET /Library/VirtualFolders: `ItemId` is the id users' EnabledFolders refer to."""
    folders = objects(payload, "VirtualFolders")
    return [parse_folder(folder) for folder in folders]


def parse_folder(folder: dict[str, Any]) -> Library:
    collection = text(folder.get("CollectionType")).lower()
    options = folder.get("LibraryOptions")
    language = text(options.get("PreferredMetadataLanguage")) if isinstance(options, dict) else ""
    return Library(
        key=normalize_guid(required_text(folder, "ItemId", "VirtualFolder")),
        name=text(folder.get("Name")),
        kind=COLLECTION_KINDS.get(collection, collection),
        language=language or None,
    )


def parse_items_page(payload: object) -> ItemsPage:
    """GET /Items?ParentId=…&Recursive=true&IncludeItemTypes=Movie,Series&Fields=ProviderIds,…"""
    result = json_object(payload, "Items result")
    entries = objects(result.get("Items"), "Items")
    items = [item for item in (parse_item(e) for e in entries) if item is not None]
    return ItemsPage(items, len(entries), optional_int(result.get("TotalRecordCount")))


def provider_ids(entry: dict[str, Any]) -> dict[str, str]:
    """`ProviderIds` keys are "Tmdb", "Imdb", "Tvdb" here but lower-case in some versions."""
    raw = entry.get("ProviderIds")
    if not isinstance(raw, dict):
        return {}
    return {str(k).lower(): text(v) for k, v in raw.items() if text(v)}


def parse_item(entry: dict[str, Any]) -> LibraryItem | None:
    media_type = ITEM_TYPES.get(text(entry.get("Type")))
    if media_type is None:
        return None
    ids = provider_ids(entry)
    imdb = ids.get("imdb")
    user_data = entry.get("UserData")
    rating = optional_float(user_data.get("Rating")) if isinstance(user_data, dict) else None
    return LibraryItem(
        rating_key=normalize_guid(required_text(entry, "Id", "Item")),
        media_type=media_type,
        tmdb_id=positive_int(ids.get("tmdb")),
        imdb_id=imdb if imdb and imdb.startswith("tt") else None,
        tvdb_id=positive_int(ids.get("tvdb")),
        title=text(entry.get("Name")),
        year=optional_int(entry.get("ProductionYear")),
        genres=genre_names(entry.get("Genres")),
        added_at=iso_time(entry.get("DateCreated")),
        user_rating=rating,
    )


def parse_users(payload: object) -> list[UserWithAccess]:
    """GET /Users (admin API key). A disabled account opens no library."""
    return [parse_user(entry) for entry in objects(payload, "Users")]


def parse_user(entry: dict[str, Any]) -> UserWithAccess:
    key = normalize_guid(required_text(entry, "Id", "User"))
    name = required_text(entry, "Name", "User")
    raw_policy = entry.get("Policy")
    policy: dict[str, Any] = raw_policy if isinstance(raw_policy, dict) else {}
    library_keys: frozenset[str] | AllLibraries
    if json_flag(policy.get("IsDisabled")):
        library_keys = frozenset()
    elif json_flag(policy.get("EnableAllFolders")):
        library_keys = ALL
    else:
        folders = policy.get("EnabledFolders")
        library_keys = frozenset(
            normalize_guid(text(f)) for f in folders or [] if isinstance(f, str) and text(f)
        )
    return UserWithAccess(
        user=ServerUser(
            "jellyfin", key, name, name, is_owner=json_flag(policy.get("IsAdministrator"))
        ),
        access=Access(key, library_keys),
    )


def parse_ratings(payload: object, user_key: str) -> list[Rating]:
    """Items listed with `userId=`: their UserData holds that user's rating and favourite flag."""
    ratings = []
    for entry in objects(json_object(payload, "Items result").get("Items"), "Items"):
        data = entry.get("UserData")
        if not isinstance(data, dict):
            continue
        rating = optional_float(data.get("Rating"))
        favorite = json_flag(data.get("IsFavorite"))
        if rating is not None or favorite:
            item_key = normalize_guid(required_text(entry, "Id", "Item"))
            ratings.append(Rating(user_key, item_key, rating, favorite))
    return ratings


def parse_activity_page(payload: object) -> ActivityPage:
    """GET /System/ActivityLog/Entries: finished plays become history rows; the rest is noise."""
    result = json_object(payload, "ActivityLog result")
    entries = objects(result.get("Items"), "Items")
    rows = [row for row in (activity_row(e) for e in entries) if row is not None]
    return ActivityPage(rows, len(entries), optional_int(result.get("TotalRecordCount")))


def activity_row(entry: dict[str, Any]) -> HistoryRow | None:
    if text(entry.get("Type")) != PLAYBACK_STOPPED:
        return None
    stopped = iso_time(entry.get("Date"))
    item = text(entry.get("ItemId"))
    user = text(entry.get("UserId"))
    if stopped is None or not item or not user:
        return None
    return HistoryRow(
        source="jellyfin_activity",
        ref=required_text(entry, "Id", "ActivityLogEntry"),
        user_key=normalize_guid(user),
        item_key=normalize_guid(item),
        title=text(entry.get("Name")),
        media_type="",
        stopped_at=stopped,
        percent_complete=None,
        watched=None,
    )
