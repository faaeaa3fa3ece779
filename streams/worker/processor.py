"""A batch of records through the engine: load each customer's state, decide, store, act.

Inputs are handled in the batch's order, so one customer's events keep their partition's
order. Each customer touched is loaded once per batch and written once at its end, state
and pending timers in one record of the ``customers`` table (``streams.worker.stored``),
hence one changelog record. Commands go out after the states, and the batch's offsets are
acknowledged only after both are in the producer's buffer; Faust flushes the producer
before it commits offsets.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from streams.engine import CustomerState, Input, TimerFired
from streams.engine.effects import (
    AdvanceInstance,
    CancelTimer,
    Effect,
    ExitInstance,
    RecordConversion,
    ScheduleTimer,
    SendCommand,
    StartInstance,
)
from streams.metrics import Metrics
from streams.worker.intake import Intake, Rejected
from streams.worker.stored import pack, unpack_state, unpack_timers
from streams.worker.timers import TimerWheel

log = logging.getLogger(__name__)


class Decider(Protocol):
    """What the processor needs of ``streams.engine.Engine``."""

    def decide(
        self, state: CustomerState | None, event: Input, now: float
    ) -> tuple[CustomerState, list[Effect]]: ...

    def may_change(self, event: Input, mentions: Callable[[str], bool]) -> bool: ...


class Table(Protocol):
    def get(self, partition: int, key: bytes) -> bytes | None: ...

    def put(self, partition: int, key: bytes, value: bytes | None) -> None: ...

    async def flush(self) -> None: ...


class Publisher(Protocol):
    async def publish_many(self, commands: Sequence[SendCommand]) -> None: ...


class _Customer:
    """A customer's state while a batch is handled."""

    __slots__ = ("inputs", "key", "partition", "state", "stored")

    def __init__(self, key: bytes, partition: int, stored: bytes | None) -> None:
        self.key = key
        self.partition = partition
        self.stored = stored
        """The bytes in the table before this batch."""
        self.state = unpack_state(stored) if stored is not None else None
        self.inputs: list[Input] = []
        """The inputs decided so far in this batch."""

    def roll_back(self, engine: Decider, now: float) -> None:
        """Back to the state after ``inputs``, dropping what a failed decision changed: the
        stored state with those inputs decided again (the engine is deterministic), rather
        than a copy of the state taken before each decision."""
        state = unpack_state(self.stored) if self.stored is not None else None
        for done in self.inputs:
            state, _ = engine.decide(state, done, now)
        self.state = state


class _Mentions:
    """Whether a stored customer holds a text (an id), read without decoding it: ids are
    stored as they are, so one absent from the bytes is absent from the state. One per
    batch, set to each customer's bytes in turn."""

    __slots__ = ("stored",)

    def __init__(self) -> None:
        self.stored: bytes | None = None

    def __call__(self, text: str) -> bool:
        return self.stored is not None and text.encode() in self.stored


