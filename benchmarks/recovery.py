"""Recovery of customer state and pending timers after a worker restart.

N customers each get a coffee machine delivered, so each has a scenario instance and a timer
due in three days. The worker handles them, stops (SIGTERM), and starts again: recovery is
the time from the new process's start until its heaps hold all N timers again.

    python -m benchmarks.recovery --customers 20000 --store rocksdb
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaProducer

from streams.codecs import EVENT_RECORDS, AvroCodec
from streams.demo import COFFEE_MACHINE_LINE, delivery_event, order_event
from streams.localstack.process import free_port
from streams.localstack.services import kafka_service, redis_service
from streams.localstack.worker import WorkerProcess
from streams.settings import Settings
from streams.topics import ensure_topics

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@dataclass(frozen=True)
class RecoveryResult:
    customers: int
    timers: int
    store: str
    intake_events_per_s: float
    """How fast the worker handled the orders and deliveries that built the state."""
    recovery_s: float


@contextlib.contextmanager
def bench_services() -> Iterator[tuple[Path, str, str]]:
    """A scratch folder, Kafka bootstrap servers and a Redis URL for one benchmark run."""
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rebound-bench-")))
        bootstrap = stack.enter_context(kafka_service(workdir / "kafka", "REBOUND_BENCH"))
        redis_url = stack.enter_context(redis_service(workdir / "redis", "REBOUND_BENCH"))
        yield workdir, bootstrap, redis_url


def bench_settings(bootstrap: str, redis_url: str, workdir: Path, store: str) -> Settings:
    run = uuid.uuid4().hex[:8]
    return Settings(
        app_id=f"bench-{run}",
        broker_url=f"kafka://{bootstrap}",
        redis_url=redis_url,
        topic_prefix=f"b{run}.",
        partitions=4,
        store=f"{store}://",
        data_dir=str(workdir / "data"),
        web_host="127.0.0.1",
        web_port=free_port(),
        log_level="warning",
        session_timeout_s=10.0,
        scenarios_dir=str(SCENARIOS),
    )


def produce_deliveries(settings: Settings, customers: int) -> None:
    """An order and its delivery for each customer, now."""
    codec = AvroCodec()
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
    )
    now_ms = int(time.time() * 1000)
    for i in range(customers):
        customer = f"c{i:08d}"
        for event in (
            order_event(customer, f"o{i}", now_ms, [COFFEE_MACHINE_LINE]),
            delivery_event(customer, f"o{i}", now_ms),
        ):
            topic = settings.event_topics[event.kind]
            value, headers = codec.encode(EVENT_RECORDS[event.kind], event.record, topic)
            producer.send(topic, key=customer.encode(), value=value, headers=headers)
    producer.flush()
    producer.close()


def measure_recovery(
    bootstrap: str, redis_url: str, workdir: Path, customers: int, store: str
) -> RecoveryResult:
    settings = bench_settings(bootstrap, redis_url, workdir, store)
    ensure_topics(settings)
    produce_deliveries(settings, customers)
    worker = WorkerProcess(settings, workdir / "worker-1.log").start()
    started = time.monotonic()
    worker.wait_for(
        lambda: (
            worker.metric(
                "rebound_instances_started_total", scenario="coffee-machine-after-delivery"
            )
            >= customers
        ),
        max(120.0, customers / 200),
        f"{customers} scenario instances",
    )
    intake_s = time.monotonic() - started
    time.sleep(settings.session_timeout_s / 2)  # a commit interval: offsets and changelogs out
    worker.stop()

    restarted = WorkerProcess(settings, workdir / "worker-2.log")
    begin = time.monotonic()
    try:
        restarted.start(timeout_s=max(120.0, customers / 500))
        restarted.wait_for(
            lambda: restarted.metric("rebound_timers_pending") >= customers,
            max(120.0, customers / 500),
            f"{customers} timers back in the heaps",
        )
        recovery_s = time.monotonic() - begin
        timers = int(restarted.metric("rebound_timers_pending"))
    finally:
        restarted.stop()
    return RecoveryResult(customers, timers, store, 2 * customers / intake_s, recovery_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--store", choices=("memory", "rocksdb"), default="rocksdb")
    args = parser.parse_args()
    with bench_services() as (workdir, bootstrap, redis_url):
        result = measure_recovery(bootstrap, redis_url, workdir, args.customers, args.store)
    print(
        f"{result.customers} customers, {result.timers} timers ({result.store} store): "
        f"recovered in {result.recovery_s:.1f} s; intake {result.intake_events_per_s:.0f} "
        "events/s"
    )


if __name__ == "__main__":
    main()
