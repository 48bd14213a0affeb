"""Is Ollama there? GET /api/tags lists the pulled models and needs no model to be loaded."""

from __future__ import annotations

import httpx

from recommendarr.shared.domain.integration_check import ollama_models
from recommendarr.shared.errors import NotFound, Permanent, Transient


def list_ollama_models(http: httpx.Client, base_url: str, key: str | None) -> list[str]:
    """The pulled models' names. Ollama itself has no keys; a reverse proxy in front may."""
    base = base_url.rstrip("/")
    headers = {"Accept": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        response = http.get(f"{base}/api/tags", headers=headers)
    except httpx.TimeoutException as exc:
        raise Transient(f"Ollama at {base} timed out") from exc
    except httpx.TransportError as exc:
        raise Transient(f"Ollama at {base} is unreachable ({type(exc).__name__})") from exc
    status = response.status_code
    if status == 404:
        raise NotFound(f"Ollama at {base} has no /api/tags (HTTP 404)")
    if status == 429 or status >= 500:
        raise Transient(f"Ollama at {base} answered HTTP {status}")
    if status != 200:
        raise Permanent(f"Ollama at {base} refused GET /api/tags: HTTP {status}")
    try:
        payload = response.json()
    except ValueError as exc:
        raise Transient(f"Ollama at {base} answered with a body that is not JSON") from exc
    return ollama_models(payload)
