"""The pipeline's ports in memory, and a runtime on simulated time: the commit protocol runs
on them exactly as it runs on Faust, Kafka and Redis in the worker.

``rebound replay`` uses them to run a scenario folder over recorded events (the worker's
own batch path: intake, processor, stored records, timer wheel, commands, tally), and the
unit tests to drive the protocol step by step. Nothing here touches a network or a disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from streams.engine.context import Profile
from streams.pipeline.ports import Batch, KeyedRecord, Product, Record, RuntimeListener


class MemoryStore:
    """The customers table: a dict; what each flush wrote, in ``changelog``."""

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.changelog: list[tuple[int, bytes, bytes | None]] = []
        self._unsent: dict[tuple[int, bytes], bytes | None] = {}

    def get(self, partition: int, key: bytes) -> bytes | None:
        if (partition, key) in self._unsent:
            return self._unsent[(partition, key)]
        return self.data.get(key)

    def get_many(self, keys: Sequence[tuple[int, bytes]]) -> list[bytes | None]:
        return [self.get(partition, key) for partition, key in keys]

    def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        self._unsent[(partition, key)] = value

    async def flush(self) -> None:
        for (partition, key), value in self._unsent.items():
            if value is None:
                self.data.pop(key, None)
            else:
                self.data[key] = value
            self.changelog.append((partition, key, value))
        self._unsent = {}

    def items(self) -> Iterable[tuple[bytes, bytes]]:
        return list(self.data.items())


@dataclass(slots=True)
class Sent:
    topic: str
    partition: int | None
    """None: the key's partition (``send_keyed``)."""
    key: bytes | None
    value: bytes | None
    headers: Any


@dataclass
class MemorySender:
    """The producer. The broker's acknowledgements come when ``deliver()`` is called, or at
    once with ``at_once`` (the replay: a broker that never fails). The records of the
    ``keep`` topics are kept in ``sent`` (None: every topic's)."""

    at_once: bool = False
    keep: frozenset[str] | None = None
    sent: list[Sent] = field(default_factory=list)
    pending: list[Callable[[], None]] = field(default_factory=list)

    async def send_keyed(
        self,
        topic: str,
        records: Sequence[KeyedRecord],
        on_delivery: Callable[[list[int]], None],
    ) -> None:
        if self.keep is None or topic in self.keep:
            self.sent += [Sent(topic, None, k, v, h) for k, v, h in records]
        indexes = list(range(len(records)))
        self._delivered(lambda: on_delivery(indexes))

    async def send_partition(
        self,
        topic: str,
        partition: int,
        records: Iterable[Record],
        on_delivery: Callable[[int], None],
    ) -> None:
        if self.keep is None or topic in self.keep:
            self.sent += [Sent(topic, partition, k, v, None) for k, v in records]
        self._delivered(lambda: on_delivery(0))

    def _delivered(self, acknowledge: Callable[[], None]) -> None:
        if self.at_once:
            acknowledge()
        else:
            self.pending.append(acknowledge)

    def deliver(self) -> None:
        pending, self.pending = self.pending, []
        for acknowledge in pending:
            acknowledge()

    def on(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == topic]

    def take(self, topic: str) -> list[Sent]:
        """What was sent to ``topic`` since the last take, taken out."""
        taken = [s for s in self.sent if s.topic == topic]
        if taken:
            self.sent = [s for s in self.sent if s.topic != topic]
        return taken


class MemoryCatalog:
    def __init__(self, products: dict[str, Product] | None = None) -> None:
        self.products_by_sku = products or {}

    async def products(self, skus: Iterable[str]) -> list[Product]:
        return [self.products_by_sku[s] for s in skus if s in self.products_by_sku]


class MemoryLedger:
    def __init__(self) -> None:
        self.ids: set[str] = set()

    async def published_many(self, command_ids: list[str]) -> list[bool]:
        return [c in self.ids for c in command_ids]

    async def record_many(self, command_ids: list[str]) -> None:
        self.ids.update(command_ids)


class MemoryProfiles:
    """Profiles by customer id; with ``keep_lookups``, the lookups made (a sorted list per
    read)."""

    def __init__(
        self, profiles: dict[str, Profile] | None = None, keep_lookups: bool = False
    ) -> None:
        self.profiles = profiles or {}
        self.lookups: list[list[str]] = []
        self._keep = keep_lookups

    async def get_many(self, customer_ids: Iterable[str]) -> dict[str, Profile | None]:
        wanted = sorted(customer_ids) if self._keep else customer_ids
        if self._keep:
            self.lookups.append(list(wanted))
        return {c: self.profiles.get(c) for c in wanted}


@dataclass(slots=True)
class MemoryRecord:
    """A record as the consumer hands it over (``streams.pipeline.ports.InputRecord``)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


@dataclass(slots=True)
class MemoryBatch:
    records: list[MemoryRecord]


class SimulatedClock:
    """The time the pipeline reads, moved by ``SimulatedRuntime``."""

    __slots__ = ("now",)

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class SimulatedRuntime:
    """A ``Runtime`` on simulated time, with one partition and no rebalance.

    Inputs are (time, record) pairs in time order, each handed over as its own batch at its
    time. Between them, the clock jumps to each timer's due time (``next_due``, the commit
    protocol's wheel), the listener's tick publishes the due timers to ``due_topic`` of
    ``sender``, and they come back as a batch at that time, as the worker's due timers do.
    Timers run on until ``until``.
    """

    def __init__(
        self,
        inputs: Iterable[tuple[float, MemoryRecord]],
        clock: SimulatedClock,
        sender: MemorySender,
        due_topic: str,
        next_due: Callable[[float], float | None],
        until: float,
    ) -> None:
        self._inputs: Iterator[tuple[float, MemoryRecord]] = iter(inputs)
        self._ahead: tuple[float, MemoryRecord] | None = next(self._inputs, None)
        self._clock = clock
        self._sender = sender
        self._due_topic = due_topic
        self._next_due = next_due
        self._until = until
        self._listener: RuntimeListener | None = None
        self._ready = False
        self._offsets = 0

    def listen(self, listener: RuntimeListener) -> None:
        self._listener = listener

    async def next_batch(self) -> MemoryBatch | None:
        listener = self._listener
        if listener is None:
            raise RuntimeError("SimulatedRuntime.listen() first")
        if not self._ready:
            self._ready = True
            await listener.ready({0})
        at = self._ahead[0] if self._ahead is not None else self._until
        due = self._next_due(min(at, self._until))
        if due is not None:  # timers first, up to the next input's time
            self._clock.now = max(self._clock.now, due)
            await listener.tick()
            fired = self._sender.take(self._due_topic)
            if not fired:  # the tick publishes every timer due, stale ones included
                raise RuntimeError(f"the timers due at {due} did not fire")
            fired.sort(key=lambda sent: sent.key or b"")  # the same order from run to run
            return MemoryBatch([self._record(self._due_topic, s) for s in fired])
        if self._ahead is None:
            return None
        at, record = self._ahead
        self._ahead = next(self._inputs, None)
        self._clock.now = max(self._clock.now, at)
        return MemoryBatch([record])

    def _record(self, topic: str, sent: Sent) -> MemoryRecord:
        self._offsets += 1
        return MemoryRecord(topic, 0, self._offsets, sent.key, sent.value, [])

    def acknowledge(self, batch: Batch, handled: bool) -> None:
        pass  # nothing to commit: the inputs are read once
