"""A small HTTP service on 127.0.0.1 that stands in for an upstream the demo would call."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, str]
    headers: Message  # looked up case-insensitively, as HTTP headers are

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Answer = Callable[[Request], Reply]


def json_reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload).encode())


class LoopbackService:
    """Answers GETs on an ephemeral port from a thread until stopped."""

    def __init__(self, answer: Answer) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(answer))
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=5)
        self.server.server_close()


def handler_for(answer: Answer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            try:
                reply = answer(Request(url.path, dict(parse_qsl(url.query)), self.headers))
            except Exception:
                # What a real server does with its own bug: a 500, and the trace in its log.
                log.exception("simulated service failed on %s", url.path)
                reply = Reply(500, b"Internal Server Error", "text/plain")
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            # The demo's terminal shows picks; a line per simulated request would bury them.
            return

    return Handler
