"""The cron table. The clock only sends; each message carries the period it stands for."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from recommendarr.functions.fit_taste_model import fit_taste_model
from recommendarr.functions.poll_tautulli import poll_tautulli
from recommendarr.functions.reconcile_derived import reconcile_derived
from recommendarr.functions.reconcile_inbox import reconcile_inbox
from recommendarr.functions.scout_trending import scout_trending
from recommendarr.functions.sync_arr import sync_arr
from recommendarr.functions.sync_library import sync_library

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    name: str
    every_s: int
    send: Callable[[str], object]


SCHEDULES = (
    Schedule("reconcile_inbox", 60, reconcile_inbox.send),
    Schedule("reconcile_derived", 5 * 60, reconcile_derived.send),
    Schedule("sync_arr", 6 * 3600, sync_arr.send),
    # Permissions are re-synced every 6 hours.
    Schedule("sync_library", 6 * 3600, sync_library.send),
    Schedule("poll_tautulli", 5 * 60, poll_tautulli.send),
    Schedule("scout_trending", 24 * 3600, scout_trending.send),
    # Skips itself when nothing was watched or added since the last fit.
    Schedule("fit_taste_model", 30 * 60, fit_taste_model.send),
)


def period_key(name: str, every_s: int, now: float) -> str:
    return f"{name}:{int(now // every_s)}"


def tick(last_sent: dict[str, str], now: float) -> list[str]:
    """Send every schedule whose period changed since its last send; the keys sent."""
    sent = []
    for schedule in SCHEDULES:
        key = period_key(schedule.name, schedule.every_s, now)
        if last_sent.get(schedule.name) != key:
            schedule.send(key)
            last_sent[schedule.name] = key
            sent.append(key)
    return sent


def run_clock(stop: threading.Event, poll_s: float = 1.0) -> None:
    last_sent: dict[str, str] = {}
    log.info("clock started with %d schedules", len(SCHEDULES))
    while not stop.is_set():
        try:
            tick(last_sent, time.time())
        except Exception:
            log.exception("clock tick failed; retrying next second")
        stop.wait(poll_s)
