"""Faust's Kafka consumer, with a batch path for the intake topics and one fix: a message
skipped because of a rebalance is not acknowledged.

The batch path. Faust hands each fetched record to its conductor and on to a stream, with
several task switches per record (``Consumer._drain_messages`` waits on two tasks per
message): about 10,000 records/s at best here, whatever the agent does. For the topics of a
``BatchRoute``, ``BatchingConsumer`` hands each fetch (up to ``broker_max_poll_records``
records) to the route's sink as one ``RecordBatch``, and the intake agent handles it as a
whole. Offsets stay Faust's: the agent calls ``batch_done`` once the batch's state and
commands are in the producer's buffer, which acknowledges every offset of the batch, and
Faust's commit flushes the producer before it commits them. A batch fetched before a
rebalance is not acknowledged (its records are read again after the seek), and a
revocation waits for the batch being handled. Other topics (the tables' changelogs during
recovery) take Faust's own path, record by record.

faust-streaming 0.15.3 skips, in ``Stream._py_aiter``, a message fetched before a rebalance
(its generation is not the consumer's, or flow control is suspended) and then acknowledges
it like a processed one. When the same worker keeps the partition, the commit made during
the rebalance moves past that message and it is never processed: an event lost (seen here
with two workers and a rebalance; upstream faust-streaming issues #216 and #221, PR #223).
This consumer lets such a message go without recording its offset, so the commit stops
before it and the message is read again after the seek. A message already processed when
the rebalance began may so be processed twice, which at-least-once allows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from faust.transport.drivers.aiokafka import Consumer, ensure_aiokafka_TP
from faust.types import TP
from mode.utils.futures import notify


@dataclass(slots=True)
class RecordBatch:
    """The records of one fetch from the intake topics (aiokafka ``ConsumerRecord`` objects),
    each partition's in offset order."""

    generation_id: int
    records: list[Any]
    offsets: dict[TP, tuple[int, int]] = field(default_factory=dict)
    """First and last offset of each topic partition in the batch."""


@dataclass(frozen=True)
class BatchRoute:
    """Which topics go by batch, and where their batches go."""

    topics: Collection[str]
    sink: Callable[[RecordBatch], Awaitable[None]]


class RebalanceSafeConsumer(Consumer):
    def ack(self, message: Any) -> bool:
        app = self.app
        if app.flow_control.is_active() and message.generation_id == app.consumer_generation_id:
            return bool(super().ack(message))
        message.acked = True  # no longer in flight, but its offset is not committable
        self._unacked_messages.discard(message)
        notify(self._waiting_for_ack)
        return False

    async def perform_seek(self) -> None:
        """Seek to committed offsets, and partitions that have none to their beginning.

        Kafka leaves a partition without a committed offset at its fetch position, which
        may be past messages fetched and then dropped by the rebalance: read from the start
        instead, as ``auto.offset.reset=earliest`` means for a new group.
        """
        await super().perform_seek()
        changelogs = self.app.tables.changelog_topics
        uncommitted = [
            tp
            for tp in self.assignment()
            if tp.topic not in changelogs and self._committed_offset.get(tp) is None
        ]
        if uncommitted:
            await self._thread.seek_to_beginning(*map(ensure_aiokafka_TP, uncommitted))
            for tp in uncommitted:
                self._read_offset[tp] = None


