"""Faust tables read and written a partition at a time, outside Faust's per-event path.

The intake handles a batch of records, not one Faust event, so there is no "current event"
for a table to take its partition from. ``PartitionedTable`` names the partition instead: it
sets Faust's current-event context to a stand-in that carries only that partition (all that
Faust's stores read of it) and writes the value to the table's store. ``flush`` then sends
the batch's writes to the table's changelog, once per key and batch rather than once per
event, as one record batch per partition (see ``streams.worker.producer``), and records the
changelog offset the store holds once the broker has them, as Faust's ``send_changelog``
callback does. Values are bytes (the tables use the raw serializer); the changelog record
is the stored bytes as they are.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterator
from typing import Any

from faust.streams import _current_event
from faust.types import TP

from streams.worker.producer import DirectProducer


class _PartitionEvent:
    """Stands for the event being processed, for a store that only asks its partition."""

    __slots__ = ("__weakref__", "message", "partition")

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self.message = self


class PartitionedTable:
    def __init__(self, table: Any, producer: DirectProducer) -> None:
        self.table = table
        self._producer = producer
        self._unsent: dict[int, dict[bytes, bytes | None]] = {}
        self._events: dict[int, tuple[_PartitionEvent, weakref.ref[_PartitionEvent]]] = {}

    def _enter(self, partition: int) -> Any:
        entry = self._events.get(partition)
        if entry is None:
            event = _PartitionEvent(partition)
            entry = self._events[partition] = (event, weakref.ref(event))
        return _current_event.set(entry[1])  # type: ignore[arg-type]

    def get(self, partition: int, key: bytes) -> bytes | None:
        token = self._enter(partition)
        try:
            value: bytes | None = self.table.data.get(key)
            return value
        finally:
            _current_event.reset(token)

    def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        """Store ``value`` (None deletes the key); ``flush`` sends it to the changelog."""
        token = self._enter(partition)
        try:
            store = self.table.data
            if value is None:
                if key in store:
                    del store[key]
            else:
                store[key] = value
        finally:
            _current_event.reset(token)
        self._unsent.setdefault(partition, {})[key] = value

    async def flush(self) -> None:
        """Send every write since the last flush to the changelog (the last per key)."""
        unsent, self._unsent = self._unsent, {}
        topic = self.table.changelog_topic.get_topic_name()
        store = self.table.data
        for partition, writes in unsent.items():
            persisted = functools.partial(store.set_persisted_offset, TP(topic, partition))
            await self._producer.send_partition(topic, partition, writes.items(), persisted)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) the store holds for the partitions this worker has."""
        yield from self.table.data.items()
