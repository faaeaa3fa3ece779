"""Faust tables read and written a partition at a time, outside Faust's per-event path.

The intake handles a batch of records, not one Faust event, so there is no "current event"
for a table to take its partition from. ``PartitionedTable`` names the partition instead: it
sets Faust's current-event context to a stand-in that carries only that partition (all that
Faust's stores read of it), writes the value to the table's store, and sends it to the
table's changelog with ``Table.send_changelog``, once per key and batch rather than once
per event. Values are bytes (the tables use the raw serializer); the changelog record is the
stored bytes as they are.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

from faust.streams import _current_event


class _PartitionEvent:
    """Stands for the event being processed, for a store that only asks its partition."""

    __slots__ = ("__weakref__", "message", "partition")

    def __init__(self, partition: int) -> None:
        self.partition = partition
        self.message = self


class PartitionedTable:
    def __init__(self, table: Any) -> None:
        self.table = table
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
        """Store ``value`` (None deletes the key) and send it to the changelog."""
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
        self.table.send_changelog(partition, key, value)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) the store holds for the partitions this worker has."""
        yield from self.table.data.items()
