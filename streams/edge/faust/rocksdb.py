"""Faust's RocksDB store, with bloom filters sized for the customers table's reads.

Every input reads its customer's record, and a customer seen for the first time is a key
that is not there. Faust opens RocksDB with 3 bits per key of bloom filter (a quarter of
the absent keys then read a block anyway) and no filter on the memtables, so an absent key
searched the skip list of each memtable: 8 us per absent key in a micro-benchmark of these
options (8 partitions, 16 MiB memtables, reads of 1,000 keys, 70% absent, written back
after each batch as the worker does; 400,000 keys). With 10 bits per key, as RocksDB
recommends, and a bloom filter on each memtable: 3 us; present keys (9-11 us) unchanged.
The memtable filter takes a tenth of the memtable's size.

On assignment, the store restores the changelog partitions it is newly given a fetch at a
time (``streams.edge.faust.restore``) before Faust's recovery looks at them; ``on_restored``,
when set, is told how many records that took and how long.

The worker names this store ``rebound-rocksdb://`` (registered here) where the settings say
``rocksdb://``; it is Faust's in every other respect.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from faust.stores import STORES
from faust.stores.rocksdb import RocksDBOptions
from faust.stores.rocksdb import Store as FaustRocksDBStore
from faust.types import TP

from streams.edge.faust.restore import Restored, restore

SCHEME = "rebound-rocksdb"
BLOOM_BITS_PER_KEY = 10
MEMTABLE_BLOOM_RATIO = 0.1
"""The memtable filter's size, as a share of the memtable's."""
RESTORE_SHARE = 0.5
"""The share of the session timeout a restore may take (about 250,000 records/s here: 3.7
million customers' records in the 15 s of the default 30 s timeout), the rest left to Faust's
recovery."""


class _Options(RocksDBOptions):
    def as_options(self) -> Any:
        options = super().as_options()
        options.set_memtable_whole_key_filtering(True)
        options.set_memtable_prefix_bloom_ratio(MEMTABLE_BLOOM_RATIO)
        return options


class Store(FaustRocksDBStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = {"bloom_filter_size": BLOOM_BITS_PER_KEY, **(self.options or {})}
        self.rocksdb_options = _Options(**options, use_rocksdict=self.use_rocksdict)
        self.on_restored: Callable[[Restored], None] | None = None

    async def on_rebalance(
        self,
        assigned: set[TP],
        revoked: set[TP],
        newly_assigned: set[TP],
        generation_id: int = 0,
    ) -> None:
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)
        # The active partitions newly given: a partition kept is up to date (this worker
        # wrote it); standbys follow the changelog through Faust's recovery.
        standbys = self.app.assignor.assigned_standbys()
        mine = self.table.changelog_topic.topics
        tps = {tp for tp in newly_assigned if tp.topic in mine and tp not in standbys}
        # aiokafka sends no heartbeat while the assignment's callback runs: past the
        # session timeout the group would drop this worker. What is left then is Faust's.
        deadline = time.monotonic() + self.app.conf.broker_session_timeout * RESTORE_SHARE

        def still_wanted() -> bool:
            return self.app.consumer_generation_id == generation_id and time.monotonic() < deadline

        async with self.db_lock:
            restored = await restore(self, tps, still_wanted)
        if restored.records and self.on_restored is not None:
            self.on_restored(restored)


def store_url(url: str) -> str:
    """The store Rebound opens for the ``REBOUND_STORE`` setting ``url``."""
    scheme, sep, rest = url.partition("://")
    return f"{SCHEME}{sep}{rest}" if scheme == "rocksdb" else url


STORES.aliases[SCHEME] = f"{__name__}:Store"
