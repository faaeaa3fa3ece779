"""``rebound local``: Redis, Kafka, the topics and a worker on this machine, plus demo traffic.

Everything it starts lives under one folder (``var/local`` by default) and stops on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import redis
from kafka import KafkaConsumer

from streams.codecs import SEND_COMMAND, AvroCodec
from streams.demo import DemoProducer, demo_events
from streams.localstack.exceptions import LocalStackError
from streams.localstack.kafka import LocalKafka
from streams.localstack.process import ChildProcess, free_port, port_answers
from streams.localstack.redis import LocalRedis
from streams.settings import Settings
from streams.worker.catalog import load_catalog_file

DEMO_CATALOG = Path("scenarios/catalog.yaml")


@contextlib.contextmanager
def local_services(root: Path) -> Iterator[tuple[LocalKafka, LocalRedis]]:
    """A local Kafka broker and Redis server, stopped when the block ends."""
    redis = LocalRedis(root / "redis")
    kafka = LocalKafka(root / "kafka")
    try:
        redis.start()
        kafka.start()
        yield kafka, redis
    finally:
        kafka.stop()
        redis.stop()


def worker_env(kafka: LocalKafka, redis: LocalRedis, root: Path, web_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "REBOUND_BROKER_URL": f"kafka://{kafka.bootstrap}",
            "REBOUND_REDIS_URL": redis.url,
            "REBOUND_PARTITIONS": env.get("REBOUND_PARTITIONS", "4"),
            "REBOUND_DATA_DIR": str(root / "worker"),
            "REBOUND_WEB_PORT": str(web_port),
            "REBOUND_WEB_HOST": "127.0.0.1",
        }
    )
    return env


def start_worker(worker: ChildProcess, env: dict[str, str]) -> None:
    """``rebound worker`` as a child process, waited for until ``/health`` answers."""
    worker.spawn([sys.executable, "-m", "streams", "worker"], env=env)
    port = int(env["REBOUND_WEB_PORT"])
    worker.wait_until(lambda: _healthy(port), 120, f"http://127.0.0.1:{port}/health")


def _healthy(port: int) -> bool:
    if not port_answers(port):
        return False
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return bool(json.loads(response.read())["assigned_partitions"] > 0)
    except (OSError, ValueError, KeyError):
        return False


def run_local(root: Path, rate_per_s: float = 5.0) -> None:
    """Bring the stack up, feed it demo events until Ctrl-C, then stop everything."""
    root.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _interrupt)  # stop everything on `kill` as on Ctrl-C
    web_port = 6066 if not port_answers(6066) else free_port()
    print(f"rebound: starting Redis and Kafka {root} ...", flush=True)
    with local_services(root) as (kafka, redis):
        env = worker_env(kafka, redis, root, web_port)
        print(f"rebound: Kafka on {kafka.bootstrap}, Redis on {redis.url}", flush=True)
        worker = ChildProcess("rebound worker", root / "worker.log")
        try:
            start_worker(worker, env)
            print(
                f"rebound: worker ready; metrics at http://127.0.0.1:{web_port}/metrics, "
                f"health at http://127.0.0.1:{web_port}/health, log in {root / 'worker.log'}"
            )
            print("rebound: producing demo events; Ctrl-C stops everything", flush=True)
            _feed_demo(Settings.from_env(env), rate_per_s, web_port)
        except KeyboardInterrupt:
            print("\nrebound: stopping ...", flush=True)
        finally:
            worker.stop()
    print("rebound: stopped", flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _feed_demo(settings: Settings, rate_per_s: float, web_port: int) -> None:
    load_catalog_file(redis.Redis.from_url(settings.redis_url), DEMO_CATALOG)
    producer = DemoProducer(settings)
    commands = CommandTail(settings)
    last_report = time.monotonic()
    try:
        for event in demo_events(customers=50):
            producer.send(event)
            time.sleep(1.0 / rate_per_s)
            for line in commands.poll():
                print(line, flush=True)
            if time.monotonic() - last_report >= 5:
                producer.flush()
                print("rebound: " + _summary(web_port), flush=True)
                last_report = time.monotonic()
    finally:
        producer.close()
        commands.close()


class CommandTail:
    """Reads the command topics as a channel service would, and describes each command."""

    def __init__(self, settings: Settings) -> None:
        self._codec = AvroCodec()
        self._consumer = KafkaConsumer(
            *settings.command_topics.values(),
            bootstrap_servers=settings.bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=None,
        )

    def poll(self) -> list[str]:
        lines = []
        for records in self._consumer.poll(timeout_ms=0).values():
            for record in records:
                command = self._codec.decode(SEND_COMMAND, record.value, record.headers)
                products = ", ".join(r["name"] for r in command["recommendations"])
                lines.append(
                    f"  {command['channel']:>5} -> {command['customer_id']}: "
                    f"{command['scenario_id']}/{command['step_id']} "
                    f"({command['personalisation'].get('product_name', '')}): {products}"
                )
        return lines

    def close(self) -> None:
        self._consumer.close()


def _summary(web_port: int) -> str:
    """A one-line digest of the worker's counters, read back from ``/metrics``."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError as exc:
        raise LocalStackError(f"the worker stopped answering on port {web_port}: {exc}") from exc
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(
            ("rebound_events_total", "rebound_commands_total", "rebound_dead_letters_total")
        ):
            name = line.split("{")[0].removeprefix("rebound_").removesuffix("_total")
            totals[name] = totals.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return ", ".join(f"{name} {value:.0f}" for name, value in sorted(totals.items()))
