"""A loopback server that answers like Radarr, Sonarr or Overseerr, from the fixtures.

Each test sets `replies[(method, path)]` to (status, body, headers); a body of bytes is sent
as is, anything else as JSON. `slow` delays every answer. Requests are recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import fixture_bytes

Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeUpstream:
    url: str = ""
    replies: dict[tuple[str, str], Reply] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    slow_s: float = 0.0

    def reply(self, method: str, path: str, status: int, body: Any, **headers: str) -> None:
        self.replies[(method, path)] = (status, body, headers)

    def reply_fixture(self, method: str, path: str, status: int, fixture: str) -> None:
        self.reply(method, path, status, json.loads(fixture_bytes(fixture)))

    def posted(self, path: str) -> list[Any]:
        return [s.body for s in self.seen if s.method == "POST" and s.path == path]


def handler_for(upstream: FakeUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.answer("GET")

        def do_POST(self) -> None:
            self.answer("POST")

        def answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            upstream.seen.append(
                Seen(
                    method,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw) if raw else None,
                )
            )
            if upstream.slow_s:
                time.sleep(upstream.slow_s)
            status, body, headers = upstream.replies.get(
                (method, parts.path), (404, {"message": "NotFound"}, {})
            )
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            return

    return Handler


@contextmanager
def serve_upstream() -> Iterator[FakeUpstream]:
    upstream = FakeUpstream()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(upstream))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    upstream.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield upstream
    finally:
        server.shutdown()
        server.server_close()
