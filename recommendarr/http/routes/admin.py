"""POST /admin/sync: re-read libraries, users and who may open what from the media servers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.functions.sync_library import sync_library
from recommendarr.http.auth import require_admin
from recommendarr.http.openapi import Endpoint
from recommendarr.http.schemas import Accepted
from recommendarr.shared.store import jobs


def request_sync(request: Request) -> JSONResponse:
    require_admin(request)
    with request.app.state.resources.pool.connection() as conn, conn.transaction():
        job_id = jobs.create(conn, "sync_library", user_id=None, subject_id=None)
    sync_library.send_with_options(args=(f"manual:{job_id}",), job_id=job_id)
    return JSONResponse(Accepted(job_id=job_id).model_dump(), status_code=202)


ROUTES = [
    (
        Endpoint(
            "POST",
            "/admin/sync",
            "Sync libraries, users and library access from Plex/Jellyfin now (admin)",
            {202: Accepted},
            "admin",
            tags=("admin",),
        ),
        request_sync,
    ),
]
