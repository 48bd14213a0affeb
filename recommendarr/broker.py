"""The only import-time setup: choose the broker and declare it before any actor is defined.

With REDIS_URL, messages go through Redis and `recommendarr worker` processes consume them.
Without it, a StubBroker keeps them in memory and the serving process runs them on threads.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Retries

from recommendarr.settings import Settings, load_settings
from recommendarr.shared.job_tracking import JobTracking

QUEUES = ("events", "embeddings", "profiles")


def build_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if settings.redis_url:
        broker = RedisBroker(url=settings.redis_url)  # type: ignore[no-untyped-call]
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    # "after" hooks run in reverse order: sitting before Retries, JobTracking sees its verdict.
    broker.add_middleware(JobTracking(), before=Retries)
    return broker


broker = build_broker(load_settings())
dramatiq.set_broker(broker)
for queue in QUEUES:
    broker.declare_queue(queue)
