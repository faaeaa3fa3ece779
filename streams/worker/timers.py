"""Durable timers, the worker's side (DESIGN.md, principle 3).

The truth is the first line of each customer's record in the ``customers`` table
(changelog-backed; see ``streams.worker.stored``). ``TimerWheel`` keeps a heap per actively
owned partition, rebuilt from that table after recovery and dropped on revocation. A due
timer is published to the internal due-timers topic, on its customer's partition, and comes
back into the stream as a ``TimerFired`` input; its version makes a stale or repeated fire a
no-op.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

import orjson

from streams.engine import TimerFired
from streams.worker.stored import unpack_timers


def timer_to_bytes(fired: TimerFired) -> bytes:
    return orjson.dumps(
        {
            "customer_id": fired.customer_id,
            "instance_id": fired.instance_id,
            "version": fired.version,
            "due_at": fired.due_at,
        }
    )


def timer_from_bytes(payload: bytes) -> TimerFired:
    data = orjson.loads(payload)
    return TimerFired(
        str(data["customer_id"]),
        str(data["instance_id"]),
        int(data["version"]),
        float(data["due_at"]),
    )


class TimerWheel:
    """Heaps of (due_at, customer key, instance id, version), one per active partition."""

    def __init__(self) -> None:
        self._heaps: dict[int, list[tuple[float, bytes, str, int]]] = {}
        self.ready = False
        """False between a revocation and the end of the next recovery: nothing fires."""

    def rebuild(self, partitions: Iterable[int], table: Iterable[tuple[bytes, bytes]]) -> None:
        """Heaps for exactly ``partitions``, from every ``(key, value)`` of the customers
        table."""
        self._heaps = {p: [] for p in partitions}
        for key, value in table:
            partition, pending = unpack_timers(value)
            heap = self._heaps.get(partition)
            if heap is None:
                continue
            for instance_id, (due_at, version) in pending.items():
                heap.append((due_at, key, instance_id, int(version)))
        for heap in self._heaps.values():
            heapq.heapify(heap)
        self.ready = True

    def clear(self) -> None:
        self._heaps = {}
        self.ready = False

    def add(self, partition: int, key: bytes, pending: Mapping[str, list[float]]) -> None:
        heap = self._heaps.get(partition)
        if heap is None:
            return
        for instance_id, (due_at, version) in pending.items():
            heapq.heappush(heap, (due_at, key, instance_id, int(version)))

    def pop_due(self, now: float) -> list[tuple[int, float, bytes, str, int]]:
        """Every entry due at ``now``: (partition, due_at, key, instance id, version)."""
        due = []
        for partition, heap in self._heaps.items():
            while heap and heap[0][0] <= now:
                due_at, key, instance_id, version = heapq.heappop(heap)
                due.append((partition, due_at, key, instance_id, version))
        return due

    def __len__(self) -> int:
        return sum(len(heap) for heap in self._heaps.values())
