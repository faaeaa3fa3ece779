"""Faust's Kafka consumer, with one fix: a message skipped because of a rebalance is not
acknowledged.

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

from typing import Any

from faust.transport.drivers.aiokafka import Consumer, ensure_aiokafka_TP
from mode.utils.futures import notify


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


def install(app: Any) -> None:
    """Make ``app`` create its consumer from ``RebalanceSafeConsumer``."""
    app.transport.Consumer = RebalanceSafeConsumer
