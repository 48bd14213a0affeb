"""Reading the loosely typed JSON that media servers send: ids as strings or numbers, 0/1 flags.

Every reader raises MalformedResponse naming where the shape broke, so a client can report an
upstream that answered with something else (a login page, a proxy error) as transient.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

ISO_TIME = re.compile(
    r"^(?P<main>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})?$"
)


class MalformedResponse(ValueError):  # noqa: N818 - reads as what happened at the call site
    """The upstream answered 200 with a body that is not the documented shape."""


def json_object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResponse(f"{where} is not a JSON object")
    return value


def json_list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedResponse(f"{where} is not a JSON list")
    return value


def objects(value: object, where: str) -> list[dict[str, Any]]:
    return [json_object(v, f"{where}[{i}]") for i, v in enumerate(json_list(value, where))]


def text(value: object) -> str:
    """A string from a string or number; empty for null and for anything else."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value).strip()
    return ""


def required_text(payload: dict[str, Any], field: str, where: str) -> str:
    value = text(payload.get(field))
    if not value:
        raise MalformedResponse(f"{where}.{field} is missing")
    return value


def optional_int(value: object) -> int | None:
    """Tautulli and Plex send ids and counts as numbers or strings, and "" for none."""
    raw = text(value)
    if not raw:
        return None
    try:
        return int(float(raw))
    except ValueError:
        return None


def optional_float(value: object) -> float | None:
    raw = text(value)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def flag(value: object) -> bool:
    """Plex writes booleans as 0/1 (numbers or strings), Jellyfin as true/false."""
    if isinstance(value, bool):
        return value
    return text(value).lower() in ("1", "true")


def unix_time(value: object) -> datetime | None:
    seconds = optional_int(value)
    if seconds is None or seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def iso_time(value: object) -> datetime | None:
    """Jellyfin dates carry 7 fractional digits and a Z, more than fromisoformat reads in 3.11."""
    match = ISO_TIME.match(text(value))
    if match is None:
        return None
    fraction = (match["fraction"] or "")[:6]
    zone = match["zone"] or "+00:00"
    stamp = match["main"] + (f".{fraction}" if fraction else "") + zone.replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return None


def names(value: object) -> tuple[str, ...]:
    """Genre lists: Plex `[{"tag": …}]`, Jellyfin and Tautulli plain strings."""
    found: list[str] = []
    for entry in value if isinstance(value, list) else []:
        name = (
            text(entry.get("tag") or entry.get("Name")) if isinstance(entry, dict) else text(entry)
        )
        if name and name not in found:
            found.append(name)
    return tuple(found)
