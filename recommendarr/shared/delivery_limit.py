"""Quarantine a message that keeps killing its worker.

A message whose processing never reaches the end (the worker was SIGKILLed, ran out of memory,
segfaulted) is delivered again by the broker, forever. Each delivery is counted before
processing and the count is cleared when processing ends normally (success or exception, which
Retries handles), so only deliveries that died accumulate. Past MAX_DELIVERIES the message is
skipped and recorded as a failed job with the reason, where an operator sees and can retry it.

A message that has died before runs alone in its process: otherwise the innocent messages that
happened to share a worker with a poison pill would die beside it each time and be quarantined
with it.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

import dramatiq
import redis
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
            try:
                self.redis.delete(self.key(message_id))
            except redis.RedisError:
                # A count left behind only makes a later quarantine one delivery early.
                log.warning("could not clear the delivery count of %s", message_id)
            return
        with self.lock:
            self.local.pop(message_id, None)


class RunAlone:
    """Shared entry for ordinary messages, exclusive entry for suspects (a readers-writer lock)."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.running = 0
        self.exclusive = False
        self.waiting_exclusive = 0

    def enter(self, alone: bool) -> None:
        with self.condition:
            if alone:
                self.waiting_exclusive += 1
                while self.exclusive or self.running:
                    self.condition.wait()
                self.waiting_exclusive -= 1
                self.exclusive = True
                return
            while self.exclusive or self.waiting_exclusive:
                self.condition.wait()
            self.running += 1

    def leave(self, alone: bool) -> None:
        with self.condition:
            if alone:
                self.exclusive = False
            else:
                self.running -= 1
            self.condition.notify_all()


class DeliveryLimit(Middleware):
    def __init__(self) -> None:
        self.counter: DeliveryCounter | None = None
        self.gate = RunAlone()
        self.entered: dict[str, bool] = {}
        self.entered_lock = threading.Lock()

    def after_process_boot(self, broker: dramatiq.Broker) -> None:
        self.counter = DeliveryCounter(broker)

    def counter_for(self, broker: dramatiq.Broker) -> DeliveryCounter:
        if self.counter is None:
            self.counter = DeliveryCounter(broker)
        return self.counter

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        deliveries = self.counter_for(broker).increment(message.message_id)
        if deliveries <= MAX_DELIVERIES:
            alone = deliveries > 1
            self.gate.enter(alone)
            with self.entered_lock:
                self.entered[message.message_id] = alone
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
        self.release(message)
        self.counter_for(broker).clear(message.message_id)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self.release(message)

    def release(self, message: MessageProxy) -> None:
        with self.entered_lock:
            alone = self.entered.pop(message.message_id, None)
        if alone is not None:
            self.gate.leave(alone)
