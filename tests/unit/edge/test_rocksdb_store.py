"""The customers table's RocksDB store: Faust's, opened with bloom filters on."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.app import create_app
from streams.edge.faust.rocksdb import BLOOM_BITS_PER_KEY, Store, store_url
from streams.settings import Settings


@pytest.mark.parametrize(
    ("setting", "opened"),
    [
        ("rocksdb://", "rebound-rocksdb://"),
        ("rocksdb:///var/lib/rebound", "rebound-rocksdb:///var/lib/rebound"),
        ("memory://", "memory://"),
    ],
)
def test_the_rocksdb_setting_opens_rebounds_store(setting: str, opened: str) -> None:
    assert store_url(setting) == opened


def test_the_customers_table_is_stored_with_bloom_filters(tmp_path: Path) -> None:
    settings = Settings.from_env({"REBOUND_DATA_DIR": str(tmp_path)})
    store = create_app(settings).tables["customers"].data
    assert isinstance(store, Store)
    assert store.rocksdb_options.bloom_filter_size == BLOOM_BITS_PER_KEY
    assert store.rocksdb_options.block_cache_size == settings.rocksdb_block_cache_mib << 20
    # Where Faust keeps the table's partitions: a worker of an earlier build finds its files.
    assert store.partition_path(3) == tmp_path / "v1" / "tables" / "customers-3.db"
    db = store._db_for_partition(3)
    db[b"c1"] = b"state"
    assert db.get(b"c1") == b"state"
    assert db.get(b"c2") is None
