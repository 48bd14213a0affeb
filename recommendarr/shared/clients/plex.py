"""Plex Media Server and plex.tv: identity, libraries, titles, users and who may open what.

The server answers JSON when asked with `Accept: application/json`; plex.tv's shared_servers is
XML only. The owner's token (PLEX_TOKEN) reads both; the owner's plex.tv account id is the same
id Tautulli and shared_servers use, while Plex webhooks call the owner 1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from recommendarr.settings import Settings
from recommendarr.shared.clients.media_http import UpstreamHTTP
from recommendarr.shared.domain import plex_api
from recommendarr.shared.domain.media_server import (
    ALL,
    Access,
    Library,
    LibraryItem,
    Rating,
    ServerInfo,
    ServerUser,
)
from recommendarr.shared.errors import NotFound

CLIENT_HEADERS = {
    "Accept": "application/json",
    "X-Plex-Product": "Recommendarr",
    "X-Plex-Client-Identifier": "recommendarr",
}
DEFAULT_PAGE_SIZE = 200
# A library of 200 000 titles; a server that keeps paging past that is misbehaving.
MAX_PAGES = 1_000


class PlexClient:
    kind = "plex"

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        token: str,
        plex_tv_url: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {**CLIENT_HEADERS, "X-Plex-Token": token}
        self.server = UpstreamHTTP(
            http, "Plex Media Server", base_url, headers, "PLEX_TOKEN", sleep=sleep
        )
        self.plex_tv = UpstreamHTTP(
            http, "plex.tv", plex_tv_url, headers, "PLEX_TOKEN (the server owner's)", sleep=sleep
        )
        self.page_size = page_size

    def server_info(self) -> ServerInfo:
        return self.server.parse(plex_api.parse_server_info, self.server.get_json("/"))

    def libraries(self) -> list[Library]:
        return self.server.parse(plex_api.parse_sections, self.server.get_json("/library/sections"))

    def library_items(self, library_key: str) -> list[LibraryItem]:
        items: list[LibraryItem] = []
        start = 0
        for _ in range(MAX_PAGES):
            payload = self.server.get_json(
                f"/library/sections/{quote(library_key, safe='')}/all",
                {"includeGuids": 1},
                {
                    "X-Plex-Container-Start": str(start),
                    "X-Plex-Container-Size": str(self.page_size),
                },
            )
            page = self.server.parse(plex_api.parse_items_page, payload)
            items += page.items
            start += page.returned
            # Without totalSize the server ignored the paging headers and sent everything.
            if page.returned == 0 or page.total is None or start >= page.total:
                break
        return items

    def page_headers(self, start: int) -> dict[str, str]:
        return {"X-Plex-Container-Start": str(start), "X-Plex-Container-Size": str(self.page_size)}

    def owner(self) -> ServerUser:
        return self.plex_tv.parse(plex_api.parse_account, self.plex_tv.get_json("/api/v2/user"))

    def shared_users(self, machine_id: str | None = None) -> list[plex_api.SharedUser]:
        machine_id = machine_id or self.server_info().machine_id
        body = self.plex_tv.get_text(
            f"/api/servers/{quote(machine_id, safe='')}/shared_servers",
            headers={"Accept": "application/xml"},
        )
        return self.plex_tv.parse(plex_api.parse_shared_servers, body)

    def users(self) -> list[ServerUser]:
        return [self.owner(), *(shared.user for shared in self.shared_users())]

    def access(self) -> list[Access]:
        """The owner opens everything; a friend exactly the sections shared with them."""
        owner = Access(self.owner().key, ALL)
        return [owner, *(shared.access for shared in self.shared_users())]

    def metadata(self, rating_key: str) -> dict[str, Any]:
        """GET /library/metadata/{key}?includeGuids=1: the raw Metadata[0] (an episode carries
        grandparentRatingKey/grandparentGuid, which lift it to its show)."""
        payload = self.server.get_json(
            f"/library/metadata/{quote(rating_key, safe='')}", {"includeGuids": 1}
        )
        entry = self.server.parse(plex_api.parse_metadata, payload)
        if entry is None:
            raise NotFound(f"{self.server.describe()} has no item {rating_key}")
        return entry

    def ratings(self) -> list[Rating]:
        """Star ratings in item lists are the token's user's, i.e. the owner's."""
        owner = self.owner().key
        return [
            Rating(owner, item.rating_key, item.user_rating)
            for library in self.libraries()
            if library.holds_titles
            for item in self.library_items(library.key)
            if item.user_rating is not None
        ]

    def check(self) -> str:
        info = self.server_info()
        libraries = [lib.name for lib in self.libraries() if lib.holds_titles]
        owner = self.owner()
        return (
            f"Plex Media Server '{info.name}' reachable (version {info.version or 'unknown'}, "
            f"{len(libraries)} movie/TV libraries); plex.tv account '{owner.username}'"
        )


def build_plex(settings: Settings, http: httpx.Client) -> PlexClient | None:
    if not settings.plex_url or settings.plex_token is None:
        return None
    return PlexClient(
        http, settings.plex_url, settings.plex_token.get_secret_value(), settings.plex_tv_url
    )
