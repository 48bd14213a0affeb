"""Reading path and query parameters with 422s that name the parameter."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request


def path_int(request: Request, name: str) -> int:
    raw = request.path_params[name]
    if not (str(raw).isascii() and str(raw).isdecimal()) or len(str(raw)) > 18:
        raise HTTPException(422, f"path parameter {name!r} must be a positive integer, got {raw!r}")
    return int(raw)


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.lstrip("-").isdecimal() or len(raw) > 18:
        raise HTTPException(422, f"query parameter {name!r} must be an integer, got {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise HTTPException(422, f"query parameter {name!r} must be between {low} and {high}")
    return value


def query_choice(request: Request, name: str, default: str, choices: tuple[str, ...]) -> str:
    value = request.query_params.get(name) or default
    if value not in choices:
        raise HTTPException(
            422, f"query parameter {name!r} must be one of {', '.join(choices)}, got {value!r}"
        )
    return value
