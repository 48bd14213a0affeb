"""What drives a user's picks (genres, people, titles from their profile) and their overrides:
boost, suppress or block any of them, or allow a title ("recommend it anyway")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from recommendarr.functions.rank_user import rank_user
from recommendarr.http.auth import visible_user
from recommendarr.http.openapi import Endpoint, Param
from recommendarr.http.params import path_int
from recommendarr.http.routes.feedback import parse_json, unknown_title, validated
from recommendarr.http.routes.users import USER_ID
from recommendarr.http.routes.webhooks import read_capped_body
from recommendarr.http.schemas import (
    DomainInfluences,
    InfluenceList,
    InfluenceOverrideOut,
    InfluenceOverrideRequest,
    NamedInfluence,
    OverrideDeleted,
    OverrideRef,
    TitleInfluence,
    TitleRef,
)
from recommendarr.shared.domain.adjustments import fold, title_key
from recommendarr.shared.resources import Resources
from recommendarr.shared.store import feedback, overrides

MAX_BODY_BYTES = 4 * 1024
MAX_TITLES = 50
MAX_NAME = 200


class RawOverride(BaseModel):
    """The body before `key` is read by `kind` (a name, or a title reference)."""

    kind: Literal["genre", "person", "title"]
    key: object
    action: Literal["boost", "suppress", "block", "allow"]


def parse_override(raw: bytes) -> InfluenceOverrideRequest:
    body = validated(parse_json(raw), RawOverride)
    if body.kind == "title":
        key: TitleRef | str = validated(body.key, TitleRef, within="key")
    elif isinstance(body.key, str) and 0 < len(" ".join(body.key.split())) <= MAX_NAME:
        key = " ".join(body.key.split())
    else:
        raise HTTPException(
            422, f"key: a {body.kind} is named by a string of 1 to {MAX_NAME} characters"
        )
    if body.action == "allow" and body.kind != "title":
        raise HTTPException(422, "action: 'allow' applies to titles only")
    return InfluenceOverrideRequest(kind=body.kind, key=key, action=body.action)


def override_out(
    row: Mapping[str, Any], titles: Mapping[str, Mapping[str, Any]]
) -> InfluenceOverrideOut:
    key: TitleRef | str = str(row["key"])
    label = str(row["key"])
    if row["kind"] == "title":
        media_type, _, tmdb_id = label.partition(":")
        key = TitleRef.model_validate({"media_type": media_type, "tmdb_id": int(tmdb_id)})
        title = titles.get(label)
        if title is not None:
            label = f"{title['title']} ({title['year']})" if title["year"] else str(title["title"])
    return InfluenceOverrideOut.model_validate({**row, "key": key, "label": label})


def title_pairs(rules: Iterable[Mapping[str, Any]]) -> list[tuple[str, int]]:
    pairs = []
    for rule in rules:
        if rule["kind"] == "title":
            media_type, _, tmdb_id = str(rule["key"]).partition(":")
            pairs.append((media_type, int(tmdb_id)))
    return pairs


def get_influences(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    visible_user(request, user_id)
    with request.app.state.resources.pool.connection() as conn:
        weights = overrides.profile_weights(conn, user_id)
        rules = overrides.list_for(conn, user_id)
        liked = {int(k) for w in weights for k in (w["item_weights"] or {}).get("liked", {})}
        by_id = overrides.titles_by_id(conn, liked)
        by_key = overrides.titles_by_key(conn, title_pairs(rules))
    index = {(str(r["kind"]), fold(str(r["key"]))): r for r in rules}
    body = InfluenceList(
        user_id=user_id,
        domains=[domain_influences(w, index, by_id) for w in weights],
        overrides=[override_out(r, by_key) for r in rules],
    )
    return JSONResponse(body.model_dump(mode="json"))


def domain_influences(
    weights: Mapping[str, Any],
    index: Mapping[tuple[str, str], Mapping[str, Any]],
    titles: Mapping[int, Mapping[str, Any]],
) -> DomainInfluences:
    def rule(kind: str, key: str) -> OverrideRef | None:
        found = index.get((kind, fold(key)))
        return None if found is None else OverrideRef(id=found["id"], action=found["action"])

    def named(kind: str, values: Mapping[str, float]) -> list[NamedInfluence]:
        ordered = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        return [NamedInfluence(name=k, weight=v, override=rule(kind, k)) for k, v in ordered]

    liked = (weights["item_weights"] or {}).get("liked", {})
    ordered = sorted(
        ((int(k), float(v)) for k, v in liked.items() if int(k) in titles),
        key=lambda kv: (-kv[1], kv[0]),
    )
    return DomainInfluences(
        domain=str(weights["domain"]),
        genres=named("genre", weights["genre_weights"] or {}),
        people=named("person", weights["person_weights"] or {}),
        titles=[
            TitleInfluence(
                tmdb_id=titles[i]["tmdb_id"],
                media_type=titles[i]["media_type"],
                title=titles[i]["title"],
                year=titles[i]["year"],
                weight=w,
                override=rule(
                    "title", title_key(str(titles[i]["media_type"]), int(titles[i]["tmdb_id"]))
                ),
            )
            for i, w in ordered[:MAX_TITLES]
        ],
    )


async def add_override(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    await run_in_threadpool(visible_user, request, user_id)
    wanted = parse_override(await read_capped_body(request, MAX_BODY_BYTES))
    resources: Resources = request.app.state.resources
    stored = await run_in_threadpool(store_override, resources, user_id, wanted)
    rank_user.send(user_id)
    return JSONResponse(stored.model_dump(mode="json"), status_code=201)


def store_override(
    resources: Resources, user_id: int, wanted: InfluenceOverrideRequest
) -> InfluenceOverrideOut:
    with resources.pool.connection() as conn, conn.transaction():
        titles: dict[str, Mapping[str, Any]] = {}
        if isinstance(wanted.key, TitleRef):
            item = feedback.find_item(conn, wanted.key.media_type, wanted.key.tmdb_id)
            if item is None:
                raise unknown_title(wanted.key.media_type, wanted.key.tmdb_id)
            key = title_key(wanted.key.media_type, wanted.key.tmdb_id)
            titles[key] = item
        else:
            key = wanted.key
        row = overrides.upsert(conn, user_id, wanted.kind, key, wanted.action)
    return override_out(row, titles)


def delete_override(request: Request) -> JSONResponse:
    user_id = path_int(request, "user_id")
    visible_user(request, user_id)
    override_id = path_int(request, "override_id")
    with request.app.state.resources.pool.connection() as conn, conn.transaction():
        deleted = overrides.delete(conn, user_id, override_id)
    if not deleted:
        raise HTTPException(404, f"override_id: user {user_id} has no override {override_id}")
    rank_user.send(user_id)
    return JSONResponse(OverrideDeleted(id=override_id, deleted=True).model_dump())


ROUTES = [
    (
        Endpoint(
            "GET",
            "/filters/influences/{user_id}",
            "What drives the user's picks, strongest first, with the overrides that apply",
            {200: InfluenceList},
            "user",
            (USER_ID,),
            tags=("influences",),
        ),
        get_influences,
    ),
    (
        Endpoint(
            "POST",
            "/filters/influences/{user_id}",
            "Boost, suppress or block a genre, person or title, or allow a title; re-ranks",
            {201: InfluenceOverrideOut},
            "user",
            (USER_ID,),
            body=InfluenceOverrideRequest,
            tags=("influences",),
        ),
        add_override,
    ),
    (
        Endpoint(
            "DELETE",
            "/filters/influences/{user_id}/{override_id}",
            "Remove one of the user's overrides; re-ranks",
            {200: OverrideDeleted},
            "user",
            (USER_ID, Param("override_id", "path", {"type": "integer", "minimum": 1})),
            tags=("influences",),
        ),
        delete_override,
    ),
]
