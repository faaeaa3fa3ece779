"""Takeover: how long the partitions of a worker that stops wait for another.

Two workers share the group, each with its own data folder (two pods). The customers table
holds ``customers`` customers (the changelog written beforehand, as in ``scale``). In-store
bike orders (a push at once each) go to every partition at ``rate`` per second. Worker A
then stops: gracefully (SIGTERM: it leaves the group as it stops) or killed (SIGKILL: its
partitions move once its session times out, the settings' ``session_timeout_s``). The
takeover is from the signal to the first push, published after A's process ended, for an
order of one of A's partitions; with standby copies of the table (B already holds A's
partitions and applies only the last records) and without (B restores them from the
changelog). Also checked: no worker holds a standby copy of a partition it runs.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.common import Services, bench_settings, producer
from benchmarks.latency import BIKE
from benchmarks.scale import partition_of, write_changelogs
from devtools.demo import order_event
from devtools.localstack.command_reader import read_topic
from devtools.localstack.exceptions import LocalStackError
from devtools.localstack.process import free_port
from devtools.localstack.worker import Samples, WorkerProcess
from streams.codecs import EVENT_RECORDS, SEND_COMMAND, AvroCodec
from streams.edge.kafka.topics import ensure_topics
from streams.settings import Settings

SIGNALS = {"graceful": signal.SIGTERM, "kill": signal.SIGKILL}
RATE = 50.0
BEFORE_S = 5.0
"""Orders flowing before the stop."""


@dataclass(frozen=True)
class Takeover:
    mode: str
    standby_replicas: int
    session_timeout_s: float
    seconds: float
    """From the signal to the first push of a moved partition after A ended."""


def measure(services: Services, customers: int, mode: str, standby_replicas: int) -> Takeover:
    settings = bench_settings(
        services, f"takeover-{mode}-{standby_replicas}", standby_replicas=standby_replicas
    )
    ensure_topics(settings)
    write_changelogs(settings, customers)
    first = _worker(services, settings, "a")
    second = _worker(services, settings, "b")
    try:
        first.start(timeout_s=120)
        first.wait_for(lambda: _ready(first), 120, "worker A ready")
        second.start(timeout_s=120)
        both = (first, second)
        first.wait_for(
            lambda: all(_ready(w) for w in both) and _settled(both, standby_replicas),
            180,
            "both workers ready, with their standby copies caught up",
        )
        moved = _active(first.metrics(), settings)
        if standby_replicas and moved - _standby(second.metrics(), settings):
            raise LocalStackError(f"worker B holds no standby copy of some of {sorted(moved)}")
        orders = _Orders(settings)
        orders.start()
        time.sleep(BEFORE_S)
        signalled = time.time()
        first.stop(SIGNALS[mode])
        ended = time.time()
        limit = signalled + settings.session_timeout_s + 120
        found = None
        while found is None and time.time() < limit:
            time.sleep(0.5)
            found = _first_push(settings, orders, moved, after=ended)
        orders.stop()
        if found is None:
            raise LocalStackError(f"no push from partitions {sorted(moved)} after the {mode} stop")
        return Takeover(mode, standby_replicas, settings.session_timeout_s, found - signalled)
    finally:
        first.stop()
        second.stop()


def _worker(services: Services, settings: Settings, name: str) -> WorkerProcess:
    own = replace(settings, data_dir=f"{settings.data_dir}-{name}", web_port=free_port())
    return WorkerProcess(
        own, services.workdir / f"worker-{Path(settings.data_dir).name}-{name}.log"
    )


def _ready(worker: WorkerProcess) -> bool:
    return worker.metric("rebound_ready") == 1


def _labelled(samples: Samples, name: str, **labels: str) -> list[dict[str, str]]:
    wanted = set(labels.items())
    return [dict(found) for (n, found), _ in samples.items() if n == name and wanted <= set(found)]


def _active(samples: Samples, settings: Settings) -> set[int]:
    topic = settings.event_topics["order"]
    lags = _labelled(samples, "rebound_consumer_lag_records", topic=topic)
    return {int(labels["partition"]) for labels in lags}


def _standby(samples: Samples, settings: Settings) -> set[int]:
    return {
        int(s["partition"]) for s in _labelled(samples, "rebound_restore_offset", replica="standby")
    }


def _settled(workers: tuple[WorkerProcess, ...], standby_replicas: int) -> bool:
    """Every partition run by one worker; with standbys, each worker's copies caught up and
    none of them of a partition it runs."""
    settings = workers[0].settings
    samples_of = [w.metrics() for w in workers]
    runs = [_active(samples, settings) for samples in samples_of]
    if sum(map(len, runs)) != settings.partitions or not all(runs):
        return False
    if not standby_replicas:
        return True
    for samples, running in zip(samples_of, runs, strict=True):
        copies = _standby(samples, settings)
        if copies & running:
            raise LocalStackError(
                f"a worker holds a standby copy of its own partitions {copies & running}"
            )
        behind = sum(
            v
            for (n, labels), v in samples.items()
            if n == "rebound_restore_remaining_records" and ("replica", "standby") in labels
        )
        if not copies or behind:
            return False
    return True


class _Orders:
    """Bike orders at ``RATE`` per second in a thread: event id -> partition."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.partition_of: dict[str, int] = {}
        self.running = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.running = True
        self._thread.start()

    def stop(self) -> None:
        self.running = False
        self._thread.join()

    def _run(self) -> None:
        settings = self._settings
        codec = AvroCodec()
        out = producer(settings, linger_ms=0, batch_size=16 * 1024)
        topic = settings.event_topics["order"]
        began, i = time.monotonic(), 0
        try:
            while self.running:
                pause = began + i / RATE - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                customer = f"{settings.topic_prefix}tk{i:07d}"
                event = order_event(
                    customer, f"o{i}", int(time.time() * 1000), [BIKE], channel="store"
                )
                value, headers = codec.encode(EVENT_RECORDS["order"], event.record, topic)
                out.send(topic, key=customer.encode(), value=value, headers=headers)
                self.partition_of[event.record["event_id"]] = partition_of(
                    customer.encode(), settings.partitions
                )
                i += 1
        finally:
            out.flush()
            out.close()


def _first_push(settings: Settings, orders: _Orders, moved: set[int], after: float) -> float | None:
    """The broker time of the first push for an order of ``moved`` partitions after ``after``."""
    codec = AvroCodec(logical_types=False)
    times = []
    for record in read_topic(settings, settings.command_topics["push"], 10**9, 2):
        if record.timestamp / 1000 <= after:
            continue
        command = codec.decode(SEND_COMMAND, record.value, record.headers)
        if orders.partition_of.get(command["trigger"]["event_id"]) in moved:
            times.append(record.timestamp / 1000)
    return min(times, default=None)
