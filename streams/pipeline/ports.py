"""What the pipeline needs of the outside world, as small typed interfaces.

The pipeline imports no Faust, aiokafka or Redis: ``streams.edge`` implements these ports
(``streams.edge.faust`` the runtime, the table and the producer, ``streams.edge.redis`` the
catalog, the profiles and the ledger), ``streams.pipeline.memory`` implements them in memory
on simulated time (``rebound replay`` and the unit tests), and ``streams.app`` wires them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from streams.engine.context import Profile

Headers = list[tuple[str, bytes]]
KeyedRecord = tuple[bytes | None, bytes | None, Headers]
"""Key (None: the producer picks a partition), value and headers."""
Record = tuple[bytes, bytes | None]
"""Key and value (None for a tombstone)."""


class InputRecord(Protocol):
    """A record as the consumer hands it over (aiokafka's ``ConsumerRecord``)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


class Batch(Protocol):
    """The records of one fetch, each partition's in offset order."""

    @property
    def records(self) -> Sequence[InputRecord]: ...


class RuntimeListener(Protocol):
    """What a runtime calls as partitions come and go and time passes
    (``streams.pipeline.commit.CommitProtocol``)."""

    def revoked(self) -> None:
        """Partitions are being taken away: nothing fires or is emptied until ``ready``."""

    async def ready(self, partitions: set[int]) -> None:
        """The customers table of ``partitions`` (all this worker now owns) is restored."""

    async def tick(self) -> None:
        """Time has passed: publish the timers due by now."""


class Runtime(Protocol):
    """The stream runtime the commit protocol runs on: Faust and the broker in the worker
    (``streams.edge.faust.runtime``), simulated time in ``rebound replay``
    (``streams.pipeline.memory``)."""

    def listen(self, listener: RuntimeListener) -> None:
        """From now on, tell ``listener`` of revocations, restored partitions and ticks."""

    async def next_batch(self) -> Batch | None:
        """The next batch to handle, or None once the runtime stops. A batch fetched before
        a rebalance is never returned (the runtime reads its records again); a revocation
        waits until the batch returned is acknowledged."""

    def acknowledge(self, batch: Batch, handled: bool) -> None:
        """Step 6 of the commit protocol: a handled batch's offsets are committed once
        everything produced before this call is flushed to the broker; an unhandled one's
        never are (its records are read again after a restart)."""


class ScenarioVersions(Protocol):
    """The scenario versions other workers published (``streams.edge.kafka.scenario_log``)."""

    def read_new(self) -> Sequence[Any]:
        """The versions the engine does not know; blocking."""
        ...

    def keep(self, scenarios: Sequence[Any]) -> None:
        """Give them to the engine, for the instances in flight on them."""
        ...


class CustomerStore(Protocol):
    """The ``customers`` table, a partition at a time."""

    def get(self, partition: int, key: bytes) -> bytes | None: ...

    def get_many(self, keys: Sequence[tuple[int, bytes]]) -> list[bytes | None]:
        """The values of ``(partition, key)`` pairs, in order: one read for a batch."""
        ...

    def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        """Stored (and sent to the changelog) at the next ``flush``."""

    async def flush(self) -> None: ...

    def items(self) -> Iterable[tuple[bytes, bytes]]:
        """Every stored (key, value) of the partitions this worker has."""


class Sender(Protocol):
    """The producer. ``on_delivery`` runs once the broker has acknowledged the records; a
    delivery that fails after the producer's retries stops the worker (offsets past it are
    never committed)."""

    async def send_keyed(
        self,
        topic: str,
        records: Sequence[KeyedRecord],
        on_delivery: Callable[[list[int]], None],
    ) -> None:
        """Records to the partitions their keys give; ``on_delivery`` gets the indexes of a
        partition's records once the broker has them."""

    async def send_partition(
        self,
        topic: str,
        partition: int,
        records: Iterable[Record],
        on_delivery: Callable[[int], None],
    ) -> None:
        """Records to one partition; ``on_delivery`` gets the offset of the last one."""


@dataclass(frozen=True, slots=True)
class Product:
    """A catalog entry, as a send command's recommendation carries it."""

    sku: str
    name: str
    price: int
    """Minor units of ``currency``."""
    currency: str
    url: str
    """Empty when the catalog entry has none."""


class Catalog(Protocol):
    async def products(self, skus: Iterable[str]) -> list[Product]:
        """The known products among ``skus``, in order; an unknown SKU, or one whose entry
        lacks a name, price or currency, is left out and counted."""


class Profiles(Protocol):
    """Customer profiles, owned by the CRM (``streams.edge.redis.profiles``)."""

    async def get_many(self, customer_ids: Iterable[str]) -> dict[str, Profile | None]:
        """The profile of each of ``customer_ids``; None for a customer without one. A
        batch's reads overlap: a call may come before the previous one has returned."""


class Ledger(Protocol):
    """Ids of the commands already published (``streams.edge.redis.ledger``)."""

    async def published_many(self, command_ids: list[str]) -> list[bool]: ...

    async def record_many(self, command_ids: list[str]) -> None: ...


def no_delivery_callback(_: Any) -> None:
    """For records whose delivery nobody waits for (the offsets' commit flushes them)."""
