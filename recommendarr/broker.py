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
from recommendarr.shared.delivery_limit import DeliveryLimit
from recommendarr.shared.job_tracking import JobTracking, quiet_discarded_result_warnings

QUEUES = ("events", "embeddings", "profiles")
# A killed worker's unacked messages go back to the queue once its heartbeat is this old and a
# maintenance pass runs. Dramatiq's defaults (60 s, 1 command in 1,000) can leave them ~15 min.
HEARTBEAT_TIMEOUT_MS = 20_000
MAINTENANCE_CHANCE_PER_MILLION = 10_000


def build_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if settings.redis_url:
        broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=settings.redis_url,
            heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
            maintenance_chance=MAINTENANCE_CHANCE_PER_MILLION,
        )
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    # "after" hooks run in reverse order: sitting before Retries, JobTracking sees its verdict.
    broker.add_middleware(JobTracking(), before=Retries)
    # First in line: a message that keeps killing its worker is quarantined before it runs.
    broker.add_middleware(DeliveryLimit(), before=JobTracking)
    quiet_discarded_result_warnings()
    return broker


broker = build_broker(load_settings())
dramatiq.set_broker(broker)
for queue in QUEUES:
    broker.declare_queue(queue)
