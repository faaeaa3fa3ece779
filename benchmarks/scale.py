"""State at scale: a million customers with a pending timer each.

1. The state of ``customers`` customers (an order and its delivery each, so one scenario
   instance and one timer a week out) is computed with the engine and written to the
   customers table's changelog, as a worker would have left it.
2. Recovery: a worker starts on an empty data folder (a new node) and rebuilds its table
   from the changelog; measured from its start until its schedules hold every timer, and
   the restore alone (its metrics: records restored over the restore's time) against a
   plain aiokafka read of the same changelog, before the worker and after its restart.
3. Memory: its resident memory then, against a worker of an empty app.
4. Due at once: ``due`` more customers get a delivery dated a week before a time ``T``, so
   their timers all fall due at ``T``. The fire lateness of each is the broker timestamp of
   its record on the due-timers topic minus ``T``; the command lateness, that of its email.
5. Restart: the worker stops and starts again on its own RocksDB files; measured until its
   schedules are whole again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka.partitioner import murmur2

from benchmarks.common import (
    BENCH_SCENARIOS,
    Services,
    bench_settings,
    percentile,
    produce_events,
    producer,
    rss_mib,
)
from devtools.demo import COFFEE_MACHINE_LINE, DemoEvent, delivery_event, order_event
from devtools.localstack.command_reader import read_topic
from devtools.localstack.worker import WorkerProcess
from streams.edge.faust.restore import FETCH_BYTES
from streams.edge.kafka.topics import ensure_topics
from streams.engine import Engine, event_from_record
from streams.pipeline.stored import pack
from streams.scenarios import load_scenarios
from streams.settings import Settings
from streams.topology import CUSTOMERS_TABLE, changelog_topic, due_timers_topic

WEEK = 7 * 86400


@dataclass(frozen=True)
class Scale:
    customers: int
    due: int
    generate_s: float
    recovery_s: float
    restored_records: int
    restore_s: float
    read_records_per_s: list[float]
    """The plain aiokafka read of the changelog, before the worker and after its restart."""
    rss_idle_mib: float
    rss_mib: float
    fire_lateness_p50_s: float
    fire_lateness_p99_s: float
    command_lateness_p50_s: float
    command_lateness_p99_s: float
    command_lateness_max_s: float
    restart_s: float
    rss_after_due_mib: float
    """After the due timers' commands are out: what handling them left."""
    disk_mib: float
    """The worker's data folder (RocksDB) after the restart: the volume a worker needs."""

    @property
    def restore_records_per_s(self) -> float:
        return self.restored_records / self.restore_s

    @property
    def recovery_ratio(self) -> float:
        """The restore's rate over the plain read's (their mean)."""
        return (
            self.restore_records_per_s * len(self.read_records_per_s) / sum(self.read_records_per_s)
        )

    @property
    def rss_mib_per_million_timers(self) -> float:
        return (self.rss_mib - self.rss_idle_mib) * 1_000_000 / self.customers


def partition_of(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key``: the event's, so the state's."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


def coffee(customer: str, delivered_ms: int) -> list[DemoEvent]:
    return [
        order_event(customer, "o1", delivered_ms - 86_400_000, [COFFEE_MACHINE_LINE]),
        delivery_event(customer, "o1", delivered_ms),
    ]


def write_changelogs(settings: Settings, customers: int) -> None:
    """The customers table's changelog for ``customers`` customers whose timers fall due in
    a week."""
    engine = Engine(load_scenarios(Path(settings.scenarios_dir)))
    out = producer(settings, linger_ms=50, batch_size=1024 * 1024, compression_type=None)
    states = changelog_topic(settings, CUSTOMERS_TABLE)
    now = time.time()
    for i in range(customers):
        customer = f"s{i:08d}"
        key = customer.encode()
        order, delivery = (
            event_from_record(demo.kind, demo.record) for demo in coffee(customer, int(now * 1000))
        )
        state, _ = engine.decide(engine.decide(None, order, now)[0], delivery, now)
        partition = partition_of(key, settings.partitions)
        out.send(states, key=key, value=pack(partition, state)[0], partition=partition)
    out.flush()
    out.close()


async def _read_all(settings: Settings, topic: str) -> tuple[int, float]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        enable_auto_commit=False,
        max_partition_fetch_bytes=FETCH_BYTES,
        fetch_max_bytes=4 * FETCH_BYTES,
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(settings.partitions)]
        consumer.assign(tps)
        began = time.monotonic()
        ends = await consumer.end_offsets(tps)
        for tp in tps:  # (seek_to_beginning left this assignment with nothing to fetch)
            consumer.seek(tp, 0)
        pending, records = {tp for tp in tps if ends[tp] > 0}, 0
        while pending:
            fetched = await consumer.getmany(*pending, timeout_ms=500)
            for tp, batch in fetched.items():
                records += len(batch)
                if batch[-1].offset + 1 >= ends[tp]:
                    pending.discard(tp)
        return records, time.monotonic() - began
    finally:
        await consumer.stop()


