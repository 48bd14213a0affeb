"""A user's taste settings: the history window and cross-domain blending; a change re-ranks."""

from __future__ import annotations

import dataclasses

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.functions.rank_user import rank_user
from recommendarr.http.auth import visible_user
from recommendarr.http.openapi import Endpoint
from recommendarr.http.params import path_int
from recommendarr.http.routes.feedback import parse_json, validated
from recommendarr.http.routes.users import USER_ID
from recommendarr.http.routes.webhooks import read_capped_body
from recommendarr.http.schemas import TasteSettingsOut, TasteSettingsPatch
from recommendarr.shared.domain.user_settings import TasteSettings
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import user_settings

MAX_BODY_BYTES = 1024


def settings_out(settings: TasteSettings) -> JSONResponse:
    body = TasteSettingsOut.model_validate(dataclasses.asdict(settings))
    return JSONResponse(body.model_dump(mode="json"))


def get_settings(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    visible_user(request, user_id)
    with request.app.state.resources.pool.connection() as conn:
        settings = user_settings.taste_settings(conn, user_id)
    return settings_out(settings)


async def patch_settings(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    await run_in_threadpool(visible_user, request, user_id)
    raw = await read_capped_body(request, MAX_BODY_BYTES)
    if not raw.strip():
        raise HTTPException(422, "body: send history_window_months, cross_domain_blend or both")
    patch = validated(parse_json(raw), TasteSettingsPatch)
    if not patch.model_fields_set:
        raise HTTPException(422, "body: send history_window_months, cross_domain_blend or both")
    resources: Resources = request.app.state.resources
    before, after = await run_in_threadpool(store_settings, resources, user_id, patch)
    # The ranking reads the settings: re-rank after commit, and only when they changed.
    if after != before:
        rank_user.send(user_id)
    return settings_out(after)


def store_settings(
    resources: Resources, user_id: int, patch: TasteSettingsPatch
) -> tuple[TasteSettings, TasteSettings]:
    given = patch.model_fields_set
    with resources.pool.connection() as conn, conn.transaction():
        before = user_settings.lock(conn, user_id)
        if before is None:
            raise HTTPException(404, f"no user {user_id}")
        after = TasteSettings(
            history_window_months=patch.history_window_months
            if "history_window_months" in given
            else before.history_window_months,
            cross_domain_blend=patch.cross_domain_blend
            if "cross_domain_blend" in given
            else before.cross_domain_blend,
        )
        user_settings.update(conn, user_id, after)
    return before, after


ROUTES = [
    (
        Endpoint(
            "GET",
            "/users/{user_id}/settings",
            "The user's taste settings: history window and cross-domain blending",
            {200: TasteSettingsOut},
            "user",
            (USER_ID,),
            tags=("users",),
        ),
        get_settings,
    ),
    (
        Endpoint(
            "PATCH",
            "/users/{user_id}/settings",
            "Change the history window, cross-domain blending or both; re-ranks the user",
            {200: TasteSettingsOut},
            "user",
            (USER_ID,),
            body=TasteSettingsPatch,
            tags=("users",),
        ),
        patch_settings,
    ),
]
