"""Every private attribute of Faust (faust-streaming 0.15.3) and aiokafka (0.14.0) that
Rebound relies on, named in one place.

Rebound reaches inside Faust where its public API has no way to do what the worker needs
(hand a fetch to an agent as one batch, acknowledge a batch's offsets, write a table's store
a partition at a time, send record batches straight to aiokafka). A version bump that
renames or drops one of these must fail here, at start and in the contract test
(``tests/unit/edge/test_private_contract.py``), with the attribute named, rather than
somewhere in the stream at run time.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from faust.stores.memory import Store as MemoryStore
from faust.stores.rocksdb import Store as RocksDBStore
from faust.transport.consumer import Consumer as FaustConsumer
from faust.transport.consumer import Fetcher
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.transport.drivers.aiokafka import Producer as AIOKafkaProducer

from streams.exceptions import ReboundError


@dataclass(frozen=True)
class Private:
    owner: type
    name: str
    used_by: str
    """Where Rebound uses it, and what for."""


RELIED_ON = (
    Private(FaustConsumer, "_drain_messages", "consumer.py: fetches handed over by batch"),
    Private(FaustConsumer, "_wait_next_records", "consumer.py: the next fetch"),
    Private(FaustConsumer, "_to_message", "consumer.py: records of Faust's own path"),
    Private(FaustConsumer, "_add_gap", "consumer.py: offsets without a record count as done"),
    Private(FaustConsumer, "_gap", "consumer.py: offsets without a record, pending"),
    Private(FaustConsumer, "_new_offset", "consumer.py: the offset to commit, found faster"),
    Private(FaustConsumer, "_committed_offset", "consumer.py: what is committed per partition"),
    Private(FaustConsumer, "_acked", "consumer.py: acknowledging a batch's offsets"),
    Private(FaustConsumer, "_acked_index", "consumer.py: acknowledging a batch's offsets"),
    Private(FaustConsumer, "_n_acked", "consumer.py: acknowledging a batch's offsets"),
    Private(FaustConsumer, "_waiting_for_ack", "consumer.py: waking the committer"),
    Private(FaustConsumer, "_unacked_messages", "consumer.py: a skipped message let go"),
    Private(FaustConsumer, "_read_offset", "consumer.py: where each partition was read to"),
    Private(FaustConsumer, "_buffered_partitions", "consumer.py: partitions with records"),
    Private(AIOKafkaConsumer, "_thread", "consumer.py: seek to the beginning"),
    Private(Fetcher, "_stopped", "consumer.py: the fetcher's stop"),
    Private(AIOKafkaProducer, "_ensure_producer", "producer.py: the aiokafka producer"),
    Private(RocksDBStore, "_db_for_partition", "tables.py, restore.py: a partition's database"),
    Private(MemoryStore, "_key_partition", "tables.py: the memory store's key index"),
)


def missing() -> list[Private]:
    """The attributes of ``RELIED_ON`` that the installed versions do not have: methods and
    class attributes by lookup, instance attributes by their assignment in the class's
    source (they exist only on instances)."""
    return [p for p in RELIED_ON if not _has(p.owner, p.name)]


def check() -> None:
    """Refuse to start on a Faust or aiokafka without what Rebound relies on."""
    gone = missing()
    if gone:
        names = ", ".join(f"{p.owner.__module__}.{p.owner.__name__}.{p.name}" for p in gone)
        raise ReboundError(
            f"the installed faust-streaming or aiokafka lacks {names}, which Rebound relies "
            "on (streams/edge/faust/private.py): install the pinned versions (constraints.txt)"
        )


def _has(owner: type, name: str) -> bool:
    if hasattr(owner, name):
        return True
    return any(
        f"self.{name} =" in inspect.getsource(cls) or f"self.{name}:" in inspect.getsource(cls)
        for cls in owner.__mro__
        if cls.__module__.split(".")[0] in ("faust", "mode", "aiokafka")
    )
