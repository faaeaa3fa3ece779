"""What every benchmark part shares: the services, a fresh app per part, producing records,
reading a topic's records with their broker timestamps, and process memory."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from redis import Redis

from devtools.demo import DemoEvent, demo_profiles, write_profiles
from devtools.localstack.process import free_port
from devtools.localstack.services import kafka_service, redis_service
from streams.codecs import EVENT_RECORDS, AvroCodec
from streams.edge.redis.catalog import load_catalog_file
from streams.edge.redis.profile_files import load_profiles_file
from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_SCENARIOS = ROOT / "scenarios"
BENCH_SCENARIOS = Path(__file__).resolve().parent / "scenarios"


@dataclass(frozen=True)
class Services:
    workdir: Path
    bootstrap: str
    redis_url: str


@contextlib.contextmanager
def bench_services() -> Iterator[Services]:
    """A scratch folder, Kafka and Redis for one benchmark run (see ``kafka_service``:
    ``REBOUND_BENCH_KAFKA_BOOTSTRAP`` / ``REBOUND_BENCH_REDIS_URL`` name your own)."""
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rebound-bench-")))
        bootstrap = stack.enter_context(kafka_service(workdir / "kafka", "REBOUND_BENCH"))
        redis_url = stack.enter_context(redis_service(workdir / "redis", "REBOUND_BENCH"))
        yield Services(workdir, bootstrap, redis_url)


def bench_settings(services: Services, part: str, **overrides: Any) -> Settings:
    """Settings of a fresh app (its own group, tables and topics) for one benchmark part."""
    run = f"{part}-{uuid.uuid4().hex[:6]}"
    settings = Settings(
        app_id=f"bench-{run}",
        broker_url=f"kafka://{services.bootstrap}",
        redis_url=services.redis_url,
        topic_prefix=f"{run}.",
        partitions=4,
        store="rocksdb://",
        data_dir=str(services.workdir / run),
        web_host="127.0.0.1",
        web_port=free_port(),
        log_level="warning",
        session_timeout_s=10.0,
        scenarios_dir=str(SHIPPED_SCENARIOS),
        # The mix's events run on simulated days ahead of the clock: none is refused as
        # coming from the future.
        max_future_s=400 * 86400.0,
    )
    return replace(settings, **overrides)


def load_reference_data(services: Services, customers: int) -> int:
    """The demo catalog, and a profile for every customer of the mix loaded as ``rebound
    profiles`` does: the worker reads them and the shipped policies (caps, quiet hours)
    apply. Returns the profiles loaded."""
    path = write_profiles(services.workdir / "profiles.jsonl", demo_profiles(customers))
    client = Redis.from_url(services.redis_url)
    try:
        load_catalog_file(client, SHIPPED_SCENARIOS / "catalog.yaml")
        return load_profiles_file(client, path, progress=False).loaded
    finally:
        client.close()


def producer(settings: Settings, **options: Any) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        linger_ms=options.pop("linger_ms", 20),
        batch_size=options.pop("batch_size", 256 * 1024),
        **options,
    )


def produce_events(settings: Settings, events: Iterable[DemoEvent]) -> int:
    """Encode and produce ``events`` to their topics; returns how many."""
    codec = AvroCodec()
    out = producer(settings)
    count = 0
    for event in events:
        topic = settings.event_topics[event.kind]
        value, headers = codec.encode(EVENT_RECORDS[event.kind], event.record, topic)
        out.send(topic, key=event.key.encode(), value=value, headers=headers)
        count += 1
    out.flush()
    out.close()
    return count


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid``, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_s(pid: int) -> float:
    """CPU time (user and system) process ``pid`` has used, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]
