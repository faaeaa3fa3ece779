"""One input through the engine: load the customer's state, decide, store, act.

The state and the timers are written to their tables (and so to their changelogs) before the
commands are sent; Faust commits an offset only after the producer has flushed both.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from streams.engine import CustomerState, Engine, Input, TimerFired
from streams.engine.effects import (
    Effect,
    ExitInstance,
    RecordConversion,
    SendCommand,
    StartInstance,
)
from streams.metrics import Metrics
from streams.worker.commands import CommandPublisher
from streams.worker.timers import TimerWheel, pending_timers


class Processor:
    def __init__(
        self,
        engine: Engine,
        customers: Any,
        timers: Any,
        wheel: TimerWheel,
        publisher: CommandPublisher,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._customers = customers
        self._timers = timers
        self._wheel = wheel
        self._publisher = publisher
        self._metrics = metrics
        self._clock = clock

    async def handle(self, event: Input, message: Any) -> None:
        key = event.customer_id.encode()
        raw = self._customers.get(key)
        before = CustomerState.from_dict(raw) if raw else None
        now = self._clock()
        if isinstance(event, TimerFired):
            self._metrics.timer_lateness.observe(max(0.0, now - event.due_at))
        state, effects = self._engine.decide(before, event, now)
        if raw is not None or not state.is_empty():
            self._customers[key] = state.to_dict()
        self._sync_timers(key, state, message.partition)
        for effect in effects:
            await self._apply(effect)

    def _sync_timers(self, key: bytes, state: CustomerState, partition: int) -> None:
        # The timers table follows the state (the ScheduleTimer and CancelTimer effects say
        # the same thing), so a timer lost between the two changelogs heals at the
        # customer's next input.
        pending = pending_timers(state)
        stored = self._timers.get(key)
        if (stored["t"] if stored else {}) == pending:
            return
        if pending:
            self._timers[key] = {"p": partition, "t": pending}
            old = stored["t"] if stored else {}
            self._wheel.add(partition, key, {i: t for i, t in pending.items() if old.get(i) != t})
        else:
            del self._timers[key]

    async def _apply(self, effect: Effect) -> None:
        if isinstance(effect, SendCommand):
            await self._publisher.publish(effect)
        elif isinstance(effect, StartInstance):
            self._metrics.instances_started.labels(effect.scenario_id).inc()
        elif isinstance(effect, ExitInstance):
            self._metrics.instances_ended.labels(effect.scenario_id, effect.reason).inc()
        elif isinstance(effect, RecordConversion):
            self._metrics.conversions.labels(effect.scenario_id).inc()
            self._metrics.conversion_revenue.labels(effect.scenario_id, effect.currency).inc(
                effect.revenue / 100
            )
