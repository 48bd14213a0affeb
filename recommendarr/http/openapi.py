"""The OpenAPI 3.1 document, built from the endpoint table and the pydantic models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from recommendarr import __version__
from recommendarr.http.schemas import ErrorResponse


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # path | query | header
    schema: dict[str, Any]
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str
    responses: dict[int, type[BaseModel] | None]
    auth: str  # admin | user | webhook | none
    params: tuple[Param, ...] = ()
    body: type[BaseModel] | None = None
    raw_body: str | None = None  # media type of a body validated by hand (webhooks)
    tags: tuple[str, ...] = field(default_factory=tuple)


SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "admin": [{"bearer": []}],
    "user": [{"bearer": []}],
    "webhook": [{"webhookToken": []}, {"webhookHeader": []}],
    "none": [],
}
ERROR_CODES = {
    "user": (401, 404, 422),
    "admin": (401, 403, 404, 422),
    # 503: the database was unreachable and nothing was recorded; the sender should retry.
    "webhook": (400, 401, 413, 422, 503),
}
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "seconds to wait before sending the same request again",
        "schema": {"type": "integer"},
    }
}


def build_document(endpoints: list[Endpoint], prefix: str) -> dict[str, Any]:
    models = collect_models(endpoints)
    _, definitions = models_json_schema(
        [(m, "serialization") for m in models], ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(prefix + endpoint.path, {})[endpoint.method.lower()] = operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Recommendarr API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "webhookToken": {"type": "apiKey", "in": "query", "name": "token"},
                "webhookHeader": {"type": "apiKey", "in": "header", "name": "X-Recommendarr-Token"},
            },
        },
    }


def collect_models(endpoints: list[Endpoint]) -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = [ErrorResponse]
    for endpoint in endpoints:
        for model in (*endpoint.responses.values(), endpoint.body):
            if model is not None and model not in models:
                models.append(model)
    return models


def operation(endpoint: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": endpoint.summary,
        "operationId": operation_id(endpoint),
        "security": SECURITY[endpoint.auth],
        "parameters": [
            {
                "name": p.name,
                "in": p.location,
                "required": p.required or p.location == "path",
                "schema": p.schema,
                "description": p.description,
            }
            for p in endpoint.params
        ],
        "responses": responses(endpoint),
    }
    if endpoint.tags:
        op["tags"] = list(endpoint.tags)
    if endpoint.body is not None:
        op["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": ref(endpoint.body)}},
        }
    if endpoint.raw_body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {endpoint.raw_body: {"schema": {"type": "object"}}},
        }
    return op


def operation_id(endpoint: Endpoint) -> str:
    words = endpoint.path.strip("/").replace("{", "").replace("}", "").replace("/", "_")
    return f"{endpoint.method.lower()}_{words}"


def responses(endpoint: Endpoint) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code, model in endpoint.responses.items():
        content = {"application/json": {"schema": ref(model)}} if model is not None else None
        out[str(code)] = {"description": "success" if code < 300 else "error"}
        if content:
            out[str(code)]["content"] = content
    for code in ERROR_CODES.get(endpoint.auth, ()):
        out.setdefault(
            str(code),
            {
                "description": "error",
                "content": {"application/json": {"schema": ref(ErrorResponse)}},
                **({"headers": RETRY_AFTER_HEADER} if code == 503 else {}),
            },
        )
    return out


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}
