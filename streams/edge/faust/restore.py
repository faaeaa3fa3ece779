"""A table's changelog partitions restored into RocksDB a fetch at a time.

Faust's recovery reads a changelog through the worker's consumer one record at a time: each
becomes an event, goes through a queue, is counted against the partition's high watermark
and buffered before its write (about 160 us a record here: a new node took 166 s to rebuild
a million customers). ``restore`` reads the partitions a worker is newly given with a
consumer of its own (no group, no commit), from the offset the store holds up to the high
watermark found at its start, and writes each fetch of a partition as one RocksDB
``WriteBatch`` that also carries the partition's new offset, under the key where Faust keeps
it: the records and the offset they bring the store to are written together or not at all.

Faust's recovery runs afterwards as ever (the store's ``on_rebalance`` runs before it, see
``streams.edge.faust.rocksdb``): it reads the offsets from the store, so it only applies
what was written to the changelog since the restore read its high watermarks, usually
nothing, and keeps its own bookkeeping of active and standby offsets, high watermarks and
readiness. A restore cut short (a new rebalance, a stop) leaves each partition at the last
fetch written, which is where the next restore or Faust's recovery goes on from.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import aiokafka
from aiokafka import TopicPartition
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth, server_list
from faust.types import TP
from rocksdict import WriteBatch

log = logging.getLogger(__name__)

FETCH_BYTES = 8 * 1024 * 1024
"""A fetch of a partition: enough for a few tens of thousands of customers' records, so that
a WriteBatch and a round trip carry many records each, and a small share of a worker's
memory."""
IDLE_FETCH_MS = 500


@dataclass(frozen=True)
class Restored:
    partitions: int
    records: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


async def restore(
    store: Any, tps: Collection[TP], still_wanted: Callable[[], bool] = lambda: True
) -> Restored:
    """Bring the RocksDB partitions of ``store`` (Faust's RocksDB store of a table) for the
    changelog partitions ``tps`` up to the changelog's high watermarks; stops early, with
    what is written kept, when ``still_wanted()`` turns false."""
    began = time.monotonic()
    if not tps:
        return Restored(0, 0, 0.0)
    # aiokafka wants its own named tuple, equal to Faust's.
    partitions = [TopicPartition(tp.topic, tp.partition) for tp in tps]
    starts = {tp: _next_offset(store, tp) for tp in partitions}
    consumer = _consumer(store.app)
    await consumer.start()
    records = 0
    try:
        consumer.assign(partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        pending = {tp for tp in partitions if starts[tp] < ends[tp]}
        for tp in pending:
            consumer.seek(tp, starts[tp])
        log.info(
            "restoring %d of %d changelog partitions: %d records",
            len(pending),
            len(partitions),
            sum(ends[tp] - starts[tp] for tp in pending),
        )
        while pending and still_wanted():
            fetched = await consumer.getmany(*pending, timeout_ms=IDLE_FETCH_MS)
            for tp, batch in fetched.items():
                records += _write(store, tp, batch)
            for tp in list(pending):
                if tp not in fetched and await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)  # the end is a transaction marker or a compacted gap
                elif tp in fetched and fetched[tp][-1].offset + 1 >= ends[tp]:
                    pending.discard(tp)
        if pending:
            log.warning(
                "restore stopped with %d partitions behind (a new rebalance, or its time is "
                "up): Faust's recovery applies the rest",
                len(pending),
            )
    finally:
        await consumer.stop()
    restored = Restored(len(partitions), records, time.monotonic() - began)
    log.info(
        "restored %d changelog records in %.1f s (%.0f records/s)",
        restored.records,
        restored.seconds,
        restored.per_s,
    )
    return restored


def _next_offset(store: Any, tp: TopicPartition) -> int:
    persisted = store.persisted_offset(tp)
    return 0 if persisted is None else persisted + 1


def _write(store: Any, tp: TopicPartition, records: list[Any]) -> int:
    """One fetch of ``tp`` and the offset it brings the partition to, as one write."""
    batch = WriteBatch(raw_mode=True)
    put, delete = batch.put, batch.delete
    for record in records:
        if record.value is None:
            delete(record.key)
        else:
            put(record.key, record.value)
    batch.put(store.offset_key, str(records[-1].offset).encode())
    # faust-streaming 0.15.3 keeps a partition's database behind ``_db_for_partition``
    # (it opens it on first use), as ``streams.edge.faust.tables`` reads it.
    store._db_for_partition(tp.partition).write(batch)
    return len(records)


def _consumer(app: Any) -> aiokafka.AIOKafkaConsumer:
    """A consumer outside the group, with the worker's brokers and credentials."""
    conf = app.conf
    return aiokafka.AIOKafkaConsumer(
        bootstrap_servers=server_list(conf.broker, 9092),
        client_id=f"{conf.broker_client_id}-restore",
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=FETCH_BYTES,
        fetch_max_bytes=4 * FETCH_BYTES,
        isolation_level="read_committed" if app.in_transaction else "read_uncommitted",
        request_timeout_ms=int(conf.broker_request_timeout * 1000),
        **credentials_to_aiokafka_auth(conf.broker_credentials, conf.ssl_context),
    )
