"""Durable timers, the worker's side (docs/architecture.md, rule 3).

The truth is the first line of each customer's record in the ``customers`` table
(changelog-backed; see ``streams.pipeline.stored``). ``TimerWheel`` keeps a schedule per actively
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
from streams.metrics import Metrics
from streams.pipeline.ports import Sender, no_delivery_callback
from streams.pipeline.stored import unpack_timers


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


Entry = tuple[float, bytes, str, int]
"""(due_at, customer key, instance id, version)."""


class _Schedule:
    """One partition's pending timers, in buckets by the second they fall due in.

    A heap of a million timers cost ~7 us per pop (cache misses down twenty levels), so a
    hundred thousand falling due at once took most of a second just to come out. Here the
    heap holds only the seconds that have timers; a second that is wholly past comes out
    as one list, and only the current second's bucket is sorted through.
    """

    __slots__ = ("buckets", "seconds", "size")

    def __init__(self) -> None:
        self.buckets: dict[int, list[Entry]] = {}
        self.seconds: list[int] = []
        """A heap of the keys of ``buckets``."""
        self.size = 0

    def push(self, entry: Entry) -> None:
        second = int(entry[0])
        bucket = self.buckets.get(second)
        if bucket is None:
            bucket = self.buckets[second] = []
            heapq.heappush(self.seconds, second)
        bucket.append(entry)
        self.size += 1

    def pop_due(self, now: float) -> list[Entry]:
        due: list[Entry] = []
        seconds, buckets = self.seconds, self.buckets
        while seconds and seconds[0] <= now:
            second = seconds[0]
            bucket = buckets[second]
            if second + 1 > now:  # the current second: only what is due by now
                waiting = [entry for entry in bucket if entry[0] > now]
                if waiting:
                    due += [entry for entry in bucket if entry[0] <= now]
                    buckets[second] = waiting
                    break
            heapq.heappop(seconds)
            del buckets[second]
            due += bucket
        self.size -= len(due)
        return due


class TimerWheel:
    """The pending timers of each actively owned partition, earliest out first."""

    def __init__(self) -> None:
        self._schedules: dict[int, _Schedule] = {}
        self.ready = False
        """False between a revocation and the end of the next recovery: nothing fires."""

    def rebuild(self, partitions: Iterable[int], table: Iterable[tuple[bytes, bytes]]) -> None:
        """Schedules for exactly ``partitions``, from every ``(key, value)`` of the customers
        table."""
        self._schedules = {p: _Schedule() for p in partitions}
        for key, value in table:
            partition, pending = unpack_timers(value)
            schedule = self._schedules.get(partition)
            if schedule is None:
                continue
            for instance_id, (due_at, version) in pending.items():
                schedule.push((due_at, key, instance_id, int(version)))
        self.ready = True

    def clear(self) -> None:
        self._schedules = {}
        self.ready = False

    def add(self, partition: int, key: bytes, pending: Mapping[str, list[float]]) -> None:
        schedule = self._schedules.get(partition)
        if schedule is None:
            return
        for instance_id, (due_at, version) in pending.items():
            schedule.push((due_at, key, instance_id, int(version)))

    def pop_due(self, now: float) -> dict[int, list[Entry]]:
        """Every entry due at ``now``, by partition; within a second, in no set order."""
        due = {}
        for partition, schedule in self._schedules.items():
            entries = schedule.pop_due(now)
            if entries:
                due[partition] = entries
        return due

    def next_due(self, by: float) -> float | None:
        """When the earliest pending timer falls due, if it does by ``by`` (None: none
        does). Only a bucket of a second up to ``by`` is looked into."""
        firsts = [
            min(entry[0] for entry in schedule.buckets[schedule.seconds[0]])
            for schedule in self._schedules.values()
            if schedule.seconds and schedule.seconds[0] <= by
        ]
        due = min(firsts, default=None)
        return due if due is not None and due <= by else None

    def __len__(self) -> int:
        return sum(schedule.size for schedule in self._schedules.values())


async def fire_due(
    wheel: TimerWheel, sender: Sender, topic: str, metrics: Metrics, now: float
) -> None:
    """Publish every due timer to the due-timers topic, one record batch per partition.

    A timer rescheduled or cancelled since it was scheduled is published too: its
    version no longer matches, so the engine makes its fire a no-op. Checking it against
    the ``customers`` table here instead cost a table read per timer, which made a hundred
    thousand due at once seconds late.
    """
    if not wheel.ready:
        return
    for partition, entries in wheel.pop_due(now).items():
        records = (
            (key, timer_to_bytes(TimerFired(key.decode(), instance_id, version, due_at)))
            for due_at, key, instance_id, version in entries
        )
        await sender.send_partition(topic, partition, records, no_delivery_callback)
        metrics.timers_fired.inc(len(entries))
    metrics.timers_pending.set(len(wheel))
