"""Throughput: the worker against a plain aiokafka loop, over the same events and broker.

1. baseline: aiokafka consumes the event topics, updates a dict per customer and produces a
   record per event: the ceiling of a Python consume-and-produce loop here;
2. pipeline: the worker with the shipped scenarios over a realistic mix.

The mix: the demo's orders and deliveries of ``customers`` customers, plus opens and clicks.
The generator runs the engine over the orders and deliveries, so the opens and clicks of
messages sent at once (in-store bikes) name real command ids; the other opens and clicks
name messages sent before the run (unknown ids, as a real click stream has). Both loops read
events produced beforehand, so neither waits for a producer.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from benchmarks.common import SHIPPED_SCENARIOS, cpu_s
from devtools.demo import DemoEvent, click_event, demo_events, open_event, random_event_id
from devtools.localstack.worker import WorkerProcess
from streams.engine import CustomerState, event_from_record
from streams.engine.effects import SendCommand
from streams.scenarios import load_engine
from streams.settings import EVENT_KINDS, Settings


@dataclass(frozen=True)
class Throughput:
    events: int
    seconds: float
    cpu_s: float
    """CPU time the loop's process used meanwhile: less sensitive to a busy machine."""

    @property
    def cpu_ms_per_1k(self) -> float:
        return self.cpu_s * 1e6 / self.events

    @property
    def per_s(self) -> float:
        return self.events / self.seconds


def realistic_mix(events: int, customers: int, seed: int = 1) -> Iterator[DemoEvent]:
    """``events`` events: orders, deliveries, opens and clicks (about 35/30/25/10 %)."""
    rng = random.Random(seed)  # noqa: S311 (benchmark data)
    engine = load_engine(SHIPPED_SCENARIOS)
    states: dict[str, CustomerState] = {}
    produced = 0

    for demo in demo_events(customers=customers, seed=seed):
        when = demo.record["occurred_at"]
        event = event_from_record(demo.kind, demo.record)
        state, effects = engine.decide(states.get(demo.key), event, when / 1000)
        states[demo.key] = state
        follow_ups = [
            (effect.command_id, effect.channel)
            for effect in effects
            if isinstance(effect, SendCommand) and rng.random() < 0.6
        ]
        if rng.random() < 0.45:  # a message sent before the run
            follow_ups.append((random_event_id(rng), "email"))
        batch = [demo]
        for command_id, channel in follow_ups:
            batch.append(open_event(demo.key, command_id, channel, when + 1, random_event_id(rng)))
            if rng.random() < 0.4:
                batch.append(
                    click_event(
                        demo.key,
                        command_id,
                        channel,
                        when + 2,
                        random_event_id(rng),
                        "HELMET-URBAN",
                    )
                )
        for item in batch:
            yield item
            produced += 1
            if produced >= events:
                return


async def _baseline(settings: Settings, events: int, run: int) -> Throughput:
    consumer = AIOKafkaConsumer(
        *settings.event_topics.values(),
        bootstrap_servers=settings.bootstrap_servers,
        group_id=f"{settings.app_id}-baseline-{run}",
        auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=5)
    await consumer.start()
    await producer.start()
    state: Counter[bytes] = Counter()
    out = settings.command_topics["email"]
    seen, started, cpu = 0, 0.0, 0.0
    try:
        while seen < events:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for records in batches.values():
                if not started:
                    started, cpu = time.perf_counter(), time.process_time()
                for record in records:
                    state[record.key] += 1
                    await producer.send(out, key=record.key, value=record.value)
                seen += len(records)
        await producer.flush()
        return Throughput(seen, time.perf_counter() - started, time.process_time() - cpu)
    finally:
        await consumer.stop()
        await producer.stop()


def baseline(settings: Settings, events: int, run: int = 1) -> Throughput:
    """The plain aiokafka loop's rate over ``events`` events already on the topics; each
    ``run`` reads them all from the start (a consumer group of its own)."""
    return asyncio.run(_baseline(settings, events, run))


def pipeline(worker: WorkerProcess, events: int) -> Throughput:
    """The worker's rate from its first handled event to the last, ``events`` in all."""

    def handled() -> float:
        return sum(worker.metric("rebound_events_total", kind=k) for k in EVENT_KINDS)

    worker.wait_for(lambda: handled() > 0, 120, "the first event", poll_s=0.05)
    first, started, cpu = handled(), time.perf_counter(), cpu_s(worker.pid)
    worker.wait_for(lambda: handled() >= events, max(120.0, events / 200), "every event")
    elapsed, used = time.perf_counter() - started, cpu_s(worker.pid) - cpu
    return Throughput(int(events - first), elapsed, used)
