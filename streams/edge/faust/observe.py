"""What a running worker shows of itself in its metrics that only Faust knows: the lag and
committed offsets of the partitions it consumes, the restore progress of its table
partitions, whether it is ready (read at each scrape, ``streams.metrics.WorkerCollector``);
commits, rebalances and their durations (Faust's sensor hooks).

Faust ships a Prometheus monitor (``faust.sensors.prometheus``); it is not used because it
counts per message (``on_message_in``, ``on_stream_event_in``: hooks the batching consumer
does not call, and whose per-record cost is what the batch path avoids) into a registry of
its own with names of its own. Its sensor hooks are what fits: a lean ``faust.Sensor`` here
feeds the worker's own metrics from the commit and rebalance hooks, and the lag comes from
the same high watermarks and committed offsets Faust's monitor would read.
"""

from __future__ import annotations

import time
from typing import Any

import faust

from streams.edge.faust.restore import Restored
from streams.edge.faust.rocksdb import Store
from streams.edge.faust.web import ready_report
from streams.metrics import Metrics, WorkerCollector, WorkerState


def worker_state(app: Any) -> WorkerState:
    """The consumer's high watermarks and committed offsets of the partitions it consumes
    (the changelogs aside: their progress is the restore's), and the recovery's."""
    state = WorkerState(ready=ready_report(app)["status"] == "ready")
    consumer = app.consumer
    changelogs = app.tables.changelog_topics
    committed = consumer._committed_offset
    for tp in consumer.assignment():
        if tp.topic not in changelogs:
            high = consumer.highwater(tp)
            state.consumed[(tp.topic, tp.partition)] = (high, committed.get(tp))
    recovery = app.tables.recovery
    for replica, tps, offsets, highwaters in (
        ("active", recovery.active_tps, recovery.active_offsets, recovery.active_highwaters),
        ("standby", recovery.standby_tps, recovery.standby_offsets, recovery.standby_highwaters),
    ):
        for tp in tps:
            last = highwaters.get(tp)
            if last is not None:
                offset = offsets.get(tp)
                state.restoring[(tp.topic, tp.partition, replica)] = (
                    -1 if offset is None else offset,
                    last,
                )
    return state


class ReboundSensor(faust.Sensor):
    """Commits and rebalances into the worker's metrics."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self._metrics = metrics

    def on_commit_initiated(self, consumer: Any) -> float:
        return time.monotonic()

    def on_commit_completed(self, consumer: Any, state: Any) -> None:
        self._metrics.commit_duration.observe(time.monotonic() - float(state))

    def on_rebalance_start(self, app: Any) -> dict[str, float]:
        self._metrics.rebalances.inc()
        return {"time_start": time.monotonic()}

    def on_rebalance_end(self, app: Any, state: Any) -> None:
        self._metrics.rebalance_duration.observe(time.monotonic() - state["time_start"])


def observe(app: faust.App, metrics: Metrics) -> None:
    """Add the sensor to ``app``, the partitions' state to ``metrics``' registry, and the
    restores of its RocksDB stores to ``metrics``."""
    app.sensors.add(ReboundSensor(metrics))

    def count(restore: Restored) -> None:
        metrics.restored_records.inc(restore.records)
        metrics.restore_duration.observe(restore.seconds)

    for table in app.tables.values():
        if isinstance(table.data, Store):
            table.data.on_restored = count
    metrics.registry.register(WorkerCollector(lambda: worker_state(app)))
