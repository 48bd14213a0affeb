"""Overseerr / Jellyseerr: create a media request the household's own rules then approve.

POST /api/v1/request answers 201 with the saved request, 409 when the title is already
requested, 202 when a show has no season left to request, 403 on a quota or missing permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from recommendarr.settings import Settings
from recommendarr.shared.clients.arr import as_object, error_message, json_body, send
from recommendarr.shared.errors import Permanent

PRODUCT = "Overseerr/Jellyseerr"


@dataclass(frozen=True)
class SeerrStatus:
    version: str
    commit_tag: str


@dataclass(frozen=True)
class SeerrOutcome:
    """created: a new request (request_id); exists: already requested; nothing_to_request:
    every season is already requested or available."""

    state: Literal["created", "exists", "nothing_to_request"]
    request_id: int | None = None
    message: str = ""


class SeerrClient:
    def __init__(self, http: httpx.Client, base_url: str, api_key: SecretStr) -> None:
        self.http = http
        # People paste the API root as often as the site root.
        self.base_url = base_url.rstrip("/").removesuffix("/api/v1")
        self.api_key = api_key

    def call(
        self, method: str, path: str, json: object = None, user_id: int | None = None
    ) -> httpx.Response:
        headers = {"X-Api-Key": self.api_key.get_secret_value(), "Accept": "application/json"}
        if user_id is not None:
            # Requests on behalf of an Overseerr user count against that user's quota.
            headers["X-Api-User"] = str(user_id)
        return send(
            self.http,
            method,
            f"{self.base_url}/api/v1{path}",
            product=PRODUCT,
            headers=headers,
            json=json,
        )

    def status(self) -> SeerrStatus:
        response = self.call("GET", "/status")
        if response.status_code != 200:
            raise Permanent(
                f"{PRODUCT} refused GET /status: HTTP {response.status_code} "
                f"{error_message(response)}"
            )
        payload = as_object(json_body(response, PRODUCT), PRODUCT, "status")
        if "version" not in payload:
            raise Permanent(f"{self.base_url} does not answer like {PRODUCT} (no version)")
        return SeerrStatus(
            version=str(payload["version"]), commit_tag=str(payload.get("commitTag") or "")
        )

    def request(
        self,
        media_type: Literal["movie", "tv"],
        tmdb_id: int,
        user_id: int | None = None,
        tvdb_id: int | None = None,
    ) -> SeerrOutcome:
        response = self.call(
            "POST", "/request", request_body(media_type, tmdb_id, tvdb_id), user_id
        )
        status = response.status_code
        if status == 201:
            payload = as_object(json_body(response, PRODUCT), PRODUCT, "request")
            request_id = payload.get("id")
            if isinstance(request_id, bool) or not isinstance(request_id, int):
                raise Permanent(f"{PRODUCT} created a request but sent no request id")
            return SeerrOutcome("created", request_id)
        if status == 409:
            return SeerrOutcome("exists", message=error_message(response))
        if status == 202:
            return SeerrOutcome("nothing_to_request", message=error_message(response))
        if status == 403:
            raise Permanent(
                f"{PRODUCT} refused the request (HTTP 403): "
                f"{error_message(response) or 'quota exceeded or no permission'}"
            )
        raise Permanent(f"{PRODUCT} refused the request: HTTP {status} {error_message(response)}")


def request_body(
    media_type: Literal["movie", "tv"], tmdb_id: int, tvdb_id: int | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"mediaType": media_type, "mediaId": tmdb_id}
    if media_type == "tv":
        if tvdb_id is not None:
            body["tvdbId"] = tvdb_id
        body["seasons"] = "all"
    body["is4k"] = False
    return body


def build_seerr_client(settings: Settings, http: httpx.Client) -> SeerrClient | None:
    if not settings.seerr_url:
        return None
    if settings.seerr_api_key is None or not settings.seerr_api_key.get_secret_value():
        raise ValueError("SEERR_URL is set but SEERR_API_KEY is not (Settings > General > API Key)")
    return SeerrClient(http, settings.seerr_url, settings.seerr_api_key)
