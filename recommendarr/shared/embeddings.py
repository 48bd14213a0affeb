"""Embedding providers behind one small interface: the built-in hasher and Ollama."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import httpx
import numpy as np

from recommendarr.settings import Settings
from recommendarr.shared.domain.hashed_features import hashed_vector
from recommendarr.shared.domain.item_text import ItemFacts, item_document
from recommendarr.shared.errors import Permanent, Transient


class EmbeddingProvider(Protocol):
    model_name: str
    dim: int

    def embed(self, items: Sequence[ItemFacts]) -> list[np.ndarray]: ...


class BuiltinHashEmbeddings:
    def __init__(self, dim: int, model_name: str) -> None:
        self.dim = dim
        self.model_name = model_name

    def embed(self, items: Sequence[ItemFacts]) -> list[np.ndarray]:
        return [hashed_vector(item, self.dim) for item in items]


class OllamaEmbeddings:
    """POST /api/embed; `embeddings` is always a list of lists, one per input."""

    def __init__(
        self, client: httpx.Client, base_url: str, model: str, dim: int, model_name: str
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.dim = dim
        self.model_name = model_name

    def embed(self, items: Sequence[ItemFacts]) -> list[np.ndarray]:
        body = {"model": self.model, "input": [item_document(i) for i in items], "truncate": True}
        response = self.post(body)
        vectors = parse_embed_response(response, expected=len(items))
        for vector in vectors:
            if vector.shape[0] != self.dim:
                raise Permanent(
                    f"Ollama model {self.model!r} returns {vector.shape[0]}-dimensional vectors "
                    f"but RECOMMENDARR_EMBEDDING_DIM is {self.dim}"
                )
        return vectors

    def post(self, body: dict[str, object]) -> httpx.Response:
        try:
            response = self.client.post(f"{self.base_url}/api/embed", json=body)
        except httpx.TimeoutException as exc:
            raise Transient(f"Ollama at {self.base_url} timed out") from exc
        except httpx.TransportError as exc:
            raise Transient(f"Ollama at {self.base_url} is unreachable: {exc}") from exc
        if response.status_code == 404:
            raise Permanent(
                f"Ollama has no model {self.model!r}: run `ollama pull {self.model}` on its host"
            )
        if response.status_code == 429 or response.status_code >= 500:
            raise Transient(f"Ollama answered HTTP {response.status_code}")
        if response.status_code >= 400:
            raise Permanent(
                f"Ollama refused the request: HTTP {response.status_code} {ollama_error(response)}"
            )
        return response


def ollama_error(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200]
    return str(payload.get("error", "")) if isinstance(payload, dict) else ""


def parse_embed_response(response: httpx.Response, expected: int) -> list[np.ndarray]:
    try:
        payload = response.json()
    except ValueError as exc:
        raise Transient("Ollama returned a body that is not JSON") from exc
    embeddings = payload.get("embeddings") if isinstance(payload, dict) else None
    if not isinstance(embeddings, list) or len(embeddings) != expected:
        raise Transient(
            f"Ollama returned {type(embeddings).__name__} instead of {expected} vectors"
        )
    vectors = [np.asarray(e, dtype=np.float32) for e in embeddings]
    return [unit(v) for v in vectors]


def unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    if norm == 0.0 or not np.isfinite(norm):
        raise Permanent("an embedding came back empty or not finite")
    return vector / norm


def build_embedding_provider(settings: Settings, client: httpx.Client) -> EmbeddingProvider:
    if settings.embedding_provider == "ollama":
        if not settings.ollama_url:
            raise ValueError("RECOMMENDARR_EMBEDDING_PROVIDER=ollama needs OLLAMA_URL")
        return OllamaEmbeddings(
            client,
            settings.ollama_url,
            settings.embedding_model,
            settings.embedding_dim,
            settings.embedding_model_name,
        )
    return BuiltinHashEmbeddings(settings.embedding_dim, settings.embedding_model_name)
