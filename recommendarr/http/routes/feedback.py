"""A user's thumbs up/down, dismissals and hides: recorded, listed, cleared; each re-ranks."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.functions.rank_user import rank_user
from recommendarr.functions.refresh_profile import refresh_profile
from recommendarr.http.auth import visible_user
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import path_int, query_choice
from recommendarr.http.routes.users import USER_ID
from recommendarr.http.routes.webhooks import read_capped_body
from recommendarr.http.schemas import FeedbackCleared, FeedbackList, FeedbackOut, FeedbackRequest
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import feedback

MAX_BODY_BYTES = 4 * 1024
DEFAULT_HIDE_MONTHS = 3
VOTES = ("up", "down")
# Changing one's mind: a thumbs up takes back a thumbs down and a dismissal, and so on.
REPLACES = {"up": ("down", "dismiss", "hide"), "down": ("up",), "dismiss": (), "hide": ()}
MEDIA_TYPES = ("movie", "tv")
Body = TypeVar("Body", bound=BaseModel)


def parse_json(raw: bytes) -> object:
    try:
        payload: object = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HTTPException(400, f"body is not valid JSON ({exc})") from exc
    return payload


def validated(payload: object, model: type[Body], within: str = "") -> Body:
    """`payload` as `model`, or a 422 naming the first bad field (inside `within`, if given)."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join([*([within] if within else []), *(str(p) for p in first["loc"])])
        raise HTTPException(422, f"{field or 'body'}: {first['msg']}") from exc


def path_title(request: Request) -> tuple[str, int]:
    """The (media_type, tmdb_id) of a /{media_type}/{tmdb_id} path."""
    media_type = str(request.path_params["media_type"])
    if media_type not in MEDIA_TYPES:
        raise HTTPException(
            422, f"path parameter 'media_type' must be movie or tv, got {media_type!r}"
        )
    return media_type, path_int(request, "tmdb_id")


def unknown_title(media_type: str, tmdb_id: int) -> HTTPException:
    return HTTPException(404, f"tmdb_id: no {media_type} with TMDB id {tmdb_id} is known yet")


def enqueue_rerank(user_id: int, kinds: set[str]) -> None:
    """Votes change the profile (which re-ranks when it changed); the rest only the ranking."""
    if kinds & set(VOTES):
        refresh_profile.send(user_id)
    if kinds - set(VOTES):
        rank_user.send(user_id)


async def give_feedback(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    await run_in_threadpool(visible_user, request, user_id)
    raw = await read_capped_body(request, MAX_BODY_BYTES)
    wanted = validated(parse_json(raw), FeedbackRequest)
    if wanted.months is not None and wanted.kind != "hide":
        raise HTTPException(422, "months: only applies to kind 'hide'")
    resources: Resources = request.app.state.resources
    stored, cleared = await run_in_threadpool(store_feedback, resources, user_id, wanted)
    enqueue_rerank(user_id, {wanted.kind, *cleared})
    return JSONResponse(stored.model_dump(mode="json"), status_code=201)


def store_feedback(
    resources: Resources, user_id: int, wanted: FeedbackRequest
) -> tuple[FeedbackOut, list[str]]:
    months = (wanted.months or DEFAULT_HIDE_MONTHS) if wanted.kind == "hide" else None
    with resources.pool.connection() as conn, conn.transaction():
        item = feedback.find_item(conn, wanted.media_type, wanted.tmdb_id)
        if item is None:
            raise unknown_title(wanted.media_type, wanted.tmdb_id)
        cleared = feedback.clear(conn, user_id, int(item["id"]), REPLACES[wanted.kind])
        row = feedback.record(conn, user_id, int(item["id"]), wanted.kind, months)
    return FeedbackOut.model_validate({**item, **row}), cleared


def list_feedback(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    visible_user(request, user_id)
    with request.app.state.resources.pool.connection() as conn:
        rows = feedback.active(conn, user_id)
    body = FeedbackList(items=[FeedbackOut.model_validate(r) for r in rows])
    return JSONResponse(body.model_dump(mode="json"))


def clear_feedback(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    visible_user(request, user_id)
    media_type, tmdb_id = path_title(request)
    kind = request.query_params.get("kind")
    kinds = None if kind is None else (query_choice(request, "kind", "", tuple(REPLACES)),)
    with request.app.state.resources.pool.connection() as conn, conn.transaction():
        item = feedback.find_item(conn, media_type, tmdb_id)
        if item is None:
            raise unknown_title(media_type, tmdb_id)
        cleared = feedback.clear(conn, user_id, int(item["id"]), kinds)
    enqueue_rerank(user_id, set(cleared))
    body: dict[str, Any] = {"media_type": media_type, "tmdb_id": tmdb_id, "cleared": cleared}
    return JSONResponse(FeedbackCleared.model_validate(body).model_dump(mode="json"))


TITLE_PARAMS = (
    USER_ID,
    Param("media_type", "path", {"type": "string", "enum": list(MEDIA_TYPES)}),
    Param("tmdb_id", "path", {"type": "integer", "minimum": 1}),
)

ROUTES = [
    (
        Endpoint(
            "POST",
            "/users/{user_id}/feedback",
            "Thumbs up/down, dismiss, or hide a title for some months; re-ranks the user",
            {201: FeedbackOut},
            "user",
            (USER_ID,),
            body=FeedbackRequest,
            tags=("feedback",),
        ),
        give_feedback,
    ),
    (
        Endpoint(
            "GET",
            "/users/{user_id}/feedback",
            "The user's active feedback, newest first",
            {200: FeedbackList},
            "user",
            (USER_ID,),
            tags=("feedback",),
        ),
        list_feedback,
    ),
    (
        Endpoint(
            "DELETE",
            "/users/{user_id}/feedback/{media_type}/{tmdb_id}",
            "Clear the user's feedback on a title (only `kind` when given); re-ranks the user",
            {200: FeedbackCleared},
            "user",
            (
                *TITLE_PARAMS,
                Param("kind", "query", {"type": "string", "enum": list(REPLACES)}),
            ),
            tags=("feedback",),
        ),
        clear_feedback,
    ),
]
