"""One entry point from (source, body) to a domain event, whatever sent it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from recommendarr.shared.domain.events import WebhookEvent
from recommendarr.shared.domain.jellyfin_webhook import parse_jellyfin
from recommendarr.shared.domain.plex_webhook import parse_plex
from recommendarr.shared.domain.tautulli import parse_tautulli
from recommendarr.shared.domain.tautulli_api import parse_tautulli_history

PARSERS: dict[str, Callable[[bytes], WebhookEvent]] = {
    "tautulli": parse_tautulli,
    "plex": parse_plex,
    "jellyfin": parse_jellyfin,
    "tautulli_history": parse_tautulli_history,
}
# Senders whose bodies may carry no event time: the inbox's receipt time dates them, so a
# re-run of the same row derives the same event key.
DATED_BY_RECEIPT: dict[str, Callable[[bytes, datetime | None], WebhookEvent]] = {
    "plex": parse_plex,
    "jellyfin": parse_jellyfin,
}


def parse_webhook(source: str, body: bytes, received_at: datetime | None = None) -> WebhookEvent:
    dated = DATED_BY_RECEIPT.get(source)
    if dated is not None:
        return dated(body, received_at)
    parser = PARSERS.get(source)
    if parser is None:
        raise ValueError(f"no parser for webhook source {source!r}")
    return parser(body)
