"""A batch of records through the engine: load each customer's state, decide, store, act.

Inputs are handled in the batch's order, so one customer's events keep their partition's
order. Each customer touched is loaded once per batch and written once at its end: the
state to the ``customers`` table, its pending timers to the ``timers`` table, each with one
changelog record. Commands go out after the states, and the batch's offsets are
acknowledged only after both are in the producer's buffer; Faust flushes the producer
before it commits offsets.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from streams.engine import CustomerState, Engine, TimerFired
from streams.engine.effects import (
    Effect,
    ExitInstance,
    RecordConversion,
    SendCommand,
    StartInstance,
)
from streams.metrics import Metrics
from streams.worker.intake import Intake
from streams.worker.timers import TimerWheel, pending_timers, timers_from_bytes, timers_to_bytes

log = logging.getLogger(__name__)


class Table(Protocol):
    def get(self, partition: int, key: bytes) -> bytes | None: ...

    def put(self, partition: int, key: bytes, value: bytes | None) -> None: ...

    async def flush(self) -> None: ...


class Publisher(Protocol):
    async def publish_many(self, commands: Sequence[SendCommand]) -> None: ...


class _Customer:
    """A customer's state while a batch is handled."""

    __slots__ = ("key", "partition", "snapshot", "state", "stored", "touched")

    def __init__(self, key: bytes, partition: int, stored: bytes | None) -> None:
        self.key = key
        self.partition = partition
        self.stored = stored
        """The bytes in the table before this batch."""
        self.snapshot = stored
        """The state before the input being decided, to go back to if deciding fails."""
        self.state = CustomerState.from_json(stored) if stored is not None else None
        self.touched = False
        """Decided at least once; the snapshot is then stale until refreshed."""


class Processor:
    def __init__(
        self,
        engine: Engine,
        intake: Intake,
        customers: Table,
        timers: Table,
        wheel: TimerWheel,
        publisher: Publisher,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._intake = intake
        self._customers = customers
        self._timers = timers
        self._wheel = wheel
        self._publisher = publisher
        self._metrics = metrics
        self._clock = clock

    async def handle_batch(self, records: Sequence[Any]) -> None:
        """Handle ``records``; a record that cannot be handled goes to the dead-letter topic."""
        customers: dict[bytes, _Customer] = {}
        commands: list[SendCommand] = []
        handled: Counter[str] = Counter()
        now = self._clock()
        for record in records:
            event = await self._intake.parse(record)
            if event is None:
                continue
            key = event.customer_id.encode()
            customer = customers.get(key)
            if customer is None:
                stored = self._customers.get(record.partition, key)
                customer = customers[key] = _Customer(key, record.partition, stored)
            elif customer.touched:
                customer.snapshot = customer.state.to_json() if customer.state else None
            try:
                customer.state, effects = self._engine.decide(customer.state, event, now)
            # Principle 5: the record is kept in the dead-letter topic, the stream goes on.
            except Exception as exc:
                log.exception(
                    "deciding on %s[%s]@%s failed", record.topic, record.partition, record.offset
                )
                snapshot = customer.snapshot
                customer.state = CustomerState.from_json(snapshot) if snapshot else None
                await self._intake.dead_letter(record, "handle", exc)
                continue
            customer.touched = True
            if isinstance(event, TimerFired):
                self._metrics.timer_lateness.observe(max(0.0, now - event.due_at))
            else:
                handled[event.kind] += 1
            self._apply(effects, commands)
        for customer in customers.values():
            if customer.touched:
                self._store(customer)
        await self._customers.flush()
        await self._timers.flush()
        if commands:
            await self._publisher.publish_many(commands)
        for kind, count in handled.items():
            self._metrics.events.labels(kind).inc(count)

    def _store(self, customer: _Customer) -> None:
        state = customer.state
        if state is None:
            return
        value = None if state.is_empty() else state.to_json()
        if value != customer.stored:
            self._customers.put(customer.partition, customer.key, value)
        self._sync_timers(customer.key, state, customer.partition)

    def _sync_timers(self, key: bytes, state: CustomerState, partition: int) -> None:
        # The timers table follows the state (the ScheduleTimer and CancelTimer effects say
        # the same thing), so a timer lost between the two changelogs heals at the
        # customer's next input.
        pending = pending_timers(state)
        stored = self._timers.get(partition, key)
        old = timers_from_bytes(stored) if stored is not None else {}
        if old == pending:
            return
        self._timers.put(partition, key, timers_to_bytes(partition, pending) if pending else None)
        self._wheel.add(partition, key, {i: t for i, t in pending.items() if old.get(i) != t})

    def _apply(self, effects: list[Effect], commands: list[SendCommand]) -> None:
        metrics = self._metrics
        for effect in effects:
            if isinstance(effect, SendCommand):
                commands.append(effect)
            elif isinstance(effect, StartInstance):
                metrics.instances_started.labels(effect.scenario_id).inc()
            elif isinstance(effect, ExitInstance):
                metrics.instances_ended.labels(effect.scenario_id, effect.reason).inc()
            elif isinstance(effect, RecordConversion):
                metrics.conversions.labels(effect.scenario_id).inc()
                metrics.conversion_revenue.labels(effect.scenario_id, effect.currency).inc(
                    effect.revenue / 100
                )
