"""Reading the fields of a JSON webhook body, with errors that name the field.

Plex types its JSON (numbers are numbers) while template-based senders (Jellyfin's webhook
plugin) render every value as a string and a missing one as "". The readers accept both.
`prefix` is the path of the enclosing object ("Metadata.") so an error names the exact field.
"""

from __future__ import annotations

import json
import math
from typing import Any

from recommendarr.shared.domain.events import PayloadError

TRUE_WORDS = frozenset({"true", "1"})
FALSE_WORDS = frozenset({"false", "0"})


def json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError("body", f"is not valid JSON ({exc})") from exc
    if not isinstance(payload, dict):
        raise PayloadError("body", f"must be a JSON object ({what})")
    return payload


def child(obj: dict[str, Any], key: str, prefix: str = "") -> dict[str, Any] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PayloadError(prefix + key, f"must be an object, got {type(value).__name__}")
    return value


def required_child(obj: dict[str, Any], key: str, prefix: str = "") -> dict[str, Any]:
    value = child(obj, key, prefix)
    if value is None:
        raise PayloadError(prefix + key, "is required")
    return value


def text(obj: dict[str, Any], key: str, prefix: str = "") -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(prefix + key, f"must be a string, got {type(value).__name__}")
    return str(value).strip() or None


def required_text(obj: dict[str, Any], key: str, prefix: str = "") -> str:
    value = text(obj, key, prefix)
    if value is None:
        raise PayloadError(prefix + key, "is required")
    return value


def number(
    obj: dict[str, Any],
    key: str,
    prefix: str = "",
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(prefix + key, f"must be a number, got {type(value).__name__}")
    try:
        parsed = float(value)
    except ValueError as exc:
        raise PayloadError(prefix + key, f"must be a number, got {value!r}") from exc
    if not math.isfinite(parsed):
        raise PayloadError(prefix + key, f"must be a finite number, got {value!r}")
    if (minimum is not None and parsed < minimum) or (maximum is not None and parsed > maximum):
        raise PayloadError(prefix + key, f"is out of range: {value!r}")
    return parsed


def integer(
    obj: dict[str, Any],
    key: str,
    prefix: str = "",
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    value = number(obj, key, prefix, minimum=minimum, maximum=maximum)
    if value is None:
        return None
    if not value.is_integer():
        raise PayloadError(prefix + key, f"must be a whole number, got {obj[key]!r}")
    return int(value)


def required_integer(
    obj: dict[str, Any], key: str, prefix: str = "", *, minimum: int | None = None
) -> int:
    value = integer(obj, key, prefix, minimum=minimum)
    if value is None:
        raise PayloadError(prefix + key, "is required")
    return value


def boolean(obj: dict[str, Any], key: str, prefix: str = "") -> bool | None:
    """JSON booleans, and the True/False that C# templates render."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, str) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise PayloadError(prefix + key, f"must be true or false, got {value!r}")
