"""What an SRE sees of a running worker, through its own metrics, against the real broker:
the lag of the partitions it owns rising while it is stopped (SIGSTOP) and events arrive,
and falling back to 0 once it runs again; the restore progress of the partitions a
surviving worker takes over; and names that promtool accepts."""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import replace
from typing import Any

from devtools.demo import BIKE_LINE, DemoProducer, order_event
from devtools.localstack.process import free_port
from devtools.localstack.worker import WorkerProcess
from streams.edge.kafka.topics import ensure_topics
from streams.settings import Settings
from tests.integration.test_measure import _promtool_accepts

STOPPED_S = 60


def lag_by_partition(worker: WorkerProcess, topic: str) -> dict[str, float]:
    return {
        dict(labels)["partition"]: value
        for (name, labels), value in worker.metrics().items()
        if name == "rebound_consumer_lag_records" and dict(labels)["topic"] == topic
    }


def orders(n: int, when_ms: int) -> list[Any]:
    run = uuid.uuid4().hex[:6]
    return [
        order_event(f"op{run}-{i}", "o1", when_ms, [BIKE_LINE], channel="web") for i in range(n)
    ]


def test_a_stopped_worker_s_lag_rises_and_falls_back_to_zero(
    settings: Settings, start_worker: Any, catalog: None
) -> None:
    ensure_topics(settings)
    worker = start_worker(settings)
    topic = settings.event_topics["order"]
    producer = DemoProducer(settings)
    for event in orders(40, int(time.time() * 1000)):
        producer.send(event)
    producer.flush()
    worker.wait_for(
        lambda: worker.metric("rebound_events_total", kind="order") == 40, 60, "40 orders"
    )
    worker.wait_for(
        lambda: (
            len(lag := lag_by_partition(worker, topic)) == settings.partitions
            and sum(lag.values()) == 0
        ),
        60,
        "lag 0 on every partition of the orders",
    )
    before = worker.metric("rebound_rebalances_total")

    os.kill(worker.pid, signal.SIGSTOP)
    sent = 40
    try:
        deadline = time.monotonic() + STOPPED_S
        while time.monotonic() < deadline:  # events arrive while it is stopped
            for event in orders(50, int(time.time() * 1000)):
                producer.send(event)
            sent += 50
            producer.flush()
            time.sleep(1)
    finally:
        os.kill(worker.pid, signal.SIGCONT)

    highest = 0.0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            lag = lag_by_partition(worker, topic)
        except OSError:
            lag = {}
        highest = max(highest, sum(lag.values()))
        done = worker.metric("rebound_events_total", kind="order") >= sent
        if done and lag and sum(lag.values()) == 0:
            break
        time.sleep(0.1)
    assert highest > 0, "the lag rose once the worker ran again"
    assert sum(lag_by_partition(worker, topic).values()) == 0, "and fell back to 0"
    assert worker.metric("rebound_events_total", kind="order") >= sent
    assert worker.metric("rebound_rebalances_total") > before, "it left the group and rejoined"
    assert worker.metric("rebound_commit_duration_seconds_count") > 0
    assert worker.metric("rebound_batch_duration_seconds_count") > 0
    assert worker.metric("process_resident_memory_bytes") > 0
    _promtool_accepts(f"http://127.0.0.1:{settings.web_port}/metrics")


def test_the_surviving_worker_reports_the_restore_of_the_partitions_it_takes_over(
    settings: Settings, start_worker: Any, catalog: None
) -> None:
    ensure_topics(settings)
    first = start_worker(settings)
    second = start_worker(replace(settings, web_port=free_port()))
    producer = DemoProducer(settings)
    for event in orders(200, int(time.time() * 1000)):
        producer.send(event)
    producer.flush()
    total = lambda: sum(  # noqa: E731
        w.metric("rebound_events_total", kind="order") for w in (first, second)
    )
    first.wait_for(lambda: total() >= 200, 90, "200 orders through the two workers")
    changelog = f"{settings.app_id}-customers-changelog"

    def restored(worker: WorkerProcess) -> dict[tuple[str, str], float]:
        return {
            (dict(labels)["partition"], dict(labels)["replica"]): value
            for (name, labels), value in worker.metrics().items()
            if name == "rebound_restore_offset" and dict(labels)["topic"] == changelog
        }

    owned_before = {p for p, replica in restored(first) if replica == "active"}
    second.stop(signal.SIGKILL)
    first.wait_for(
        lambda: {p for p, r in restored(first) if r == "active"} > owned_before,
        90,
        "the first worker restoring the partitions of the second",
    )
    first.wait_for(
        lambda: (
            first.metric("rebound_restore_remaining_records", topic=changelog) == 0
            and first.metric("rebound_ready") == 1
        ),
        90,
        "the restore done",
    )
    taken = {p for p, r in restored(first) if r == "active"} - owned_before
    assert taken
    assert all(restored(first)[(p, "active")] >= 0 for p in taken), "records restored"
