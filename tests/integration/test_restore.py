"""The restore of a table's changelog a fetch at a time (``streams.edge.faust.restore``),
against a real broker and a real RocksDB: values and deletions land, each partition's
offset is written with its records, a second restore goes on from that offset, and a
restore no longer wanted stops with what it wrote kept."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import faust
from faust.types import TP
from kafka import KafkaProducer
from kafka.admin import NewTopic
from rocksdict import Options, Rdict

from streams.edge.faust.restore import restore
from streams.edge.kafka.admin import admin_client, kafka_client
from streams.settings import Settings

OFFSET_KEY = b"__faust\0offset__"  # Faust's RocksDB store keeps a partition's offset there


class RocksDBPartitions:
    """What the restore uses of Faust's RocksDB store: its app, its offset key, a database
    per partition and the offset each holds."""

    offset_key = OFFSET_KEY

    def __init__(self, app: faust.App, folder: Path) -> None:
        self.app = app
        self._folder = folder
        self._dbs: dict[int, Rdict] = {}

    def _db_for_partition(self, partition: int) -> Rdict:
        if partition not in self._dbs:
            self._dbs[partition] = Rdict(str(self._folder / str(partition)), Options(raw_mode=True))
        return self._dbs[partition]

    def persisted_offset(self, tp: Any) -> int | None:
        offset = self._db_for_partition(tp.partition).get(OFFSET_KEY)
        return None if offset is None else int(offset)

    def contents(self, partition: int) -> dict[bytes, bytes]:
        db = self._db_for_partition(partition)
        return {k: v for k, v in db.items() if k != OFFSET_KEY}

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()


def changelog(settings: Settings, name: str) -> str:
    topic = f"{settings.topic_prefix}{name}"
    admin = admin_client(settings)
    try:
        admin.create_topics([NewTopic(topic, 2, 1, topic_configs={"cleanup.policy": "compact"})])
    finally:
        admin.close()
    return topic


def send(settings: Settings, topic: str, records: list[tuple[int, bytes, bytes | None]]) -> None:
    producer = kafka_client(KafkaProducer, settings, "test-restore")
    try:
        for partition, key, value in records:
            producer.send(topic, key=key, value=value, partition=partition)
        producer.flush()
    finally:
        producer.close()


def test_a_restore_writes_values_deletions_and_offsets_and_goes_on_from_them(
    settings: Settings, tmp_path: Path
) -> None:
    topic = changelog(settings, "customers-changelog")
    first = [(p, f"c{p}-{i}".encode(), f"v{i}".encode()) for p in (0, 1) for i in range(300)]
    send(settings, topic, [*first, (0, b"c0-5", None), (1, b"c1-7", None)])
    app = faust.App(settings.app_id, broker=settings.broker_url)
    store = RocksDBPartitions(app, tmp_path)
    tps = {TP(topic, 0), TP(topic, 1)}
    try:
        restored = asyncio.run(restore(store, tps))
        assert restored.records == 602
        assert store.persisted_offset(TP(topic, 0)) == 300  # 300 values and a deletion
        assert store.persisted_offset(TP(topic, 1)) == 300
        zero = store.contents(0)
        assert len(zero) == 299
        assert b"c0-5" not in zero
        assert zero[b"c0-299"] == b"v299"
        assert b"c1-7" not in store.contents(1)
        assert len(store.contents(1)) == 299

        send(settings, topic, [(0, b"c0-1", b"again"), (0, b"c0-5", b"back")])
        again = asyncio.run(restore(store, tps))
        assert again.records == 2  # from the offsets written, not from the start
        assert store.contents(0)[b"c0-1"] == b"again"
        assert store.contents(0)[b"c0-5"] == b"back"
        assert store.persisted_offset(TP(topic, 0)) == 302

        nothing = asyncio.run(restore(store, tps))
        assert nothing.records == 0
    finally:
        store.close()


def test_a_restore_no_longer_wanted_stops_with_what_it_wrote(
    settings: Settings, tmp_path: Path
) -> None:
    topic = changelog(settings, "customers-changelog")
    send(settings, topic, [(0, f"k{i}".encode(), b"v") for i in range(1000)])
    app = faust.App(settings.app_id, broker=settings.broker_url)
    store = RocksDBPartitions(app, tmp_path)
    try:
        restored = asyncio.run(restore(store, {TP(topic, 0)}, still_wanted=lambda: False))
        assert restored.records == 0
        assert store.persisted_offset(TP(topic, 0)) is None
        whole = asyncio.run(restore(store, {TP(topic, 0)}))
        assert whole.records == 1000
        assert store.persisted_offset(TP(topic, 0)) == 999
    finally:
        store.close()
