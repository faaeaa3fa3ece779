"""Sending without Faust's send buffer.

``Topic.send_soon`` (which ``Table.send_changelog`` uses) puts each record in Faust's
producer buffer, drained by a background task one record per turn of the event loop. When
the intake holds the loop for a batch at a time, that task falls behind: records wait in
the buffer (memory grows by hundreds of MiB under load) and commands reach the broker tens of
seconds late. The hot path therefore hands records straight to the aiokafka producer that
Faust's producer wraps: the changelog records of a batch as one record batch per partition,
commands one by one. Faust's commit still flushes that producer before it commits offsets.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

Record = tuple[bytes, bytes | None]
"""Key and value (None for a tombstone)."""


class DirectProducer:
    def __init__(self, app: Any) -> None:
        self._app = app
        self._crashes: set[asyncio.Future[Any]] = set()

    @property
    def _kafka(self) -> Any:
        # Faust's aiokafka driver keeps its producer behind this (private) accessor.
        return self._app.producer._ensure_producer()

    async def send(
        self,
        topic: str,
        key: bytes,
        value: bytes,
        headers: list[tuple[str, bytes]],
        on_delivery: Callable[[], None],
    ) -> None:
        """Append one record (partitioned by key); ``on_delivery`` runs once it is acked."""
        future = await self._kafka.send(topic, value=value, key=key, headers=headers)

        def delivered(done: asyncio.Future[Any]) -> None:
            if self._delivered(done, topic):
                on_delivery()

        future.add_done_callback(delivered)

    async def send_partition(
        self,
        topic: str,
        partition: int,
        records: Iterable[Record],
        on_delivery: Callable[[int], None],
    ) -> None:
        """Append ``records`` to ``partition`` as record batches; ``on_delivery`` gets the
        offset of the last record once the broker has acknowledged all of them."""
        kafka = self._kafka
        futures = []
        batch = kafka.create_batch()
        count = 0
        for key, value in records:
            if batch.append(key=key, value=value, timestamp=None) is None:
                futures.append((await kafka.send_batch(batch, topic, partition=partition), count))
                batch, count = kafka.create_batch(), 0
                batch.append(key=key, value=value, timestamp=None)
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
        log.error("delivery to %s failed: %s; stopping", topic, type(error).__name__)
        self._crashes.add(asyncio.ensure_future(self._app.crash(error)))
        return False
