"""Admin operations: sync libraries now, see failed jobs and send them again."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.broker import broker
from recommendarr.functions.sync_library import sync_library
from recommendarr.http.auth import require_admin
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import path_int, query_choice, query_int
from recommendarr.http.schemas import Accepted, AdminJob, AdminJobList
from recommendarr.shared.store import jobs


def request_sync(request: Request) -> JSONResponse:
    require_admin(request)
    with request.app.state.resources.pool.connection() as conn, conn.transaction():
        job_id = jobs.create(conn, "sync_library", user_id=None, subject_id=None)
    sync_library.send_with_options(args=(f"manual:{job_id}",), job_id=job_id)
    return JSONResponse(Accepted(job_id=job_id).model_dump(), status_code=202)


JOB_STATES = ("failed", "retrying", "running", "queued", "done")


def list_jobs(request: Request) -> JSONResponse:
    require_admin(request)
    state = query_choice(request, "state", "failed", JOB_STATES)
    limit = query_int(request, "limit", 50, 1, 500)
    before = query_int(request, "before", 0, 0, 2**62) or None
    with request.app.state.resources.pool.connection() as conn:
        rows = jobs.list_by_state(conn, state, limit, before)
    listed = [AdminJob.model_validate(r) for r in rows]
    next_before = listed[-1].id if len(listed) == limit else None
    return JSONResponse(AdminJobList(jobs=listed, next_before=next_before).model_dump(mode="json"))


def retry_job(request: Request) -> JSONResponse:
    require_admin(request)
    job_id = path_int(request, "job_id")
    with request.app.state.resources.pool.connection() as conn, conn.transaction():
        claimed = jobs.claim_retry(conn, job_id)
    if claimed is None:
        raise HTTPException(409, f"job {job_id} is not a failed job with a message to send again")
    actor = broker.get_actor(str(claimed["actor"]))
    actor.send_with_options(args=tuple(claimed["args"] or ()), job_id=job_id)
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
    (
        Endpoint(
            "GET",
            "/admin/jobs",
            "Jobs by state, newest first (admin); failed by default",
            {200: AdminJobList},
            "admin",
            (
                Param("state", "query", {"type": "string", "enum": list(JOB_STATES)}),
                Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}),
                Param("before", "query", {"type": "integer", "minimum": 0}),
            ),
            tags=("admin",),
        ),
        list_jobs,
    ),
    (
        Endpoint(
            "POST",
            "/admin/jobs/{job_id}/retry",
            "Send a failed job's message again (admin)",
            {202: Accepted, 409: None},
            "admin",
            (Param("job_id", "path", {"type": "integer", "minimum": 1}),),
            tags=("admin",),
        ),
        retry_job,
    ),
]
