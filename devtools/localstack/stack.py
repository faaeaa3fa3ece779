"""``rebound local``: Redis, Kafka, the topics and a worker on this machine, plus demo traffic.

Everything it starts lives under one folder (``var/local`` by default) and stops on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from kafka.errors import KafkaError

from devtools.demo import DemoProducer, DemoWorld, demo_profiles, write_profiles
from devtools.localstack.command_reader import CommandReader
from devtools.localstack.kafka import LocalKafka
from devtools.localstack.process import FolderLock, free_port, port_answers
from devtools.localstack.redis import LocalRedis
from devtools.localstack.worker import WorkerProcess
from streams.edge.redis.catalog import load_catalog_file
from streams.edge.redis.preflight import redis_address
from streams.edge.redis.profile_files import load_profiles_file
from streams.settings import Settings

DEMO_CATALOG = Path("scenarios/catalog.yaml")
SUMMARY = {
    "rebound_events_total": "events",
    "rebound_commands_total": "commands",
    "rebound_instances_started_total": "started",
    "rebound_instances_ended_total": "exits on purchase",
    "rebound_conversions_total": "conversions",
    "rebound_steps_deferred_total": "deferred",
    "rebound_steps_dropped_total": "suppressed",
    "rebound_dead_letters_total": "dead letters",
    "rebound_timers_pending": "timers pending",
}
"""The worker's metrics the demo's line of counters shows, by its names."""
COUNTERS = (
    "events", "email", "sms", "push", "started", "exits on purchase", "conversions",
    "deferred", "suppressed", "dead letters", "timers pending",
)  # fmt: skip


@contextlib.contextmanager
def local_services(
    root: Path, kafka: bool = True, redis: bool = True
) -> Iterator[tuple[LocalKafka | None, LocalRedis | None]]:
    """A local Kafka broker and Redis server (those asked for), stopped when the block ends."""
    redis_server = LocalRedis(root / "redis") if redis else None
    broker = LocalKafka(root / "kafka") if kafka else None
    try:
        if redis_server is not None:
            redis_server.start()
        if broker is not None:
            broker.start()
        yield broker, redis_server
    finally:
        if broker is not None:
            broker.stop()
        if redis_server is not None:
            redis_server.stop()


DEMO_TIME_SCALE = 17280.0
"""Demo seconds per real second: a day in 5 s, so every scenario shows within two minutes."""


def run_local(root: Path, rate_per_s: float = 5.0) -> None:
    """Bring the stack up, feed it demo events until Ctrl-C, then stop everything.

    ``REBOUND_*`` variables the user set are honoured (the scenarios' folder, the topics'
    prefix, the app id...); ``REBOUND_BROKER_URL`` or ``REBOUND_REDIS_URL`` set means that
    service is the user's own, and no local one is started for it."""
    lock = FolderLock(root).acquire()  # one stack per folder; released when this process dies
    # Kafka and Redis start empty every time, so the worker's tables must too: RocksDB
    # files left by an earlier run would hold customers that no changelog knows.
    shutil.rmtree(root / "worker", ignore_errors=True)
    # Stop everything on `kill` and on a closed terminal as on Ctrl-C; a SIGKILL leaves no
    # handler, and the children stop themselves (``process.die_with_parent``).
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started in the background, which
    # ignores SIGINT (`make run &` from a script): kill -INT stops it as Ctrl-C does
    user = Settings.from_env()
    own_kafka = "REBOUND_BROKER_URL" in os.environ
    own_redis = "REBOUND_REDIS_URL" in os.environ
    print(f"rebound: starting {_starting(own_kafka, own_redis)} in {root} ...", flush=True)
    with local_services(root, kafka=not own_kafka, redis=not own_redis) as (kafka, redis_server):
        settings = replace(
            user,
            broker_url=user.broker_url if kafka is None else f"kafka://{kafka.bootstrap}",
            redis_url=user.redis_url if redis_server is None else redis_server.url,
            partitions=user.partitions if "REBOUND_PARTITIONS" in os.environ else 4,
            data_dir=str(root / "worker"),
            web_host="127.0.0.1",
            web_port=6066 if not port_answers(6066) else free_port(),
            time_scale=user.time_scale if "REBOUND_TIME_SCALE" in os.environ else DEMO_TIME_SCALE,
            time_origin=time.time(),
        )
        print(f"rebound: Kafka at {', '.join(settings.bootstrap_servers)}, Redis at "
              f"{redis_address(settings.redis_url)}", flush=True)  # fmt: skip
        worker = WorkerProcess(settings, root / "worker.log")
        try:
            worker.start()
            print(
                f"rebound: worker ready; metrics at {worker.url}/metrics, health at "
                f"{worker.url}/health, log in {worker.log_path}\n"
                f"rebound: demo time runs {settings.time_scale:,.0f} times faster (a day in "
                f"{86400 / settings.time_scale:.0f} s; REBOUND_TIME_SCALE) for the worker and "
                f"the demo customers, who order, open, click and buy; Ctrl-C stops all\n"
                f"rebound: the funnel so far, as a page: .venv/bin/rebound report --metrics "
                f"{worker.url}/metrics -o var/report.html",
                flush=True,
            )
            feed_demo(settings, rate_per_s, worker)
        except KeyboardInterrupt:
            print("\nrebound: stopping ...", flush=True)
        finally:
            worker.stop()
    lock.release()
    print("rebound: stopped", flush=True)


