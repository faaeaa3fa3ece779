"""Throughput of the worker against a plain aiokafka loop, over the same events and broker.

1. baseline: aiokafka consumes the event topics, updates a dict per customer and produces a
   record per event: the ceiling of a Python consume-and-produce loop here;
2. pipeline: the worker with the shipped scenarios over the demo mix (orders, deliveries).

Both read events produced beforehand, so neither waits for a producer.

    python -m benchmarks.throughput --events 50000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaProducer

from benchmarks.recovery import bench_services, bench_settings
from streams.codecs import EVENT_RECORDS, AvroCodec
from streams.demo import demo_events
from streams.localstack.worker import WorkerProcess
from streams.settings import EVENT_KINDS, Settings
from streams.topics import ensure_topics


@dataclass(frozen=True)
class Throughput:
    events: int
    seconds: float

    @property
    def per_s(self) -> float:
        return self.events / self.seconds


def produce_demo_mix(settings: Settings, events: int, customers: int) -> None:
    """``events`` demo events (orders and deliveries of ``customers`` customers), encoded."""
    codec = AvroCodec()
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
    )
    for _, event in zip(range(events), demo_events(customers=customers, seed=1), strict=False):
        topic = settings.event_topics[event.kind]
        value, headers = codec.encode(EVENT_RECORDS[event.kind], event.record, topic)
        producer.send(topic, key=event.key.encode(), value=value, headers=headers)
    producer.flush()
    producer.close()


async def _baseline(settings: Settings, events: int) -> Throughput:
    consumer = AIOKafkaConsumer(
        *settings.event_topics.values(),
        bootstrap_servers=settings.bootstrap_servers,
        group_id=f"{settings.app_id}-baseline",
        auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=5)
    await consumer.start()
    await producer.start()
    state: Counter[bytes] = Counter()
    out = settings.command_topics["email"]
    seen, started = 0, 0.0
    try:
        while seen < events:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for records in batches.values():
                if not started:
                    started = time.perf_counter()
                for record in records:
                    state[record.key] += 1
                    await producer.send(out, key=record.key, value=record.value)
                seen += len(records)
        await producer.flush()
        return Throughput(seen, time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


def baseline(settings: Settings, events: int) -> Throughput:
    return asyncio.run(_baseline(settings, events))


def pipeline(settings: Settings, events: int, workdir: Path) -> Throughput:
    """The worker's rate from its first handled event to the last."""
    worker = WorkerProcess(settings, workdir / "worker-throughput.log").start()
    try:

        def handled() -> float:
            return sum(worker.metric("rebound_events_total", kind=k) for k in EVENT_KINDS)

        worker.wait_for(lambda: handled() > 0, 60, "the first event")
        first, started = handled(), time.perf_counter()
        worker.wait_for(lambda: handled() >= events, max(120.0, events / 100), "every event")
        return Throughput(int(events - first), time.perf_counter() - started)
    finally:
        worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--event-loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args()
    with bench_services() as (workdir, bootstrap, redis_url):
        settings = replace(
            bench_settings(bootstrap, redis_url, workdir, "rocksdb"), event_loop=args.event_loop
        )
        ensure_topics(settings)
        produce_demo_mix(settings, args.events, args.customers)
        base = baseline(settings, args.events)
        worker = pipeline(settings, args.events, workdir)
    print(f"baseline (aiokafka loop): {base.per_s:10.0f} events/s ({base.events} events)")
    print(f"pipeline (worker):        {worker.per_s:10.0f} events/s ({worker.events} events)")
    print(f"ratio:                    {worker.per_s / base.per_s:10.3f}")


if __name__ == "__main__":
    main()
