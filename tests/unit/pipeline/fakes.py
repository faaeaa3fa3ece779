"""In-memory implementations of the pipeline's ports, for unit tests of pure code: the
customers table, the producer (which acknowledges when told), the catalog and the ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from streams.engine.context import Profile
from streams.pipeline.ports import KeyedRecord, Product, Record


class MemoryStore:
    """A customers table: a dict, with what went to the changelog at each flush."""

    def __init__(self, log: list[str]) -> None:
        self.data: dict[bytes, bytes] = {}
        self.changelog: list[tuple[int, bytes, bytes | None]] = []
        self._unsent: dict[tuple[int, bytes], bytes | None] = {}
        self._log = log

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
            self._log.append(f"state {key.decode()}")
        self._unsent = {}

    def items(self) -> Iterable[tuple[bytes, bytes]]:
        return list(self.data.items())


@dataclass
class Sent:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: Any


@dataclass
class RecordingSender:
    """The producer: keeps what is sent; ``deliver()`` plays the broker's acknowledgements."""

    log: list[str]
    sent: list[Sent] = field(default_factory=list)
    pending: list[Callable[[], None]] = field(default_factory=list)

    async def send_keyed(
        self,
        topic: str,
        records: Sequence[KeyedRecord],
        on_delivery: Callable[[list[int]], None],
    ) -> None:
        for key, value, headers in records:
            self.sent.append(Sent(topic, key, value, headers))
            self.log.append(f"{topic} {key.decode() if key else None}")
        indexes = list(range(len(records)))
        self.pending.append(lambda: on_delivery(indexes))

    async def send_partition(
        self,
        topic: str,
        partition: int,
        records: Iterable[Record],
        on_delivery: Callable[[int], None],
    ) -> None:
        for key, value in records:
            self.sent.append(Sent(topic, key, value, None))
        self.pending.append(lambda: on_delivery(0))

    def deliver(self) -> None:
        pending, self.pending = self.pending, []
        for acknowledge in pending:
            acknowledge()

    def on(self, topic: str) -> list[Sent]:
        return [s for s in self.sent if s.topic == topic]


class MemoryCatalog:
    def __init__(self, products: dict[str, Product]) -> None:
        self.products_by_sku = products

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
    """Profiles by customer id; the lookups made, one list per batch."""

    def __init__(self, profiles: dict[str, Profile] | None = None) -> None:
        self.profiles = profiles or {}
        self.lookups: list[list[str]] = []

    async def get_many(self, customer_ids: Iterable[str]) -> dict[str, Profile | None]:
        wanted = sorted(customer_ids)
        self.lookups.append(wanted)
        return {c: self.profiles.get(c) for c in wanted}