class Processor:
    def __init__(
        self,
        engine: Decider,
        intake: Intake,
        customers: Table,
        wheel: TimerWheel,
        publisher: Publisher,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._intake = intake
        self._customers = customers
        self._wheel = wheel
        self._publisher = publisher
        self._metrics = metrics
        self._clock = clock

    async def handle_batch(self, records: Sequence[Any]) -> None:
        """Handle ``records``; a record that cannot be handled goes to the dead-letter topic."""
        customers: dict[bytes, _Customer] = {}
        commands: list[SendCommand] = []
        tally = _Tally()
        now = self._clock()
        parse, decide = self._intake.parse, self._engine.decide
        may_change = self._engine.may_change
        mentions = _Mentions()
        kinds: list[str] = []  # counted once at the end (Counter.update counts in C)
        for record in records:
            try:
                event = parse(record)
            except Rejected as rejected:
                await self._intake.dead_letter(record, rejected.stage, rejected.error)
                continue
            key = record.key or event.customer_id.encode()  # parse checked they match
            customer = customers.get(key)
            if customer is None:
                stored = mentions.stored = self._customers.get(record.partition, key)
                if not may_change(event, mentions):
                    kinds.append(event.kind)
                    continue
                customer = customers[key] = _Customer(key, record.partition, stored)
            try:
                customer.state, effects = decide(customer.state, event, now)
            # Principle 5: the record is kept in the dead-letter topic, the stream goes on.
            except Exception as exc:
                log.exception(
                    "deciding on %s[%s]@%s failed", record.topic, record.partition, record.offset
                )
                customer.roll_back(self._engine, now)
                await self._intake.dead_letter(record, "handle", exc)
                continue
            customer.inputs.append(event)
            if type(event) is TimerFired:
                tally.lateness.append(max(0.0, now - event.due_at))
            else:
                kinds.append(event.kind)
            if effects:
                self._apply(effects, commands, tally)
        tally.events.update(kinds)
        for customer in customers.values():
            if customer.inputs:
                self._store(customer)
        await self._customers.flush()
        if commands:
            await self._publisher.publish_many(commands)
        tally.report(self._metrics)

    def _store(self, customer: _Customer) -> None:
        state = customer.state
        stored = customer.stored
        if state is None or state.is_empty():
            if stored is not None:
                self._customers.put(customer.partition, customer.key, None)
            return
        value, pending = pack(customer.partition, state)
        if value == stored:
            return
        self._customers.put(customer.partition, customer.key, value)
        if not pending:
            return
        if stored is None:
            changed = pending
        elif stored.startswith(value[: value.index(b"\n") + 1]):
            return  # the same timers line: no timer changed
        else:
            before = unpack_timers(stored)[1]
            changed = {i: t for i, t in pending.items() if before.get(i) != t}
        if changed:
            self._wheel.add(customer.partition, customer.key, changed)

    def _apply(self, effects: list[Effect], commands: list[SendCommand], tally: _Tally) -> None:
        for effect in effects:
            if type(effect) in _NOT_TALLIED:  # most effects: the state already holds them
                continue
            if isinstance(effect, SendCommand):
                commands.append(effect)
            elif isinstance(effect, StartInstance):
                tally.started[effect.scenario_id] += 1
            elif isinstance(effect, ExitInstance):
                tally.ended[(effect.scenario_id, effect.reason)] += 1
            elif isinstance(effect, RecordConversion):
                tally.conversions[effect.scenario_id] += 1
                tally.revenue[(effect.scenario_id, effect.currency)] += effect.revenue / 100


_NOT_TALLIED = frozenset({ScheduleTimer, CancelTimer, AdvanceInstance})
"""Effects the processor has nothing to do for: timers come from the stored state."""


class _Tally:
    """A batch's counts, added to the metrics once at its end (a labelled Prometheus
    increment costs microseconds: per event, it showed in profiles)."""

    __slots__ = ("conversions", "ended", "events", "lateness", "revenue", "started")

    def __init__(self) -> None:
        self.events: Counter[str] = Counter()
        self.lateness: list[float] = []
        self.started: Counter[str] = Counter()
        self.ended: Counter[tuple[str, str]] = Counter()
        self.conversions: Counter[str] = Counter()
        self.revenue: defaultdict[tuple[str, str], float] = defaultdict(float)

    def report(self, metrics: Metrics) -> None:
        for kind, count in self.events.items():
            metrics.events.labels(kind).inc(count)
        for seconds in self.lateness:
            metrics.timer_lateness.observe(seconds)
        for scenario, count in self.started.items():
            metrics.instances_started.labels(scenario).inc(count)
        for (scenario, reason), count in self.ended.items():
            metrics.instances_ended.labels(scenario, reason).inc(count)
        for scenario, count in self.conversions.items():
            metrics.conversions.labels(scenario).inc(count)
        for (scenario, currency), amount in self.revenue.items():
            metrics.conversion_revenue.labels(scenario, currency).inc(amount)
