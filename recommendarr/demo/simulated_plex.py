"""The demo household's Plex Media Server and plex.tv, answering in their wire formats.

Plex answers JSON `MediaContainer`s, lists a section's titles page by page
(X-Plex-Container-Start/Size, with totalSize) and puts `Guid[]` in listings only when asked
with includeGuids=1. plex.tv answers the owner's account as JSON and who may open which section
as shared_servers XML: one <SharedServer userID=…> per friend, a `shared` flag per section.
Both want the owner's X-Plex-Token (header or query), as the real ones do.
"""

from __future__ import annotations

import copy
import hashlib
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

from recommendarr.demo.household import (
    ANCHOR,
    SERVER_ID,
    SERVER_NAME,
    DemoLibrary,
    DemoUser,
    owner_of,
    rating_key,
)
from recommendarr.demo.loopback import Reply, Request, json_reply
from recommendarr.shared.domain.item_text import ItemFacts

PLEX_VERSION = "1.41.5.9522-a96edc606"
SECTION_ALL = re.compile(r"/library/sections/([^/]+)/all")
METADATA = re.compile(r"/library/metadata/([^/]+)")
# Every title was on the server well before the oldest replayed viewing.
ADDED_BEFORE_ANCHOR = timedelta(days=730)
NOT_FOUND = Reply(404, b"404 Not Found", "text/plain")


def token_of(request: Request) -> str | None:
    return request.header("X-Plex-Token") or request.query.get("X-Plex-Token")


class SimulatedPlex:
    def __init__(self, token: str, libraries: list[DemoLibrary]) -> None:
        self.token = token
        self.libraries = {library.key: library for library in libraries}
        self.listings = {
            library.key: [
                metadata_entry(library, facts, n) for n, facts in enumerate(library.titles)
            ]
            for library in libraries
        }
        self.entries = {
            entry["ratingKey"]: (self.libraries[key], entry)
            for key, listing in self.listings.items()
            for entry in listing
        }

    def answer(self, request: Request) -> Reply:
        if token_of(request) != self.token:
            return Reply(401, b"<html><head><title>Unauthorized</title></head></html>", "text/html")
        if request.path in ("/", "/identity"):
            return json_reply(identity(with_name=request.path == "/"))
        if request.path == "/library/sections":
            return json_reply(sections(list(self.libraries.values())))
        if match := SECTION_ALL.fullmatch(request.path):
            return self.section_items(match.group(1), request)
        if match := METADATA.fullmatch(request.path):
            return self.metadata(match.group(1), request)
        return NOT_FOUND

    def section_items(self, key: str, request: Request) -> Reply:
        library = self.libraries.get(key)
        if library is None:
            return NOT_FOUND
        try:
            start, size = paging(request)
        except ValueError:
            return Reply(400, b"400 Bad Request", "text/plain")
        listing = self.listings[key]
        page = listing[start : start + size] if size is not None else listing[start:]
        if request.query.get("includeGuids") != "1":
            page = [without_guids(entry) for entry in page]
        container = {
            **section_container(library),
            "size": len(page),
            "totalSize": len(listing),
            "offset": start,
            "Metadata": page,
        }
        return json_reply({"MediaContainer": container})

    def metadata(self, key: str, request: Request) -> Reply:
        found = self.entries.get(key)
        if found is None:
            return NOT_FOUND
        library, entry = found
        if request.query.get("includeGuids") != "1":
            entry = without_guids(entry)
        detailed = {
            **entry,
            "librarySectionID": int(library.key),
            "librarySectionKey": f"/library/sections/{library.key}",
            "librarySectionTitle": library.title,
        }
        return json_reply({"MediaContainer": {"size": 1, "Metadata": [detailed]}})


def paging(request: Request) -> tuple[int, int | None]:
    """Plex reads the paging window from headers or, failing that, the query string."""

    def value(name: str) -> str | None:
        return request.header(name) or request.query.get(name)

    start = int(value("X-Plex-Container-Start") or 0)
    size = value("X-Plex-Container-Size")
    if start < 0 or (size is not None and int(size) < 0):
        raise ValueError("negative paging window")
    return start, int(size) if size is not None else None


def identity(with_name: bool) -> dict[str, Any]:
    """GET / names the server; GET /identity only identifies it."""
    root: dict[str, Any] = {"size": 0, "claimed": True, "machineIdentifier": SERVER_ID}
    if with_name:
        root.update(friendlyName=SERVER_NAME, myPlex=True, platform="Linux")
    root["version"] = PLEX_VERSION
    return {"MediaContainer": root}


def sections(libraries: list[DemoLibrary]) -> dict[str, Any]:
    directories = [
        {
            "allowSync": True,
            "thumb": "/:/resources/movie.png",
            "key": library.key,
            "type": "movie",
            "title": library.title,
            "agent": "tv.plex.agents.movie",
            "scanner": "Plex Movie",
            "language": "en-US",
            "uuid": section_uuid(library),
            "content": True,
            "directory": True,
            "hidden": 0,
            "Location": [{"id": int(library.key), "path": f"/data/{slug(library.title)}"}],
        }
        for library in libraries
    ]
    return {
        "MediaContainer": {
            "size": len(directories),
            "allowSync": False,
            "title1": "Plex Library",
            "Directory": directories,
        }
    }


