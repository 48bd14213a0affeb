"""Quarantine a message that keeps killing its worker.

A message whose processing never reaches the end (the worker was SIGKILLed, ran out of memory,
segfaulted) is delivered again by the broker, forever. Each delivery is counted before
processing and the count is cleared when processing ends normally (success or exception, which
Retries handles), so only deliveries that died accumulate. Past MAX_DELIVERIES the message is
skipped and recorded as a failed job with the reason, where an operator sees and can retry it.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware, SkipMessage

from recommendarr.shared import resources
from recommendarr.shared.store import jobs

log = logging.getLogger(__name__)
MAX_DELIVERIES = 3
COUNTER_TTL_S = 24 * 3600


class DeliveryCounter:
    """Counts in Redis when the broker is Redis (shared by every worker), else in memory."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.redis = broker.client if isinstance(broker, RedisBroker) else None
        self.namespace = getattr(broker, "namespace", "dramatiq")
        self.local: Counter[str] = Counter()
        self.lock = threading.Lock()

    def key(self, message_id: str) -> str:
        return f"{self.namespace}:deliveries:{message_id}"

    def increment(self, message_id: str) -> int:
        if self.redis is not None:
            pipe = self.redis.pipeline()
            pipe.incr(self.key(message_id))
            pipe.expire(self.key(message_id), COUNTER_TTL_S)
            count, _ = pipe.execute()
            return int(count)
        with self.lock:
            self.local[message_id] += 1
            return self.local[message_id]

    def clear(self, message_id: str) -> None:
        if self.redis is not None:
            self.redis.delete(self.key(message_id))
            return
        with self.lock:
            self.local.pop(message_id, None)


class DeliveryLimit(Middleware):
    def __init__(self) -> None:
        self.counter: DeliveryCounter | None = None

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        self.counter = DeliveryCounter(broker)

    def counter_for(self, broker: dramatiq.Broker) -> DeliveryCounter:
        if self.counter is None:
            self.counter = DeliveryCounter(broker)
        return self.counter

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        deliveries = self.counter_for(broker).increment(message.message_id)
        if deliveries <= MAX_DELIVERIES:
            return
        reason = (
            f"quarantined: delivered {deliveries} times without finishing "
            "(the worker died each time); retry it from /api/v1/admin/jobs once fixed"
        )
        with resources.current().pool.connection() as conn:
            jobs.record_quarantined(
                conn, message.actor_name, list(message.args), message.options.get("job_id"), reason
            )
        log.error("%s(%s) %s", message.actor_name, message.args, reason)
        self.counter_for(broker).clear(message.message_id)
        raise SkipMessage(reason)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        self.counter_for(broker).clear(message.message_id)
