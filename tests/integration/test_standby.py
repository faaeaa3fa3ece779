"""Standby copies of the customers table with two workers on RocksDB, against a real broker:
each worker keeps a copy of the other's partitions and never of its own, and when one stops
the other takes its partitions over from its copy (nothing left to restore from the
changelog) with every customer's timer."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from devtools.demo import COFFEE_MACHINE_LINE, DemoProducer, delivery_event, order_event
from devtools.localstack.process import free_port
from devtools.localstack.worker import WorkerProcess
from streams.edge.kafka.topics import ensure_topics
from streams.settings import Settings

CUSTOMERS = 200


def running(worker: WorkerProcess) -> set[int]:
    """The partitions ``worker`` consumes (those of the orders topic)."""
    topic = worker.settings.event_topics["order"]
    return {
        int(dict(labels)["partition"])
        for (name, labels), _ in worker.metrics().items()
        if name == "rebound_consumer_lag_records" and ("topic", topic) in labels
    }


def copies(worker: WorkerProcess) -> tuple[set[int], float]:
    """The partitions ``worker`` keeps a standby copy of, and the records it has yet to apply."""
    samples = worker.metrics()
    kept = {
        int(dict(labels)["partition"])
        for (name, labels), _ in samples.items()
        if name == "rebound_restore_offset" and ("replica", "standby") in labels
    }
    behind = sum(
        value
        for (name, labels), value in samples.items()
        if name == "rebound_restore_remaining_records" and ("replica", "standby") in labels
    )
    return kept, behind


def test_each_worker_copies_the_other_s_partitions_and_takes_them_over_from_its_copy(
    settings: Settings, start_worker: Callable[[Settings], WorkerProcess], tmp_path: Path
) -> None:
    settings = replace(settings, store="rocksdb://", standby_replicas=1)
    ensure_topics(settings)
    first = start_worker(replace(settings, data_dir=str(tmp_path / "a")))
    producer = DemoProducer(settings)
    run = uuid.uuid4().hex[:6]
    try:
        for i in range(CUSTOMERS):  # a coffee machine delivered: a timer days ahead each
            customer, now_ms = f"sb-{run}-{i}", int(time.time() * 1000)
            producer.send(order_event(customer, f"o{i}", now_ms, [COFFEE_MACHINE_LINE]))
            producer.send(delivery_event(customer, f"o{i}", now_ms))
        producer.flush()
    finally:
        producer.close()
    first.wait_for(
        lambda: first.metric("rebound_timers_pending") >= CUSTOMERS, 60, "every customer's timer"
    )

    second = start_worker(replace(settings, data_dir=str(tmp_path / "b"), web_port=free_port()))

    def settled() -> bool:
        mine, theirs = running(first), running(second)
        if not mine or not theirs or len(mine | theirs) != settings.partitions:
            return False
        (kept_by_first, behind_first), (kept_by_second, behind_second) = (
            copies(first),
            copies(second),
        )
        return (
            kept_by_first == theirs
            and kept_by_second == mine
            and not behind_first
            and not behind_second
            and first.metric("rebound_ready") == second.metric("rebound_ready") == 1
        )

    first.wait_for(settled, 90, "both workers running, each with a copy of the other's partitions")
    moved = running(first)
    restored_before = second.metric("rebound_restored_records_total")

    first.stop()  # gracefully: it leaves the group
    second.wait_for(
        lambda: (
            running(second) == set(range(settings.partitions))
            and second.metric("rebound_ready") == 1
            and second.metric("rebound_timers_pending") >= CUSTOMERS
        ),
        60,
        "the second worker running every partition with every timer",
    )
    assert moved
    # From its copy: what the takeover read from the changelog is at most the records written
    # after the copy caught up (none here), not the moved partitions' customers.
    assert second.metric("rebound_restored_records_total") - restored_before == 0
