"""Connection tests of an upstream service, in plain words: what each answer means.

The network side (clients/connection_check.py) records the last HTTP exchange of a check;
this module turns that exchange, or a successful answer, into the sentence an admin reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from recommendarr.shared.domain.json_shapes import MalformedResponse, json_object, objects, text

Kind = Literal[
    "plex",
    "jellyfin",
    "tautulli",
    "tmdb",
    "radarr",
    "sonarr",
    "overseerr",
    "jellyseerr",
    "ollama",
]
PRODUCT: dict[str, str] = {
    "plex": "Plex Media Server",
    "jellyfin": "Jellyfin",
    "tautulli": "Tautulli",
    "tmdb": "TMDB",
    "radarr": "Radarr",
    "sonarr": "Sonarr",
    "overseerr": "Overseerr",
    "jellyseerr": "Jellyseerr",
    "ollama": "Ollama",
}
KEY_WORD: dict[str, str] = {"plex": "token", "ollama": "key"}
# Servarr apps answer /api/v3/system/status with their own appName.
SERVARR_APPS = ("radarr", "sonarr", "lidarr", "readarr", "prowlarr", "whisparr")
Failure = Literal["connect", "connect_timeout", "timeout", "protocol"]
REDACTED = "***"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    kind: str
    message: str

    def as_result(self) -> dict[str, Any]:
        return {"ok": self.ok, "type": self.kind, "message": self.message}


@dataclass(frozen=True)
class Exchange:
    """The last request a check made and how it ended: a status, or a transport failure."""

    origin: str  # scheme://host:port, never a path or query (a query may hold the key)
    path: str
    status: int | None = None
    content_type: str = ""
    location: str = ""
    failure: Failure | None = None
    reason: str = ""


@dataclass(frozen=True)
class Where:
    """Which service the failing request went to (plex.tv is not the Plex server)."""

    service: str
    address: str


def key_word(kind: str) -> str:
    return KEY_WORD.get(kind, "API key")


def scrub(message: str, secret: str | None) -> str:
    return message.replace(secret, REDACTED) if secret else message


def failure_message(
    kind: str, where: Where, last: Exchange | None, refusal: str, timeout_s: float
) -> str:
    """What went wrong, from the last exchange; `refusal` is the client's own sentence."""
    if last is None:
        return f"the {PRODUCT[kind]} check stopped before any request was sent: {refusal}"
    if last.failure is not None:
        return transport_failure(where, last, timeout_s)
    status = last.status or 0
    if 200 <= status < 300:
        return answered_oddly(where, last, refusal)
    return status_failure(kind, where, last, status)


def transport_failure(where: Where, last: Exchange, timeout_s: float) -> str:
    if last.failure == "connect_timeout":
        return (
            f"could not connect to {where.address}: no answer within {timeout_s:g} s "
            "(wrong host or port, or a firewall dropping the connection)"
        )
    if last.failure == "timeout":
        return (
            f"{where.service} at {where.address} took the connection but did not answer "
            f"within {timeout_s:g} s"
        )
    if last.failure == "protocol":
        return f"{where.address} did not answer like a web server ({connect_reason(last.reason)})"
    return f"could not connect to {where.address}: {connect_reason(last.reason)}"


def connect_reason(raw: str) -> str:
    """The OS's words for a failed connection, shortened to what an admin can act on."""
    lowered = raw.lower()
    if "refused" in lowered:
        return "connection refused (nothing listens on that port, or the service is stopped)"
    if any(
        hint in lowered
        for hint in ("name or service not known", "nodename nor servname", "name resolution")
    ):
        return "the host name does not resolve"
    if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
        return f"the TLS handshake failed; check http:// versus https:// ({raw})"
    if "unreachable" in lowered:
        return "no route to the host (network unreachable)"
    return raw or "the connection failed"


def answered_oddly(where: Where, last: Exchange, refusal: str) -> str:
    """A 2xx that the client could not use: a refusal it explained, or some other body."""
    if refusal:
        return refusal
    sent = last.content_type.split(";")[0].strip() or "no content type"
    return (
        f"{where.address} answered, but not like {where.service} does "
        f"(HTTP {last.status}, {sent} at {last.path})"
    )


