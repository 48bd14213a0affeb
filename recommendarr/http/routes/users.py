"""Users, their tokens, their history, and on-demand refreshes."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.functions.refresh_profile import refresh_profile
from recommendarr.http.auth import authenticate, require_admin, visible_user
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import path_int, query_int
from recommendarr.http.schemas import (
    Accepted,
    HistoryEntry,
    HistoryList,
    TokenIssued,
    TokenRequest,
    UserList,
    UserOut,
)
from recommendarr.shared.store import events, jobs, secrets
from recommendarr.shared.store import users as user_store

USER_ID = Param("user_id", "path", {"type": "integer", "minimum": 1})


def list_users(request: Request) -> JSONResponse:
    principal = authenticate(request)
    with request.app.state.resources.pool.connection() as conn:
        rows = user_store.list_all(conn)
    visible = [UserOut.model_validate(r) for r in rows if principal.may_see(int(r["id"]))]
    return JSONResponse(UserList(users=visible).model_dump(mode="json"))


def get_user(request: Request) -> JSONResponse:
    row = visible_user(request, path_int(request, "user_id"))
    return JSONResponse(UserOut.model_validate(row).model_dump(mode="json"))


def user_history(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    visible_user(request, user_id)
    limit = query_int(request, "limit", 50, 1, 500)
    before = query_int(request, "before", 0, 0, 2**62) or None
    with request.app.state.resources.pool.connection() as conn:
        rows = events.history(conn, user_id, limit, before)
    entries = [HistoryEntry.model_validate(r) for r in rows]
    next_before = entries[-1].id if len(entries) == limit else None
    return JSONResponse(HistoryList(items=entries, next_before=next_before).model_dump(mode="json"))


async def issue_token(request: Request) -> JSONResponse:
    require_admin(request)
    user_id = path_int(request, "user_id")
    raw = await request.body()
    try:
        body = TokenRequest.model_validate_json(raw) if raw.strip() else TokenRequest()
    except ValueError as exc:
        raise HTTPException(422, f"body: {exc}") from exc
    with request.app.state.resources.pool.connection() as conn, conn.transaction():
        if user_store.get(conn, user_id) is None:
            raise HTTPException(404, f"no user {user_id}")
        token_id, token = secrets.issue_user_token(conn, user_id, body.label)
    issued = TokenIssued(token_id=token_id, user_id=user_id, token=token)
    return JSONResponse(issued.model_dump(), status_code=201)


def request_refresh(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    visible_user(request, user_id)
    with request.app.state.resources.pool.connection() as conn, conn.transaction():
        job_id = jobs.create(conn, "refresh_profile", user_id=user_id, subject_id=user_id)
    refresh_profile.send_with_options(args=(user_id,), job_id=job_id)
    return JSONResponse(Accepted(job_id=job_id).model_dump(), status_code=202)


ROUTES = [
    (
        Endpoint(
            "GET",
            "/users",
            "List the users the caller may see",
            {200: UserList},
            "user",
            tags=("users",),
        ),
        list_users,
    ),
    (
        Endpoint(
            "GET",
            "/users/{user_id}",
            "One user",
            {200: UserOut},
            "user",
            (USER_ID,),
            tags=("users",),
        ),
        get_user,
    ),
    (
        Endpoint(
            "GET",
            "/users/{user_id}/history",
            "The user's watch events, newest first",
            {200: HistoryList},
            "user",
            (
                USER_ID,
                Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}),
                Param("before", "query", {"type": "integer", "minimum": 0}),
            ),
            tags=("users",),
        ),
        user_history,
    ),
    (
        Endpoint(
            "POST",
            "/users/{user_id}/tokens",
            "Issue an API token for a user (admin)",
            {201: TokenIssued},
            "admin",
            (USER_ID,),
            body=TokenRequest,
            tags=("users",),
        ),
        issue_token,
    ),
    (
        Endpoint(
            "POST",
            "/users/{user_id}/refresh",
            "Rebuild the user's profile and picks now",
            {202: Accepted},
            "user",
            (USER_ID,),
            tags=("users",),
        ),
        request_refresh,
    ),
]
