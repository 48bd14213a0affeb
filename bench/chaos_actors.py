"""Actors only the chaos benchmark declares, loaded through RECOMMENDARR_EXTRA_ACTOR_MODULES.

chaos_poison_pill stands for a job that kills its worker every time it runs (a segfaulting
extension, an out-of-memory kill): the process exits hard, so no middleware sees an exception
and only DeliveryLimit can stop the message from taking the next worker down too.
"""

from __future__ import annotations

import os

import dramatiq

from recommendarr import broker as _broker  # noqa: F401 - declares the broker before the actor
from recommendarr.shared.errors import Permanent

POISON_ACTOR = "chaos_poison_pill"
POISON_QUEUE = "events"
POISON_EXIT_CODE = 137


@dramatiq.actor(
    actor_name=POISON_ACTOR,
    queue_name=POISON_QUEUE,
    max_retries=0,
    time_limit=10_000,
    throws=(Permanent,),
)
def chaos_poison_pill(marker: str) -> None:
    # os._exit skips every finally, atexit hook and middleware, like a SIGKILL from inside.
    os._exit(POISON_EXIT_CODE)
