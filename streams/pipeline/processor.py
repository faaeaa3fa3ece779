"""A batch of records through the engine: each customer's state loaded once, the profiles
the batch needs read from Redis while the batch is parsed, every input decided in the
batch's order (so one customer's events keep their partition's order).

A record that cannot be decoded or validated goes to the dead-letter topic; one keyed
otherwise than by its customer goes through the repartition topic; one whose decision fails
goes to the dead-letter topic and leaves its customer as if it had not come. What becomes of
the decided customers (commands, stored records) is ``streams.pipeline.commit``'s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from streams.codecs import RegistryUnavailable
from streams.engine import CustomerState, Input, TimerFired
from streams.engine.context import Context, Profile
from streams.engine.effects import Effect, SendCommand
from streams.metrics import Metrics
from streams.pipeline.intake import KIND_HEADER, Intake, Misrouted, Rejected
from streams.pipeline.ports import CustomerStore, Profiles, Sender, no_delivery_callback
from streams.pipeline.stored import unpack_state
from streams.pipeline.tally import Tally

log = logging.getLogger(__name__)
REGISTRY_RETRY_S = 2.0
PROFILES_READ_EVERY = 500
"""Customers whose profiles are read together while the batch is parsed."""


class Decider(Protocol):
    """What the processor needs of ``streams.engine.Engine``."""

    unread: Context

    def decide(
        self,
        state: CustomerState | None,
        event: Input,
        now: float,
        context: Context | None = None,
    ) -> tuple[CustomerState, list[Effect]]: ...

    def may_change(self, event: Input, mentions: Callable[[str], bool]) -> bool: ...

    def needs_profile(self, event: Input) -> bool: ...

    def context(self, profile: Profile | None) -> Context: ...


class Customer:
    """A customer's state while a batch is handled: the stored bytes before the batch, the
    inputs decided since and what each decided."""

    __slots__ = (
        "context",
        "effects",
        "inputs",
        "key",
        "partition",
        "records",
        "state",
        "stored",
        "timers",
    )

    def __init__(self, key: bytes, partition: int, stored: bytes | None, context: Context) -> None:
        self.key = key
        self.partition = partition
        self.stored = stored
        """The bytes in the table before this batch."""
        self.context = context
        """The profile and rules every input of the batch is decided with."""
        self.state = unpack_state(stored) if stored is not None else None
        self.inputs: list[Input] = []
        self.records: list[Any] = []
        """The record of each input, for the dead-letter topic."""
        self.effects: list[list[Effect]] = []
        """What each input decided."""
        self.timers: dict[str, list[float]] = {}
        """The pending timers of the record packed for this batch."""

    def commands(self) -> list[tuple[int, SendCommand]]:
        """The commands decided in this batch, each with the index of its input."""
        return [
            (i, e)
            for i, effects in enumerate(self.effects)
            for e in effects
            if isinstance(e, SendCommand)
        ]

    def drop(self, index: int, engine: Decider, now: float) -> Any:
        """Forget input ``index`` (it failed): the state is the stored one with the other
        inputs decided again (the engine is deterministic). Returns its record."""
        record = self.records.pop(index)
        del self.inputs[index]
        self.replay(engine, now)
        return record

    def replay(self, engine: Decider, now: float) -> None:
        state = unpack_state(self.stored) if self.stored is not None else None
        effects = []
        for done in self.inputs:
            state, decided = engine.decide(state, done, now, self.context)
            effects.append(decided)
        self.state, self.effects = state, effects


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
        customers: CustomerStore,
        sender: Sender,
        repartition_topic: str,
        metrics: Metrics,
        profiles: Profiles,
    ) -> None:
        self.engine = engine
        self.intake = intake
        self._customers = customers
        self._profiles = profiles
        self._sender = sender
        self._repartition_topic = repartition_topic
        self._metrics = metrics

    async def decide(self, records: Sequence[Any], now: float, tally: Tally) -> list[Customer]:
        """Decide on every record; the customers whose inputs may have changed them."""
        engine = self.engine
        parsed: list[tuple[Any, Input]] = []
        wanted: set[str] = set()
        keys: dict[bytes, int] = {}
        needs_profile, parse = engine.needs_profile, self.intake.parse
        # Profiles are read while the records are parsed: a read starts for every
        # PROFILES_READ_EVERY customers that need one and Redis answers meanwhile (it waited
        # for one read of the whole batch after the parse: 8% of the worker's time under
        # load, now 2%). Each read is a task; the pause lets it send its request.
        reads: list[Awaitable[dict[str, Profile | None]]] = []
        asking: list[str] = []
        for record in records:
            try:  # the common case without a coroutine per record
                event: Input | None = parse(record, now)
            except (Rejected, Misrouted, RegistryUnavailable):
                event = await self._parse(record, now)
            if event is not None:
                parsed.append((record, event))
                keys.setdefault(record.key, record.partition)
                if needs_profile(event) and event.customer_id not in wanted:
                    wanted.add(event.customer_id)
                    asking.append(event.customer_id)
                    if len(asking) == PROFILES_READ_EVERY:
                        reads.append(asyncio.ensure_future(self._profiles.get_many(asking)))
                        asking = []
                        await asyncio.sleep(0)
        if asking:
            reads.append(asyncio.ensure_future(self._profiles.get_many(asking)))
            await asyncio.sleep(0)
        pairs = [(partition, key) for key, partition in keys.items()]
        stored_of = dict(zip(keys, self._customers.get_many(pairs), strict=True))
        profiles: dict[str, Profile | None] = {}
        for read in await asyncio.gather(*reads):
            profiles.update(read)
        customers: dict[bytes, Customer] = {}
        decide, may_change, unread = engine.decide, engine.may_change, engine.unread
        mentions = _Mentions()
        kinds = tally.kinds
        for record, event in parsed:
            key = record.key
            customer = customers.get(key)
            if customer is None:
                stored = mentions.stored = stored_of[key]
                if not may_change(event, mentions):
                    kinds.append(event.kind)
                    continue
                customer_id = event.customer_id
                context = engine.context(profiles[customer_id]) if customer_id in wanted else unread
                customer = customers[key] = Customer(key, record.partition, stored, context)
            try:
                state, effects = decide(customer.state, event, now, customer.context)
            # Principle 5: the record is kept in the dead-letter topic, the stream goes on.
            except Exception as exc:
                log.exception(
                    "deciding on %s[%s]@%s failed", record.topic, record.partition, record.offset
                )
                customer.replay(self.engine, now)
                await self.intake.dead_letter(record, "handle", exc)
                continue
            customer.state = state
            customer.inputs.append(event)
            customer.records.append(record)
            customer.effects.append(effects)
            if type(event) is TimerFired:
                tally.lateness.append(max(0.0, now - event.due_at))
            else:
                kinds.append(event.kind)
        return [c for c in customers.values() if c.inputs]

    async def _parse(self, record: Any, now: float) -> Input | None:
        """The record's input; None when it went to the dead-letter or repartition topic."""
        while True:
            try:
                return self.intake.parse(record, now)
            except Rejected as rejected:
                await self.intake.dead_letter(record, rejected.stage, rejected.error)
                return None
            except Misrouted as misrouted:
                await self._repartition(record, misrouted)
                return None
            except RegistryUnavailable as exc:  # nobody's fault: wait, nothing is lost
                log.warning("schema registry unavailable (%s); retrying", exc)
                await asyncio.sleep(REGISTRY_RETRY_S)

    async def _repartition(self, record: Any, misrouted: Misrouted) -> None:
        headers = [*(record.headers or ()), (KIND_HEADER, misrouted.kind.encode())]
        keyed = (misrouted.customer_id.encode(), record.value, headers)
        await self._sender.send_keyed(self._repartition_topic, [keyed], no_delivery_callback)
        self._metrics.repartitioned.labels(misrouted.kind).inc()
