"""Jellyfin's REST API with an admin API key: identity, libraries, titles, users, activity."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx

from recommendarr.settings import Settings
from recommendarr.shared.clients.media_http import UpstreamHTTP
from recommendarr.shared.domain import jellyfin_api
from recommendarr.shared.domain.json_shapes import json_object
from recommendarr.shared.domain.media_server import (
    Access,
    HistoryRow,
    Library,
    LibraryItem,
    Rating,
    ServerInfo,
    ServerUser,
)

DEFAULT_PAGE_SIZE = 200
MAX_PAGES = 1_000
ITEM_QUERY = {
    "Recursive": "true",
    "IncludeItemTypes": "Movie,Series",
    "Fields": "ProviderIds,Genres,DateCreated",
    # A fixed order keeps StartIndex paging stable while the library changes.
    "SortBy": "SortName",
    "SortOrder": "Ascending",
}


class JellyfinClient:
    kind = "jellyfin"

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        api_key: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {
            "Accept": "application/json",
            "Authorization": f'MediaBrowser Token="{api_key}"',
        }
        self.api = UpstreamHTTP(
            http, "Jellyfin", base_url, headers, "JELLYFIN_API_KEY", sleep=sleep
        )
        self.page_size = page_size

    def server_info(self) -> ServerInfo:
        return self.api.parse(jellyfin_api.parse_system_info, self.api.get_json("/System/Info"))

    def libraries(self) -> list[Library]:
        payload = self.api.get_json("/Library/VirtualFolders")
        return self.api.parse(jellyfin_api.parse_virtual_folders, payload)

    def library_items(self, library_key: str) -> list[LibraryItem]:
        pages = self.item_pages({**ITEM_QUERY, "ParentId": library_key})
        return [item for _, page in pages for item in page.items]

    def item_pages(self, query: dict[str, str]) -> Iterator[tuple[Any, jellyfin_api.ItemsPage]]:
        """(raw payload, parsed page) for each page of an /Items query."""
        start = 0
        for _ in range(MAX_PAGES):
            payload = self.api.get_json(
                "/Items", {**query, "StartIndex": start, "Limit": self.page_size}
            )
            page = self.api.parse(jellyfin_api.parse_items_page, payload)
            yield payload, page
            start += page.returned
            if page.returned == 0 or page.total is None or start >= page.total:
                return

    def users_with_access(self) -> list[jellyfin_api.UserWithAccess]:
        return self.api.parse(jellyfin_api.parse_users, self.api.get_json("/Users"))

    def users(self) -> list[ServerUser]:
        return [entry.user for entry in self.users_with_access()]

    def access(self) -> list[Access]:
        return [entry.access for entry in self.users_with_access()]

    def item(self, item_id: str) -> dict[str, Any]:
        """GET /Items/{id}: the raw item, ProviderIds included (a series' TMDB/TVDB ids)."""
        payload = self.api.get_json(f"/Items/{quote(item_id, safe='')}")
        return self.api.parse(lambda p: json_object(p, "Item"), payload)

    def ratings(self) -> list[Rating]:
        """Each user's stars and favourites; UserData is only filled when a user is named."""
        found: list[Rating] = []
        for user in self.users():
            query = {**ITEM_QUERY, "userId": user.key}
            for payload, _ in self.item_pages(query):
                found += self.api.parse(
                    partial(jellyfin_api.parse_ratings, user_key=user.key), payload
                )
        return found

    def history_since(self, since: datetime) -> Iterator[HistoryRow]:
        """Finished plays from the activity log (newest first, as Jellyfin pages it)."""
        start = 0
        min_date = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        for _ in range(MAX_PAGES):
            payload = self.api.get_json(
                "/System/ActivityLog/Entries",
                {"startIndex": start, "limit": self.page_size, "minDate": min_date},
            )
            page = self.api.parse(jellyfin_api.parse_activity_page, payload)
            yield from page.rows
            start += page.returned
            if page.returned == 0 or page.total is None or start >= page.total:
                return

    def check(self) -> str:
        info = self.server_info()
        libraries = [lib.name for lib in self.libraries() if lib.holds_titles]
        return (
            f"Jellyfin server '{info.name}' reachable (version {info.version or 'unknown'}, "
            f"{len(libraries)} movie/TV libraries)"
        )


def build_jellyfin(settings: Settings, http: httpx.Client) -> JellyfinClient | None:
    if not settings.jellyfin_url or settings.jellyfin_api_key is None:
        return None
    return JellyfinClient(http, settings.jellyfin_url, settings.jellyfin_api_key.get_secret_value())
