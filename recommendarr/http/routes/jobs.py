"""GET /jobs/{id}: the state and result of work a request or webhook triggered."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.http.auth import authenticate
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import path_int
from recommendarr.http.schemas import JobOut
from recommendarr.shared.store import jobs


def get_job(request: Request) -> JSONResponse:
    principal = authenticate(request)
    job_id = path_int(request, "job_id")
    with request.app.state.resources.pool.connection() as conn:
        row = jobs.get(conn, job_id)
    # A user sees only jobs run for them; everything else answers like a missing job.
    if row is None or not (principal.is_admin or row["user_id"] == principal.user_id):
        raise HTTPException(404, f"no job {job_id}")
    return JSONResponse(JobOut.model_validate(row).model_dump(mode="json"))


ROUTES = [
    (
        Endpoint(
            "GET",
            "/jobs/{job_id}",
            "A job's state, error and result",
            {200: JobOut},
            "user",
            (Param("job_id", "path", {"type": "integer", "minimum": 1}),),
            tags=("jobs",),
        ),
        get_job,
    ),
]