def status_failure(kind: str, where: Where, last: Exchange, status: int) -> str:
    at = f"{where.service} at {where.address}"
    if status in (401, 403):
        return f"the {key_word(kind)} was rejected (HTTP {status}) by {at}"
    if status == 404:
        return (
            f"no {where.service} API at {where.address} (HTTP 404 for {last.path}): "
            "check the URL, including any URL base"
        )
    if status == 429:
        return f"{at} is rate limiting us (HTTP 429): try again in a minute"
    if 300 <= status < 400:
        target = f" to {last.location}" if last.location else ""
        return (
            f"{where.address} redirects (HTTP {status}){target}: enter the address it "
            "redirects to, including any URL base"
        )
    if status >= 500:
        return f"{at} failed with HTTP {status} (an error on its side; its logs say more)"
    return f"{at} refused the request (HTTP {status})"


def arr_verdict(kind: str, payload: object) -> Verdict:
    """GET /api/v3/system/status: the right Servarr app, another one, or something else."""
    expected = PRODUCT[kind]
    status = json_object(payload, "system status")
    version = text(status.get("version"))
    if not version:
        raise MalformedResponse("system status has no version")
    app_name = text(status.get("appName"))
    if not app_name:
        # appName exists since Radarr 4 / Sonarr 4; older versions cannot be told apart.
        return Verdict(
            True,
            kind,
            f"{expected} {version} answered and accepted the API key (too old to tell "
            "Radarr from Sonarr: make sure it is the right one)",
        )
    if app_name.casefold() != expected.casefold():
        hint = (
            f' (test it as type "{app_name.casefold()}")' if app_name.casefold() in PRODUCT else ""
        )
        return Verdict(False, kind, f"this is {app_name} {version}, not {expected}{hint}")
    instance = text(status.get("instanceName"))
    named = f" (instance '{instance}')" if instance and instance != app_name else ""
    return Verdict(True, kind, f"{app_name} {version}{named} answered and accepted the API key")


def tmdb_verdict(kind: str, payload: object) -> Verdict:
    """GET /authentication: {"success": true} only for a key TMDB accepts."""
    body = json_object(payload, "TMDB /authentication")
    if body.get("success") is True:
        return Verdict(True, kind, "TMDB accepted the API key")
    if "success" not in body:
        raise MalformedResponse("TMDB /authentication has no success field")
    return Verdict(False, kind, "TMDB answered, but did not confirm the API key")


def seerr_verdict(kind: str, version: str, me: object) -> Verdict:
    """/status says which version answers (it needs no key); /auth/me proves the key."""
    user = json_object(me, "/auth/me")
    if not isinstance(user.get("id"), int):
        raise MalformedResponse("/auth/me has no user id")
    return Verdict(True, kind, f"{PRODUCT[kind]} {version} answered and accepted the API key")


def ollama_models(payload: object) -> list[str]:
    """GET /api/tags: {"models": [{"name": "nomic-embed-text:latest", …}, …]}."""
    body = json_object(payload, "Ollama /api/tags")
    if "models" not in body:
        raise MalformedResponse("Ollama /api/tags has no models list")
    return [text(m.get("name")) for m in objects(body["models"], "models") if text(m.get("name"))]


def ollama_verdict(kind: str, models: list[str], wanted_model: str | None) -> Verdict:
    listed = ", ".join(models[:10]) + (", …" if len(models) > 10 else "")
    message = f"Ollama answered; {len(models)} models pulled" + (f" ({listed})" if models else "")
    if wanted_model and not has_model(models, wanted_model):
        message += (
            f"; the embedding model '{wanted_model}' is not pulled yet: "
            f"run `ollama pull {wanted_model}` on its host"
        )
    return Verdict(True, kind, message)


def has_model(models: list[str], wanted: str) -> bool:
    """Ollama lists `name:latest` for a model pulled as `name`."""
    names = set(models)
    return wanted in names or (":" not in wanted and f"{wanted}:latest" in names)
