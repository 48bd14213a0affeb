"""POST /setup/integrations/test: does this URL and key reach the service? (admin)

The test runs as a job (check_integration); this endpoint only records it, then waits a few
seconds for the job row, reading Postgres, never the upstream. The key goes to the database
row the job deletes, never into the message, a log line or an answer.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.functions.check_integration import check_integration
from recommendarr.http.auth import require_admin
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import query_int
from recommendarr.http.routes.webhooks import read_capped_body
from recommendarr.http.schemas import Accepted
from recommendarr.shared.domain.integration_check import Kind
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import integration_checks, jobs

MAX_BODY_BYTES = 4 * 1024
MAX_FIELD_CHARS = 500
# Every service's keys are longer (Plex tokens 20, the others 32+); shorter ones are typos,
# and a key is scrubbed from messages wherever it appears, which a 2-letter key would garble.
MIN_KEY_CHARS = 8
DEFAULT_WAIT_S, MAX_WAIT_S = 5, 15
FIRST_POLL_S, MAX_POLL_S = 0.05, 0.5
FINISHED = ("done", "failed")
# Services that work without a key of their own.
KEY_OPTIONAL = ("ollama",)
# Services with a well-known address the settings already hold.
URL_OPTIONAL = ("tmdb",)


class IntegrationTest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: Kind
    url: str | None = Field(
        default=None,
        max_length=MAX_FIELD_CHARS,
        validate_default=True,
        description="http:// or https:// base URL; TMDB defaults to TMDB_BASE_URL",
    )
    key: str | None = Field(
        default=None,
        min_length=MIN_KEY_CHARS,
        max_length=MAX_FIELD_CHARS,
        # Printable ASCII only: anything else cannot travel in a header or query string.
        pattern=r"^[!-~]*$",
        validate_default=True,
        repr=False,
        description="API key or token; optional for Ollama. Never stored past the test.",
    )

    @field_validator("url")
    @classmethod
    def url_is_a_service_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value:
            if info.data.get("type") in URL_OPTIONAL:
                return None
            raise PydanticCustomError("missing", "is required for this type")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PydanticCustomError("url", "must be an http:// or https:// URL with a host")
        try:
            parts.port  # noqa: B018 - reading it is the check: urllib validates on access
        except ValueError as exc:
            raise PydanticCustomError("url", "has a port outside 1-65535") from exc
        if parts.username or parts.password or parts.query or parts.fragment:
            raise PydanticCustomError(
                "url",
                "must be a plain base URL (no credentials, query or fragment): put the "
                "key in 'key'",
            )
        return value

    @field_validator("key", mode="before")
    @classmethod
    def blank_key_is_no_key(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("key")
    @classmethod
    def key_given_where_needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        if not value and info.data.get("type") not in KEY_OPTIONAL:
            raise PydanticCustomError("missing", "is required for this type")
        return value or None


class IntegrationTestResult(BaseModel):
    job_id: int
    ok: bool
    type: str
    message: str = Field(description="what happened, in plain words")


async def request_integration_test(request: Request) -> JSONResponse:
    await run_in_threadpool(require_admin, request)
    wait_s = query_int(request, "wait", DEFAULT_WAIT_S, 0, MAX_WAIT_S)
    wanted = parse_body(await read_capped_body(request, MAX_BODY_BYTES))
    resources: Resources = request.app.state.resources
    job_id = await run_in_threadpool(record_test, resources, wanted)
    check_integration.send_with_options(args=(job_id,), job_id=job_id)
    job = await wait_for_job(resources, job_id, wait_s)
    if job["state"] not in FINISHED:
        accepted = Accepted(job_id=job_id, state=str(job["state"]))
        return JSONResponse(accepted.model_dump(), status_code=202)
    return JSONResponse(outcome(job_id, wanted.type, job).model_dump())


def parse_body(raw: bytes) -> IntegrationTest:
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(400, f"body is not valid JSON ({exc})") from exc
    try:
        return IntegrationTest.model_validate(payload)
    except ValidationError as exc:
        # Only the location and message: pydantic's error also carries the input (the key).
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise HTTPException(422, f"{field}: {first['msg']}") from None


def record_test(resources: Resources, wanted: IntegrationTest) -> int:
    url = wanted.url or resources.settings.tmdb_base_url
    with resources.pool.connection() as conn, conn.transaction():
        integration_checks.purge_stale(conn)
        job_id = jobs.create(conn, "check_integration", user_id=None, subject_id=None)
        integration_checks.record(conn, job_id, wanted.type, url, wanted.key or "")
    return job_id


async def wait_for_job(resources: Resources, job_id: int, wait_s: int) -> dict[str, Any]:
    """The job row once finished, or as it stands when `wait_s` is up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    pause = FIRST_POLL_S
    while True:
        job = await run_in_threadpool(read_job, resources, job_id)
        left = deadline - loop.time()
        if job["state"] in FINISHED or left <= 0:
            return job
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, MAX_POLL_S)


def read_job(resources: Resources, job_id: int) -> dict[str, Any]:
    with resources.pool.connection() as conn, conn.transaction():
        job = jobs.get(conn, job_id)
    if job is None:
        raise HTTPException(500, f"job {job_id} vanished while waiting for it")
    return job


def outcome(job_id: int, kind: str, job: dict[str, Any]) -> IntegrationTestResult:
    result = job["result"]
    if job["state"] == "done" and isinstance(result, dict):
        return IntegrationTestResult(job_id=job_id, **result)
    return IntegrationTestResult(
        job_id=job_id,
        ok=False,
        type=kind,
        message=f"the test could not finish: {job['error'] or 'no result'}",
    )


ROUTES = [
    (
        Endpoint(
            "POST",
            "/setup/integrations/test",
            "Test a service's URL and key (Plex, Jellyfin, Tautulli, TMDB, Radarr, Sonarr, "
            "Overseerr, Jellyseerr, Ollama) and say what is wrong (admin)",
            {200: IntegrationTestResult, 202: Accepted},
            "admin",
            (
                Param(
                    "wait",
                    "query",
                    {"type": "integer", "minimum": 0, "maximum": MAX_WAIT_S},
                    description=(
                        f"seconds to wait for the answer (default {DEFAULT_WAIT_S}); after that "
                        "the answer is 202 with the job id to read at /jobs/{id}"
                    ),
                ),
            ),
            body=IntegrationTest,
            tags=("setup",),
        ),
        request_integration_test,
    ),
]
