"""Tautulli's API v2: GET /api/v2?apikey=…&cmd=…, every answer wrapped in {"response": …}."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import httpx

from recommendarr.settings import Settings
from recommendarr.shared.clients.media_http import UpstreamHTTP
from recommendarr.shared.domain import tautulli_api
from recommendarr.shared.domain.media_server import Access, Library, ServerUser
from recommendarr.shared.errors import NotFound, Permanent

DEFAULT_PAGE_SIZE = 500
MAX_PAGES = 1_000
# `after` compares with the date in Tautulli's own time zone: start a day early, the inbox's
# unique history ref drops what was already taken in.
AFTER_MARGIN = timedelta(days=1)


class TautulliClient:
    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        api_key: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = UpstreamHTTP(
            http,
            "Tautulli",
            base_url,
            {"Accept": "application/json"},
            "TAUTULLI_API_KEY",
            sleep=sleep,
        )
        self.api_key = api_key
        self.page_size = page_size

    def call(self, cmd: str, **params: str | int) -> Any:
        payload = self.api.get_json("/api/v2", {"apikey": self.api_key, "cmd": cmd, **params})
        try:
            return self.api.parse(tautulli_api.unwrap, payload)
        except tautulli_api.TautulliError as exc:
            message = str(exc).replace(self.api_key, "***") if self.api_key else str(exc)
            raise Permanent(f"Tautulli refused {cmd}: {message}") from None

    def get_history(
        self, start: int = 0, length: int | None = None, after: date | None = None
    ) -> tautulli_api.HistoryPage:
        params: dict[str, str | int] = {
            # Grouping merges consecutive plays into one row whose id changes; ask for raw rows.
            "grouping": 0,
            "order_column": "date",
            "order_dir": "asc",
            "start": start,
            "length": length or self.page_size,
        }
        if after is not None:
            params["after"] = after.isoformat()
        return self.api.parse(tautulli_api.parse_history_page, self.call("get_history", **params))

    def history_since(self, since: datetime) -> Iterator[tautulli_api.TautulliHistoryRow]:
        """Every finished play from the day before `since` on, oldest first, all pages."""
        after = (since - AFTER_MARGIN).date()
        start = 0
        for _ in range(MAX_PAGES):
            page = self.get_history(start, after=after)
            yield from page.rows
            start += page.returned
            if page.returned == 0 or page.total is None or start >= page.total:
                return

    def get_users(self) -> list[tuple[ServerUser, Access]]:
        return self.api.parse(tautulli_api.parse_users, self.call("get_users"))

    def get_libraries(self) -> list[Library]:
        return self.api.parse(tautulli_api.parse_libraries, self.call("get_libraries"))

    def get_metadata(self, rating_key: str) -> tautulli_api.TitleFacts:
        data = self.call("get_metadata", rating_key=rating_key)
        facts = self.api.parse(tautulli_api.parse_metadata, data)
        if facts is None:
            raise NotFound(f"Tautulli knows no item {rating_key} (gone from Plex?)")
        return facts

    def get_server_identity(self) -> str:
        """The Plex machine identifier of the server Tautulli watches."""
        data = self.call("get_server_identity")
        return self.api.parse(tautulli_api.parse_server_identity, data)

    def check(self) -> str:
        libraries = self.get_libraries()
        names = ", ".join(lib.name for lib in libraries) or "none"
        return f"Tautulli reachable; it tracks {len(libraries)} libraries ({names})"


def build_tautulli(settings: Settings, http: httpx.Client) -> TautulliClient | None:
    if not settings.tautulli_url or settings.tautulli_api_key is None:
        return None
    return TautulliClient(http, settings.tautulli_url, settings.tautulli_api_key.get_secret_value())
