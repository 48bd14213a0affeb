"""POST /users/{id}/grabs: ask for a title worth grabbing (via Seerr, Radarr or Sonarr)."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.functions.request_grab import request_grab, route_for
from recommendarr.http.auth import visible_user
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import path_int
from recommendarr.http.routes.webhooks import read_capped_body
from recommendarr.http.schemas import ErrorResponse
from recommendarr.shared.domain.arr import NoRoute
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import arr, jobs

MAX_BODY_BYTES = 4 * 1024


class GrabRequest(BaseModel):
    tmdb_id: int = Field(gt=0, le=2**31 - 1)
    media_type: Literal["movie", "tv"]


class GrabAccepted(BaseModel):
    job_id: int
    grab_request_id: int


async def request_grab_endpoint(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    await run_in_threadpool(visible_user, request, user_id)
    wanted = parse_body(await read_capped_body(request, MAX_BODY_BYTES))
    resources: Resources = request.app.state.resources
    grab_id, job_id = await run_in_threadpool(open_grab, resources, user_id, wanted)
    request_grab.send_with_options(args=(grab_id,), job_id=job_id)
    accepted = GrabAccepted(job_id=job_id, grab_request_id=grab_id)
    return JSONResponse(accepted.model_dump(), status_code=202)


def parse_body(raw: bytes) -> GrabRequest:
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(400, f"body is not valid JSON ({exc})") from exc
    try:
        return GrabRequest.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise HTTPException(422, f"{field}: {first['msg']}") from exc


def open_grab(resources: Resources, user_id: int, wanted: GrabRequest) -> tuple[int, int]:
    """The grab request row (new or re-opened) and the job that tracks sending it."""
    with resources.pool.connection() as conn, conn.transaction():
        target = arr.grab_target(conn, wanted.tmdb_id, wanted.media_type)
        if target is None:
            raise HTTPException(
                404,
                f"tmdb_id: no {wanted.media_type} with TMDB id {wanted.tmdb_id} is known yet",
            )
        route = route_for(resources.integrations, target)
        if isinstance(route, NoRoute):
            raise HTTPException(409, f"cannot grab {target['title']!r}: {route.reason}")
        grab = arr.open_grab(conn, user_id, int(target["id"]), route.via)
        job_id = jobs.create(conn, "request_grab", user_id=user_id, subject_id=int(grab["id"]))
    return int(grab["id"]), job_id


ROUTES = [
    (
        Endpoint(
            "POST",
            "/users/{user_id}/grabs",
            "Ask for a title to be grabbed (Overseerr/Jellyseerr, else Radarr/Sonarr)",
            {202: GrabAccepted, 409: ErrorResponse},
            "user",
            (Param("user_id", "path", {"type": "integer", "minimum": 1}),),
            body=GrabRequest,
            tags=("grabs",),
        ),
        request_grab_endpoint,
    ),
]