def section_container(library: DemoLibrary) -> dict[str, Any]:
    return {
        "allowSync": True,
        "identifier": "com.plexapp.plugins.library",
        "librarySectionID": int(library.key),
        "librarySectionTitle": library.title,
        "librarySectionUUID": section_uuid(library),
        "title1": library.title,
        "title2": "All Movies",
        "viewGroup": "movie",
    }


def metadata_entry(library: DemoLibrary, facts: ItemFacts, position: int) -> dict[str, Any]:
    """A title as the new Plex movie agent lists it, built from the catalog's facts only."""
    key = rating_key(facts.tmdb_id)
    added_at = int((ANCHOR - ADDED_BEFORE_ANCHOR + timedelta(hours=position)).timestamp())
    duration_ms = (facts.runtime or 0) * 60_000
    entry: dict[str, Any] = {
        "ratingKey": key,
        "key": f"/library/metadata/{key}",
        "guid": f"plex://movie/{plex_hex_id(facts.tmdb_id)}",
        "type": "movie",
        "title": facts.title,
        "duration": duration_ms,
        "addedAt": added_at,
        "updatedAt": added_at,
        "Media": [media(library, key, duration_ms)],
        "Genre": tags(facts.genres),
        "Director": tags(facts.directors),
        "Role": tags(facts.cast),
        "Guid": [{"id": f"tmdb://{facts.tmdb_id}"}],
    }
    if facts.year is not None:
        entry["year"] = facts.year
    return entry


def media(library: DemoLibrary, key: str, duration_ms: int) -> dict[str, Any]:
    return {
        "id": int(key),
        "duration": duration_ms,
        "videoResolution": library.video_resolution,
        "videoCodec": "hevc" if library.video_resolution == "4k" else "h264",
        "container": "mkv",
        "Part": [
            {
                "id": int(key),
                "key": f"/library/parts/{key}/{int(ANCHOR.timestamp())}/file.mkv",
                "duration": duration_ms,
                "container": "mkv",
            }
        ],
    }


def tags(names: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"tag": name} for name in names]


def without_guids(entry: dict[str, Any]) -> dict[str, Any]:
    trimmed = copy.copy(entry)
    trimmed.pop("Guid", None)
    return trimmed


def plex_hex_id(tmdb_id: int) -> str:
    """Stable per title, shaped like the 24-hex id inside a plex:// guid."""
    return hashlib.sha256(f"demo-movie-{tmdb_id}".encode()).hexdigest()[:24]


def section_uuid(library: DemoLibrary) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"plex://{SERVER_ID}/library/{library.key}"))


def slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class SimulatedPlexTv:
    def __init__(self, token: str, household: list[DemoUser], libraries: list[DemoLibrary]):
        self.token = token
        self.owner = owner_of(household)
        self.shared_servers = shared_servers_xml(
            [member for member in household if not member.is_owner], libraries
        )

    def answer(self, request: Request) -> Reply:
        if token_of(request) != self.token:
            return json_reply(
                {"errors": [{"code": 1001, "message": "User could not be authenticated"}]}, 401
            )
        if request.path == "/api/v2/user":
            return json_reply(account(self.owner))
        if request.path == f"/api/servers/{SERVER_ID}/shared_servers":
            return Reply(200, self.shared_servers, "application/xml")
        return NOT_FOUND


def account(owner: DemoUser) -> dict[str, Any]:
    """plex.tv's account for the owner's token; its id is the one Tautulli calls user_id."""
    return {
        "id": int(owner.tautulli_user_id),
        "uuid": hashlib.sha256(owner.username.encode()).hexdigest()[:16],
        "username": owner.username,
        "title": owner.username,
        "friendlyName": owner.friendly_name,
        "email": f"{owner.username}@example.com",
        "confirmed": True,
        "restricted": False,
    }


def shared_servers_xml(friends: list[DemoUser], libraries: list[DemoLibrary]) -> bytes:
    shares_everything = all(library.shared for library in libraries)
    root = ET.Element(
        "MediaContainer",
        friendlyName="myPlex",
        identifier="com.plexapp.plugins.myplex",
        machineIdentifier=SERVER_ID,
        size=str(len(friends)),
    )
    for n, friend in enumerate(friends, start=1):
        shared_server = ET.SubElement(
            root,
            "SharedServer",
            id=str(30_000_000 + n),
            username=friend.username,
            email=f"{friend.username}@example.com",
            userID=friend.tautulli_user_id,
            name=SERVER_NAME,
            allowSync="0",
            allLibraries="1" if shares_everything else "0",
            owned="0",
        )
        for library in libraries:
            ET.SubElement(
                shared_server,
                "Section",
                id=str(118_000_000 + int(library.key)),
                key=library.key,
                title=library.title,
                type="movie",
                shared="1" if library.shared else "0",
            )
    body: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return body
