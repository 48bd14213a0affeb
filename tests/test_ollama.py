"""The Ollama provider against a loopback server speaking /api/embed as in the fixtures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx
import numpy as np
import pytest

from recommendarr.shared.domain.item_text import ItemFacts
from recommendarr.shared.embeddings import OllamaEmbeddings
from recommendarr.shared.errors import Permanent, Transient
from tests.conftest import fixture_bytes

FIXTURE = json.loads(fixture_bytes("ollama/embed_response.json"))
DIM = len(FIXTURE["embeddings"][0])


class FakeOllama(BaseHTTPRequestHandler):
    mode = "ok"
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOllama.requests.append({"path": self.path, "body": body})
        if self.mode == "missing-model":
            self.reply(404, {"error": f"model '{body['model']}' not found, try pulling it first"})
        elif self.mode == "busy":
            self.reply(503, {"error": "server busy"})
        elif self.mode == "slow":
            time.sleep(1.0)
            self.reply(200, FIXTURE)
        elif self.mode == "garbage":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>not ollama</html>")
        else:
            # Real Ollama answers one vector per input, L2-normalised, in input order.
            vectors = [FIXTURE["embeddings"][i % 2] for i in range(len(body["input"]))]
            self.reply(200, {**FIXTURE, "embeddings": vectors})

    def reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def ollama() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOllama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeOllama.mode, FakeOllama.requests = "ok", []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def provider(url: str, dim: int = DIM, timeout: float = 5.0) -> OllamaEmbeddings:
    return OllamaEmbeddings(
        httpx.Client(timeout=timeout), url, "nomic-embed-text", dim, "ollama:nomic-embed-text"
    )


INCEPTION = ItemFacts(27205, "movie", "Inception", 2010, ("Action", "Science Fiction"))
DUNE = ItemFacts(693134, "movie", "Dune: Part Two", 2024, ("Science Fiction", "Adventure"))


def test_embeds_a_batch_in_order(ollama: str) -> None:
    vectors = provider(ollama).embed([INCEPTION, DUNE])
    assert len(vectors) == 2 and all(v.shape == (DIM,) for v in vectors)
    assert all(abs(float(np.linalg.norm(v)) - 1) < 1e-5 for v in vectors)
    expected = np.asarray(FIXTURE["embeddings"][0], dtype=np.float32)
    assert np.allclose(vectors[0], expected / np.linalg.norm(expected))
    request = FakeOllama.requests[0]
    assert request["path"] == "/api/embed"
    assert request["body"]["model"] == "nomic-embed-text" and request["body"]["truncate"] is True
    assert request["body"]["input"][0].startswith(
        "Inception (2010). Genres: Action, Science Fiction"
    )


def test_missing_model_is_permanent_and_says_what_to_do(ollama: str) -> None:
    FakeOllama.mode = "missing-model"
    with pytest.raises(Permanent, match="ollama pull nomic-embed-text"):
        provider(ollama).embed([INCEPTION])


def test_busy_server_is_transient(ollama: str) -> None:
    FakeOllama.mode = "busy"
    with pytest.raises(Transient, match="503"):
        provider(ollama).embed([INCEPTION])


def test_timeout_is_transient(ollama: str) -> None:
    FakeOllama.mode = "slow"
    with pytest.raises(Transient, match="timed out"):
        provider(ollama, timeout=0.2).embed([INCEPTION])


def test_unreachable_is_transient() -> None:
    with pytest.raises(Transient, match="unreachable"):
        provider("http://127.0.0.1:9").embed([INCEPTION])


def test_garbage_body_is_transient(ollama: str) -> None:
    FakeOllama.mode = "garbage"
    with pytest.raises(Transient, match="not JSON"):
        provider(ollama).embed([INCEPTION])


def test_dimension_mismatch_is_permanent(ollama: str) -> None:
    with pytest.raises(Permanent, match="RECOMMENDARR_EMBEDDING_DIM"):
        provider(ollama, dim=768).embed([INCEPTION])