class BatchingConsumer(RebalanceSafeConsumer):
    route: BatchRoute | None = None

    def _new_offset(self, tp: TP) -> int | None:
        """The offset to commit for ``tp``: one past the run of acknowledged offsets that
        follows the committed one, taken off the acknowledged ones (None: nothing to commit).

        Faust's own (faust-streaming 0.15.3) finds that run with ``itertools.groupby`` and a
        lambda call per offset, at every commit over every offset acknowledged since: 2 to
        3% of the worker's time under load. The offsets are sorted and distinct (the index
        keeps them so), so the run is found by comparing its ends, or by bisection where
        it breaks. Offsets without a record (``_add_gap``) take Faust's way."""
        if self._gap.get(tp):
            return super()._new_offset(tp)
        acked = self._acked[tp]
        if not acked:
            return None
        acked.sort()
        committed = self._committed_offset[tp]
        if committed and acked[0] - committed > 1:
            return None
        run = leading_run(acked)
        done = acked[:run]
        del acked[:run]
        self._acked_index[tp].difference_update(done)
        return done[-1] + 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight = 0
        """Batches between ``batch_begin`` and ``batch_done``."""
        self._all_done = asyncio.Event()
        self._all_done.set()

    def batch_begin(self, batch: RecordBatch) -> bool:
        """True when ``batch`` is to be handled; False for one fetched before a rebalance,
        which is read again after the seek. Each True is followed by one ``batch_done``."""
        app = self.app
        if not app.flow_control.is_active() or batch.generation_id != app.consumer_generation_id:
            return False
        self._in_flight += 1
        self._all_done.clear()
        return True

    async def read_again(self, batch: RecordBatch) -> None:
        """Seek the partitions of a batch that ``batch_begin`` dropped back to its first
        offsets: the consumer's position is already past them, and a batch fetched in one
        generation may reach the agent after the seek that ended the next rebalance."""
        assigned = self.assignment()
        for tp, (first, _) in batch.offsets.items():
            if tp in assigned:
                await self.seek(tp, first)

    def batch_done(self, batch: RecordBatch, handled: bool = True) -> bool:
        """Acknowledge every offset of a handled ``batch`` (unless the generation changed).

        Call it once the batch's state and commands are in the producer's buffer: the next
        commit flushes them, then commits these offsets.
        """
        self._in_flight -= 1
        if not self._in_flight:
            self._all_done.set()
        if not handled or batch.generation_id != self.app.consumer_generation_id:
            return False
        for tp, (first, last) in batch.offsets.items():
            committed = self._committed_offset[tp]
            if committed is not None and last < committed:
                continue
            index = self._acked_index[tp]
            fresh = [o for o in range(first, last + 1) if o not in index]
            index.update(fresh)
            self._acked[tp].extend(fresh)
            self._n_acked += len(fresh)
        notify(self._waiting_for_ack)
        return True

    async def wait_empty(self) -> None:
        """Before a revocation or a stop commits: wait for the batch being handled."""
        while self._in_flight and not self.should_stop:
            await self.wait_first(self._all_done.wait(), timeout=1.0)
        await super().wait_empty()

    async def _drain_messages(self, fetcher: Any) -> None:
        route = self.route
        if route is None:
            await super()._drain_messages(fetcher)
            return
        consumer_stopped = self._stopped.is_set
        fetcher_stopped = fetcher._stopped.is_set
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                records, active = await self._wait_next_records(timeout=1.0)
                await asyncio.sleep(0)  # a fetch may return at once, again and again
                if not records or self.should_stop:
                    continue
                if not self.flow_active:
                    # Fetched while a rebalance stops the flow: dropped, so read again.
                    await self.perform_seek()
                    continue
                batch = RecordBatch(self.app.consumer_generation_id, [])
                for tp, tp_records in records.items():
                    buffered = tp in self._buffered_partitions
                    if active is not None and tp not in active and not buffered:
                        continue
                    if tp.topic in route.topics:
                        await self._add_to_batch(batch, tp, tp_records)
                    else:
                        await self._one_by_one(tp, tp_records)
                if batch.records:
                    await route.sink(batch)
        except self.consumer_stopped_errors:
            if not self.transport.app.should_stop:
                raise
        except asyncio.CancelledError:
            if not self.transport.app.should_stop:
                raise

    async def _add_to_batch(self, batch: RecordBatch, tp: TP, records: Sequence[Any]) -> None:
        last_read = self._read_offset[tp]
        fresh = [r for r in records if last_read is None or r.offset >= last_read]
        if not fresh:
            return
        for record in fresh:
            # Offsets with no record (transaction markers, compaction) count as done.
            if last_read and record.offset - last_read > 1:
                await self._add_gap(tp, last_read + 1, record.offset - 1)
            last_read = record.offset
        batch.records.extend(fresh)
        batch.offsets[tp] = (fresh[0].offset, fresh[-1].offset)
        self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
        self._read_offset[tp] = last_read

    async def _one_by_one(self, tp: TP, records: Sequence[Any]) -> None:
        """Faust's own path: each record through the conductor (changelogs in recovery)."""
        acks_enabled = self.app.topics.acks_enabled_for(tp.topic)
        for record in records:
            last_read = self._read_offset[tp]
            if last_read is not None and record.offset < last_read:
                continue
            if acks_enabled and last_read and record.offset - last_read > 1:
                await self._add_gap(tp, last_read + 1, record.offset - 1)
            message = self._to_message(tp, record)
            await self.wait_first(self.callback(message), self.suspend_flow.wait())
            self._read_offset[tp] = record.offset


def leading_run(offsets: Sequence[int]) -> int:
    """How many of ``offsets`` (sorted, distinct, not empty) follow the first without a gap."""
    first, count = offsets[0], len(offsets)
    if offsets[-1] - first == count - 1:
        return count
    low, high = 1, count - 1  # offsets[i] - i grows from first, past it at the first gap
    while low < high:
        middle = (low + high) // 2
        if offsets[middle] - middle == first:
            low = middle + 1
        else:
            high = middle
    return low


def install(app: Any, route: BatchRoute | None = None) -> None:
    """Make ``app`` create its consumer from ``BatchingConsumer``, sending ``route``'s topics
    by batch (none without a route)."""
    app.transport.Consumer = type("ReboundConsumer", (BatchingConsumer,), {"route": route})
