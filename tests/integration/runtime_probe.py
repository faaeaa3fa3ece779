"""A worker process that runs ``FaustRuntime`` with a recording listener instead of the
commit protocol, for the runtime's contract test (``test_faust_runtime.py``).

Reads ``probe-in`` (2 partitions) by batch; stores each record's value under its key in the
customers table (RocksDB, changelog); acknowledges each batch, except one holding the value
``$PROBE_REFUSE``, which it leaves unacknowledged before failing as a broken store would.
Writes what happens to ``$PROBE_OUT``, one JSON object per line: ``ready`` (partitions, the
keys the table holds), ``revoked``, ``batch`` (topic, partition, offset of each record).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from streams.edge.faust.producer import DirectProducer
from streams.edge.faust.runtime import (
    FaustRuntime,
    customers_table,
    faust_app,
    faust_worker,
    raw_topic,
)
from streams.edge.faust.tables import PartitionedTable
from streams.metrics import create_metrics
from streams.settings import Settings

TOPIC = "probe-in"


class Probe:
    def __init__(self, table: PartitionedTable, out: Path, refuse: bytes | None) -> None:
        self.table = table
        self.out = out
        self.refuse = refuse

    def write(self, **line: Any) -> None:
        with self.out.open("a") as handle:
            handle.write(json.dumps(line) + "\n")

    def revoked(self) -> None:
        self.write(event="revoked")

    async def ready(self, partitions: set[int]) -> None:
        keys = sorted(key.decode() for key, _ in self.table.items())
        self.write(event="ready", partitions=sorted(partitions), keys=keys)

    async def tick(self) -> None:
        pass

    async def run(self, runtime: FaustRuntime) -> None:
        while (batch := await runtime.next_batch()) is not None:
            refused = any(r.value == self.refuse for r in batch.records)
            if not refused:
                for record in batch.records:
                    self.table.put(record.partition, record.key, record.value)
                await self.table.flush()
            runtime.acknowledge(batch, handled=not refused)
            records = [[r.topic, r.partition, r.offset] for r in batch.records]
            self.write(event="batch", records=records, acknowledged=not refused)
            if refused:
                raise OSError("refused: as a store that fails")


def main() -> None:
    settings = Settings.from_env()
    refuse = os.environ.get("PROBE_REFUSE")
    app = faust_app(settings)
    metrics = create_metrics(CollectorRegistry())
    table = customers_table(app, "customers", settings)
    app.topics.add(raw_topic(app, TOPIC, settings=settings))
    # the due-timers topic names the partitions owned; here the input topic does
    runtime = FaustRuntime(app, table, frozenset({TOPIC}), TOPIC, tick_s=1.0)
    store = PartitionedTable(table, DirectProducer(app, metrics))
    probe = Probe(store, Path(os.environ["PROBE_OUT"]), refuse.encode() if refuse else None)
    runtime.serve(probe)
    faust_worker(app, "info").execute_from_commandline()


if __name__ == "__main__":
    main()