def read_changelog(settings: Settings) -> float:
    """Records per second of a plain aiokafka read of the customers table's changelog, with
    the restore's fetch sizes: the ceiling of a restore through aiokafka."""
    records, seconds = asyncio.run(_read_all(settings, changelog_topic(settings, CUSTOMERS_TABLE)))
    return records / seconds


def idle_rss(services: Services) -> float:
    """Resident memory of a worker with empty tables, after its start."""
    settings = bench_settings(services, "idle", scenarios_dir=str(BENCH_SCENARIOS))
    ensure_topics(settings)
    worker = WorkerProcess(settings, services.workdir / "worker-idle.log").start()
    try:
        time.sleep(3)
        return rss_mib(worker.pid)
    finally:
        worker.stop()


def measure(services: Services, customers: int, due: int) -> Scale:
    rss_idle = idle_rss(services)
    settings = bench_settings(services, "scale", scenarios_dir=str(BENCH_SCENARIOS))
    ensure_topics(settings)
    began = time.monotonic()
    write_changelogs(settings, customers)
    generate_s = time.monotonic() - began
    read_before = read_changelog(settings)

    def pending() -> float:
        return worker.metric("rebound_timers_pending")

    worker = WorkerProcess(settings, services.workdir / "worker-scale.log")
    began = time.monotonic()
    worker.start(timeout_s=max(120.0, customers / 1000))
    worker.wait_for(
        lambda: pending() >= customers, max(120.0, customers / 1000), "every timer in the schedules"
    )
    recovery_s = time.monotonic() - began
    restored_records = int(worker.metric("rebound_restored_records_total"))
    restore_s = worker.metric("rebound_restore_duration_seconds_sum")
    time.sleep(2)
    rss = rss_mib(worker.pid)

    # Due at once: enough margin for the worker to take in 2 * due events first.
    due_at = time.time() + max(30.0, 2 * due / 1000)
    delivered_ms = int((due_at - WEEK) * 1000)
    produce_events(
        settings,
        # Customer ids of this run only: the command ledger of a Redis kept between runs
        # (REBOUND_BENCH_REDIS_URL) would take the same ids' emails for repeats.
        (
            event
            for i in range(due)
            for event in coffee(f"{settings.topic_prefix}d{i:08d}", delivered_ms)
        ),
    )
    worker.wait_for(lambda: pending() >= customers + due, max(60.0, due / 100), "due timers")
    if time.time() > due_at:
        raise RuntimeError("the due timers entered the schedules after their due time: more margin")
    fired = read_topic(settings, due_timers_topic(settings), due, due_at - time.time() + 300)
    fire_lateness = [r.timestamp / 1000 - orjson.loads(r.value)["due_at"] for r in fired]
    commands = read_topic(settings, settings.command_topics["email"], due, 300)
    command_lateness = [r.timestamp / 1000 - due_at for r in commands]
    if len(commands) < due:
        raise RuntimeError(f"{len(commands)} of {due} due timers sent their email")
    rss_after_due = rss_mib(worker.pid)

    worker.stop()
    restarted = WorkerProcess(settings, services.workdir / "worker-scale-restart.log")
    began = time.monotonic()
    try:
        restarted.start(timeout_s=max(120.0, customers / 1000))
        restarted.wait_for(
            lambda: restarted.metric("rebound_timers_pending") >= customers,
            max(120.0, customers / 1000),
            "every timer back in the schedules",
        )
        restart_s = time.monotonic() - began
    finally:
        restarted.stop()
    read_after = read_changelog(settings)
    disk = sum(f.stat().st_size for f in Path(settings.data_dir).rglob("*") if f.is_file())
    return Scale(
        customers,
        due,
        generate_s,
        recovery_s,
        restored_records,
        restore_s,
        [read_before, read_after],
        rss_idle,
        rss,
        percentile(fire_lateness, 0.5),
        percentile(fire_lateness, 0.99),
        percentile(command_lateness, 0.5),
        percentile(command_lateness, 0.99),
        max(command_lateness),
        restart_s,
        rss_after_due,
        disk / 2**20,
    )
