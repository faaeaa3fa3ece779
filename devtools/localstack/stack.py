"""``rebound local``: Redis, Kafka, the topics and a worker on this machine, plus demo traffic.

Everything it starts lives under one folder (``var/local`` by default) and stops on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from devtools.demo import DemoProducer, demo_events, demo_profiles, write_profiles
from devtools.localstack.command_reader import CommandReader, describe
from devtools.localstack.kafka import LocalKafka
from devtools.localstack.process import free_port, port_answers
from devtools.localstack.redis import LocalRedis
from devtools.localstack.worker import WorkerProcess
from streams.edge.redis.catalog import load_catalog_file
from streams.edge.redis.profile_files import load_profiles_file
from streams.settings import Settings

DEMO_CATALOG = Path("scenarios/catalog.yaml")
SUMMARY_METRICS = (
    "rebound_events_total",
    "rebound_commands_total",
    "rebound_dead_letters_total",
    "rebound_timers_pending",
)


@contextlib.contextmanager
def local_services(root: Path) -> Iterator[tuple[LocalKafka, LocalRedis]]:
    """A local Kafka broker and Redis server, stopped when the block ends."""
    redis_server = LocalRedis(root / "redis")
    kafka = LocalKafka(root / "kafka")
    try:
        redis_server.start()
        kafka.start()
        yield kafka, redis_server
    finally:
        kafka.stop()
        redis_server.stop()


def run_local(root: Path, rate_per_s: float = 5.0) -> None:
    """Bring the stack up, feed it demo events until Ctrl-C, then stop everything."""
    root.mkdir(parents=True, exist_ok=True)
    # Kafka and Redis start empty every time, so the worker's tables must too: RocksDB
    # files left by an earlier run would hold customers that no changelog knows.
    shutil.rmtree(root / "worker", ignore_errors=True)
    signal.signal(signal.SIGTERM, _interrupt)  # stop everything on `kill` as on Ctrl-C
    print(f"rebound: starting Redis and Kafka in {root} ...", flush=True)
    with local_services(root) as (kafka, redis_server):
        settings = Settings(
            broker_url=f"kafka://{kafka.bootstrap}",
            redis_url=redis_server.url,
            partitions=4,
            data_dir=str(root / "worker"),
            web_host="127.0.0.1",
            web_port=6066 if not port_answers(6066) else free_port(),
        )
        print(f"rebound: Kafka on {kafka.bootstrap}, Redis on {redis_server.url}", flush=True)
        worker = WorkerProcess(settings, root / "worker.log")
        try:
            worker.start()
            print(
                f"rebound: worker ready; metrics at {worker.url}/metrics, health at "
                f"{worker.url}/health, log in {worker.log_path}"
            )
            print(
                "rebound: producing demo events; commands appear below; Ctrl-C stops all",
                flush=True,
            )
            _feed_demo(settings, rate_per_s, worker)
        except KeyboardInterrupt:
            print("\nrebound: stopping ...", flush=True)
        finally:
            worker.stop()
    print("rebound: stopped", flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


DEMO_CUSTOMERS = 50


def _feed_demo(settings: Settings, rate_per_s: float, worker: WorkerProcess) -> None:
    client = redis.Redis.from_url(settings.redis_url)
    load_catalog_file(client, DEMO_CATALOG)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    profiles = write_profiles(
        Path(settings.data_dir) / "demo-profiles.jsonl", demo_profiles(DEMO_CUSTOMERS)
    )
    load_profiles_file(client, profiles, progress=False)  # as `rebound profiles` does
    producer = DemoProducer(settings)
    commands = CommandReader(settings)
    last_report = time.monotonic()
    try:
        for event in demo_events(customers=DEMO_CUSTOMERS):
            producer.send(event)
            time.sleep(1.0 / rate_per_s)
            for command in commands.poll(timeout_ms=0):
                print(describe(command), flush=True)
            if time.monotonic() - last_report >= 5:
                producer.flush()
                print("rebound: " + _summary(worker), flush=True)
                last_report = time.monotonic()
    finally:
        producer.close()
        commands.close()


def _summary(worker: WorkerProcess) -> str:
    """A one-line digest of the worker's counters, read back from ``/metrics``."""
    totals: dict[str, float] = {}
    for (name, _), value in worker.metrics().items():
        if name in SUMMARY_METRICS:
            short = name.removeprefix("rebound_").removesuffix("_total")
            totals[short] = totals.get(short, 0.0) + value
    return ", ".join(f"{name} {value:.0f}" for name, value in sorted(totals.items()))
