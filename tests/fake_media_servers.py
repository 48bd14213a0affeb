"""Loopback Plex, plex.tv, Jellyfin and Tautulli that answer with the fixtures' shapes.

Each fake checks its credential the way the real service does, pages like it, and misbehaves
on cue (`mode`: error → 500, slow → 1 s delay, garbage → 200 with HTML; `throttle_next` answers
429 with Retry-After that many times).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import httpx

from recommendarr.shared import resources
from recommendarr.shared.clients.jellyfin import JellyfinClient
from recommendarr.shared.clients.plex import PlexClient
from recommendarr.shared.clients.tautulli import TautulliClient
from tests.conftest import fixture_bytes

PLEX_TOKEN = "plex-owner-token-abc123"
JELLYFIN_KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TAUTULLI_KEY = "tautulli-api-key-78c1d2e3f4a5"
MACHINE_ID = "5b4e9c1a7d3f2e8b6a0c9d1e2f3a4b5c6d7e8f90"


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload).encode())


def fixture_json(name: str) -> Any:
    return json.loads(fixture_bytes(name))


class FakeUpstream:
    def __init__(self, authorized: Callable[[Seen], bool], unauthorized: Reply) -> None:
        self.routes: dict[str, Callable[[Seen], Reply]] = {}
        self.seen: list[Seen] = []
        self.mode = "ok"
        self.throttle_next = 0
        self.retry_after = "1"
        self.authorized = authorized
        self.unauthorized = unauthorized
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_class())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                seen = Seen(url.path, dict(parse_qsl(url.query)), dict(self.headers.items()))
                fake.seen.append(seen)
                reply = fake.answer(seen)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                return

        return Handler

    def answer(self, seen: Seen) -> Reply:
        if not self.authorized(seen):
            return self.unauthorized
        if self.throttle_next > 0:
            self.throttle_next -= 1
            return Reply(429, b"Too Many Requests", "text/plain", {"Retry-After": self.retry_after})
        if self.mode == "error":
            return Reply(500, b"Internal Server Error", "text/plain")
        if self.mode == "garbage":
            return Reply(200, b"<html>Please sign in</html>", "text/html")
        if self.mode == "slow":
            time.sleep(1.0)
        handler = self.routes.get(seen.path)
        if handler is None:
            return Reply(404, b"404 Not Found", "text/plain")
        return handler(seen)

    @contextmanager
    def running(self) -> Iterator[Self]:
        thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]


def paged_container(payload: dict[str, Any], start: int, size: int | None) -> dict[str, Any]:
    """Plex pages with X-Plex-Container-Start/Size and reports the whole count in totalSize."""
    page = copy.deepcopy(payload)
    metadata = page["MediaContainer"].get("Metadata", [])
    chosen = metadata[start : start + size] if size is not None else metadata[start:]
    page["MediaContainer"].update(
        Metadata=chosen, size=len(chosen), offset=start, totalSize=len(metadata)
    )
    return page


class FakePlex(FakeUpstream):
    def __init__(self) -> None:
        super().__init__(
            lambda s: s.headers.get("X-Plex-Token") == PLEX_TOKEN,
            Reply(401, b"<html><head><title>Unauthorized</title></head></html>", "text/html"),
        )
        self.sections = fixture_json("plex/library_sections.json")
        self.section_items = {
            "1": fixture_json("plex/library_section_all_movies.json"),
            "2": fixture_json("plex/library_section_all_shows.json"),
        }
        self.routes.update(
            {
                "/": lambda s: json_reply(fixture_json("plex/root.json")),
                "/library/sections": lambda s: json_reply(self.sections),
                "/library/metadata/40294": lambda s: json_reply(
                    fixture_json("plex/library_metadata_episode.json")
                ),
                "/library/metadata/99999": lambda s: json_reply(
                    {"MediaContainer": {"size": 0, "Metadata": []}}
                ),
            }
        )
        for key in ("1", "2"):
            self.routes[f"/library/sections/{key}/all"] = self.items_for(key)

    def items_for(self, key: str) -> Callable[[Seen], Reply]:
        def reply(seen: Seen) -> Reply:
            start = int(seen.headers.get("X-Plex-Container-Start", "0"))
            size = seen.headers.get("X-Plex-Container-Size")
            payload = self.section_items[key]
            if seen.query.get("includeGuids") != "1":
                payload = copy.deepcopy(payload)
                for entry in payload["MediaContainer"]["Metadata"]:
                    entry.pop("Guid", None)
            return json_reply(paged_container(payload, start, int(size) if size else None))

        return reply


class FakePlexTv(FakeUpstream):
    def __init__(self) -> None:
        super().__init__(
            lambda s: s.headers.get("X-Plex-Token") == PLEX_TOKEN,
            Reply(401, b'{"errors":[{"code":1001,"message":"User could not be authenticated"}]}'),
        )
        self.shared_servers_xml = fixture_bytes("plex/shared_servers.xml").decode()
        self.routes.update(
            {
                "/api/v2/user": lambda s: json_reply(fixture_json("plex/plex_tv_user.json")),
                f"/api/servers/{MACHINE_ID}/shared_servers": lambda s: Reply(
                    200, self.shared_servers_xml.encode(), "application/xml"
                ),
            }
        )


MOVIES_FOLDER = "7e64e319657a9516ec78490da03edccb"
SHOWS_FOLDER = "f137a2dd21bbc1b99aa5c0f6bf02a805"


class FakeJellyfin(FakeUpstream):
    def __init__(self) -> None:
        super().__init__(
            lambda s: (
                s.headers.get("Authorization") == f'MediaBrowser Token="{JELLYFIN_KEY}"'
                or s.headers.get("X-Emby-Token") == JELLYFIN_KEY
            ),
            Reply(401, b"", "text/plain"),
        )
        items = fixture_json("jellyfin/items.json")["Items"]
        self.items = {
            MOVIES_FOLDER: [i for i in items if i["Type"] == "Movie"],
            SHOWS_FOLDER: [i for i in items if i["Type"] == "Series"],
        }
        self.users = fixture_json("jellyfin/users.json")
        self.routes.update(
            {
                "/System/Info": lambda s: json_reply(fixture_json("jellyfin/system_info.json")),
                "/Library/VirtualFolders": lambda s: json_reply(
                    fixture_json("jellyfin/virtual_folders.json")
                ),
                "/Users": lambda s: json_reply(self.users),
                "/Items": self.items_page,
                "/System/ActivityLog/Entries": self.activity_page,
            }
        )
        self.activity = fixture_json("jellyfin/activity_log_entries.json")["Items"]
        for entry in items:
            self.routes[f"/Items/{entry['Id']}"] = partial(item_reply, entry)

    def activity_page(self, seen: Seen) -> Reply:
        start = int(seen.query.get("startIndex", "0"))
        limit = int(seen.query.get("limit", "100"))
        page = self.activity[start : start + limit]
        return json_reply(
            {"Items": page, "TotalRecordCount": len(self.activity), "StartIndex": start}
        )

    def items_page(self, seen: Seen) -> Reply:
        parent = seen.query.get("ParentId")
        entries = (
            self.items.get(parent, [])
            if parent
            else [i for folder in self.items.values() for i in folder]
        )
        if "userId" not in seen.query:
            # UserData only comes back when the request names a user.
            entries = [{k: v for k, v in e.items() if k != "UserData"} for e in entries]
        start = int(seen.query.get("StartIndex", "0"))
        limit = int(seen.query.get("Limit", "1000"))
        page = entries[start : start + limit]
        return json_reply({"Items": page, "TotalRecordCount": len(entries), "StartIndex": start})


def item_reply(entry: dict[str, Any], seen: Seen) -> Reply:
    return json_reply(entry)


def tautulli_wrap(data: Any, result: str = "success", message: str | None = None) -> Reply:
    return json_reply({"response": {"result": result, "message": message, "data": data}})


class FakeTautulli(FakeUpstream):
    def __init__(self) -> None:
        super().__init__(
            lambda s: s.path != "/api/v2" or s.query.get("apikey") == TAUTULLI_KEY,
            Reply(
                401,
                json.dumps(
                    {"response": {"result": "error", "message": "Invalid apikey", "data": {}}}
                ).encode(),
            ),
        )
        history = fixture_json("tautulli/api_get_history.json")["response"]["data"]
        self.history_rows: list[dict[str, Any]] = history["data"]
        self.metadata = {
            "38211": fixture_json("tautulli/api_get_metadata.json")["response"]["data"],
            "40294": fixture_json("tautulli/api_get_metadata_episode.json")["response"]["data"],
        }
        self.routes["/api/v2"] = self.api

    def api(self, seen: Seen) -> Reply:
        cmd = seen.query.get("cmd", "")
        if cmd == "get_history":
            return tautulli_wrap(self.history(seen.query))
        if cmd == "get_metadata":
            return tautulli_wrap(self.metadata.get(seen.query.get("rating_key", ""), {}))
        if cmd in ("get_users", "get_libraries", "get_server_identity"):
            return json_reply(fixture_json(f"tautulli/api_{cmd}.json"))
        return tautulli_wrap({}, "error", f"Unknown command: {cmd}")

    def history(self, query: dict[str, str]) -> dict[str, Any]:
        rows = sorted(self.history_rows, key=lambda r: (r["date"], r["id"]))
        if query.get("order_dir", "desc") == "desc":
            rows.reverse()
        if "after" in query:
            after = date.fromisoformat(query["after"])
            rows = [r for r in rows if datetime.fromtimestamp(r["started"], UTC).date() >= after]
        start, length = int(query.get("start", "0")), int(query.get("length", "25"))
        return {
            "recordsFiltered": len(rows),
            "recordsTotal": len(self.history_rows),
            "data": rows[start : start + length],
            "draw": 1,
        }


@contextmanager
def integrations_installed(
    res: resources.Resources,
    *,
    plex: PlexClient | None = None,
    jellyfin: JellyfinClient | None = None,
    tautulli: TautulliClient | None = None,
) -> Iterator[None]:
    """Run actors with these media-server clients in the integrations (the others off)."""
    clients = replace(res.integrations, plex=plex, jellyfin=jellyfin, tautulli=tautulli)
    resources.install(replace(res, integrations=clients))
    try:
        yield
    finally:
        resources.install(res)


def plex_client(plex: FakePlex, plex_tv: FakePlexTv, page_size: int = 200) -> PlexClient:
    return PlexClient(
        httpx.Client(timeout=5.0), plex.url, PLEX_TOKEN, plex_tv.url, page_size=page_size
    )


def jellyfin_client(jellyfin: FakeJellyfin) -> JellyfinClient:
    return JellyfinClient(httpx.Client(timeout=5.0), jellyfin.url, JELLYFIN_KEY)


def tautulli_client(tautulli: FakeTautulli, page_size: int = 500) -> TautulliClient:
    return TautulliClient(
        httpx.Client(timeout=5.0), tautulli.url, TAUTULLI_KEY, page_size=page_size
    )
