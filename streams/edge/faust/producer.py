"""Sending without Faust's send buffer.

``Topic.send_soon`` (which ``Table.send_changelog`` uses) puts each record in Faust's
producer buffer, drained by a background task one record per turn of the event loop. When
the intake holds the loop for a batch at a time, that task falls behind: records wait in
the buffer (memory grows by hundreds of MiB under load) and commands reach the broker tens of
seconds late. The hot path therefore hands records straight to the aiokafka producer that
Faust's producer wraps: the changelog records of a batch as one record batch per partition,
commands as one record batch per partition of their topic (their keys give the partition, as
Kafka's default partitioner would). Faust's commit still flushes that producer before it
commits offsets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aiokafka.partitioner import DefaultPartitioner

from streams.edge.faust.stop import stop_worker
from streams.metrics import Metrics
from streams.pipeline.ports import Headers, KeyedRecord, Record

log = logging.getLogger(__name__)


class DirectProducer:
    def __init__(self, app: Any, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics
        self._crashes: set[asyncio.Future[Any]] = set()
        self._partitioner = DefaultPartitioner()

    @property
    def _kafka(self) -> Any:
        # Faust's aiokafka driver keeps its producer behind this (private) accessor.
        return self._app.producer._ensure_producer()

    async def send_keyed(
        self,
        topic: str,
        records: Sequence[KeyedRecord],
        on_delivery: Callable[[list[int]], None],
    ) -> None:
        """Append ``records`` to the partitions their keys give, as record batches;
        ``on_delivery`` gets the indexes of a partition's records once the broker has all of
        them."""
        partitions = sorted(await self._kafka.partitions_for(topic))
        by_partition: dict[int, list[int]] = {}
        for index, (key, _, _) in enumerate(records):
            partition = self._partitioner(key, partitions, partitions)
            by_partition.setdefault(partition, []).append(index)
        for partition, indexes in by_partition.items():
            await self._send_batches(
                topic,
                partition,
                (records[i] for i in indexes),
                lambda _, indexes=indexes: on_delivery(indexes),  # type: ignore[misc]
            )

    async def send_partition(
        self,
        topic: str,
        partition: int,
        records: Iterable[Record],
        on_delivery: Callable[[int], None],
    ) -> None:
        """Append ``records`` to ``partition`` as record batches; ``on_delivery`` gets the
        offset of the last record once the broker has acknowledged all of them."""
        await self._send_batches(
            topic, partition, ((key, value, None) for key, value in records), on_delivery
        )

    async def _send_batches(
        self,
        topic: str,
        partition: int,
        records: Iterable[tuple[bytes | None, bytes | None, Headers | None]],
        on_delivery: Callable[[int], None],
    ) -> None:
        kafka = self._kafka
        futures = []
        batch = kafka.create_batch()
        count = 0
        for key, value, headers in records:
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                futures.append((await kafka.send_batch(batch, topic, partition=partition), count))
                batch, count = kafka.create_batch(), 0
                batch.append(key=key, value=value, timestamp=None, headers=headers)
            count += 1
        if count:
            futures.append((await kafka.send_batch(batch, topic, partition=partition), count))
        if not futures:
            return
        last, last_count = futures[-1]

        def delivered(done: asyncio.Future[Any]) -> None:
            if self._delivered(done, topic):
                on_delivery(last.result().offset + last_count - 1)

        asyncio.gather(*(f for f, _ in futures)).add_done_callback(delivered)

    def _delivered(self, done: asyncio.Future[Any], topic: str) -> bool:
        """True when the broker has the records; a delivery that failed after the
        producer's retries stops the worker, as a failed send does in Faust: offsets past
        it must not be committed, and the restart reads them again."""
        if done.cancelled():
            return False
        error = done.exception()
        if error is None:
            return True
        self._metrics.producer_errors.labels(topic).inc()
        log.error("delivery to %s failed: %s; stopping", topic, type(error).__name__)
        self._crashes.add(asyncio.ensure_future(stop_worker(self._app, error)))
        return False