def _starting(own_kafka: bool, own_redis: bool) -> str:
    local = [name for name, own in (("Redis", own_redis), ("Kafka", own_kafka)) if not own]
    return " and ".join(local) if local else "nothing (your Kafka and Redis)"


def _show(line: str) -> None:
    print(line, flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


DEMO_CUSTOMERS = 50


def feed_demo(
    settings: Settings,
    rate_per_s: float,
    worker: WorkerProcess,
    until: Callable[[list[dict[str, Any]]], bool] | None = None,
    out: Callable[[str], None] | None = None,
    customer_prefix: str = "c",
) -> list[dict[str, Any]]:
    """Produce the demo customers' events and show the commands, until Ctrl-C (or until
    ``until`` holds for the commands seen, which are returned)."""
    client = redis.Redis.from_url(settings.redis_url)
    catalog = Path(settings.scenarios_dir) / "catalog.yaml"
    load_catalog_file(client, catalog if catalog.exists() else DEMO_CATALOG)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    profiles = write_profiles(
        Path(settings.data_dir) / "demo-profiles.jsonl",
        demo_profiles(DEMO_CUSTOMERS, prefix=customer_prefix),
    )
    load_profiles_file(client, profiles, progress=False)  # as `rebound profiles` does
    producer = DemoProducer(settings)
    commands = CommandReader(settings)
    world = DemoWorld(DEMO_CUSTOMERS, prefix=customer_prefix)
    clock = settings.clock()
    out = out or _show
    view = LiveView(worker)
    next_order = last_report = time.monotonic()
    try:
        while until is None or not until(commands.commands):
            now_ms = int(clock() * 1000)
            try:
                if time.monotonic() >= next_order:
                    producer.send(world.new_order(now_ms))
                    next_order = max(next_order + 1.0 / rate_per_s, time.monotonic())
                for event in world.due(now_ms):
                    producer.send(event)
                producer.flush(timeout=5)
            except KafkaError as exc:
                out(view.kafka_away(exc, now_ms / 1000))
                continue
            for command in commands.poll(timeout_ms=100):
                out(view.line(command))
                world.react(command, now_ms)
            if time.monotonic() - last_report >= 5:
                out(view.counters(world.reactions, now_ms / 1000))
                last_report = time.monotonic()
        return commands.commands
    finally:
        producer.close()
        commands.close()


class LiveView:
    """The demo's screen: a line per command, a line of counters every five seconds, and
    what is wrong when Redis or Kafka is away (as the worker's ``/health`` says)."""

    def __init__(self, worker: WorkerProcess) -> None:
        self._worker = worker

    def when(self, at: float) -> str:
        """Demo time, UTC (a scenario's "at 10:00" is the customer's local time)."""
        return datetime.fromtimestamp(at, tz=UTC).strftime("%a %d %b %H:%M")

    def line(self, command: dict[str, Any]) -> str:
        products = ", ".join(r["name"] for r in command["recommendations"]) or "-"
        step = f"{command['scenario_id']}/{command['step_id']}"
        created = command["created_at"]  # a datetime, as the codec decodes it
        at = created.timestamp() if hasattr(created, "timestamp") else created / 1000
        channel, customer = command["channel"], command["customer_id"]
        return f"{self.when(at)}  {channel:<5} {customer:<8} {step:<44} {products}"

    def kafka_away(self, error: Exception, now: float) -> str:
        return (
            f"!! {self.when(now)}  Kafka does not take the demo's events "
            f"({type(error).__name__}): the demo and the worker wait and retry; nothing is lost"
        )

    def counters(self, reactions: dict[str, int], now: float) -> str:
        health = self._worker.probe("/health")
        if health is None:
            return (
                f"!! {self.when(now)}  the worker does not answer on {self._worker.url}: "
                f"see {self._worker.log_path}"
            )
        if health.get("redis") == "unreachable":
            return (
                f"!! {self.when(now)}  Redis is unreachable: the worker waits and retries, "
                "loses nothing; steps held past their scenario's expiry count as suppressed"
            )
        totals: dict[str, float] = {}
        try:
            samples = self._worker.metrics()
        except OSError:
            samples = {}
        for (name, labels), value in samples.items():
            key = SUMMARY.get(name)
            if key is None:
                continue
            if name == "rebound_commands_total":
                key = dict(labels).get("channel", key)
            elif name == "rebound_instances_ended_total":
                reason = dict(labels).get("reason", "")
                if reason != "purchased":
                    continue
            totals[key] = totals.get(key, 0.0) + value
        shown = ", ".join(f"{name} {totals.get(name, 0):.0f}" for name in COUNTERS)
        reacted = ", ".join(f"{k}s {v}" for k, v in reactions.items())
        return f"-- {self.when(now)}  {shown} | customers' {reacted}"
