"""One entry point from (source, body) to a domain event, whatever sent it."""

from __future__ import annotations

from collections.abc import Callable

from recommendarr.shared.domain.events import WebhookEvent
from recommendarr.shared.domain.tautulli import parse_tautulli

PARSERS: dict[str, Callable[[bytes], WebhookEvent]] = {
    "tautulli": parse_tautulli,
}


def parse_webhook(source: str, body: bytes) -> WebhookEvent:
    parser = PARSERS.get(source)
    if parser is None:
        raise ValueError(f"no parser for webhook source {source!r}")
    return parser(body)
