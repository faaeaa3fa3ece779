"""What the per-batch logic needs of the outside world, as small typed interfaces.

The pipeline imports no Faust, aiokafka or Redis: ``streams.edge`` implements these ports
(``streams.edge.faust`` the table and the producer, ``streams.edge.redis`` the catalog, the
profiles and the ledger), the unit tests implement them in memory, and ``streams.app`` wires them.
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
