"""One run of the fault suite: a fresh app (its own topics and consumer group) on the suite's
broker and Redis, the workload fed on its schedule, one fault striking on its own schedule,
then the verification. The services are local processes (Kafka from Maven Central's jars,
Debian's redis-server) behind latency proxies, because the suite kills, hangs and slows them.
"""

from __future__ import annotations

import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import redis

from devtools.demo import DemoProducer
from devtools.localstack.command_reader import CommandReader
from devtools.localstack.exceptions import LocalStackError
from devtools.localstack.kafka import LocalKafka
from devtools.localstack.process import free_port
from devtools.localstack.proxy import LatencyProxy
from devtools.localstack.redis import LocalRedis
from devtools.localstack.worker import WorkerProcess
from faults.malformed import Malformed
from faults.oracle import expected_commands
from faults.verify import Report, verify
from faults.workload import ACCESSORIES_S, REMINDER_S, SCENARIOS, Planned, Workload, generate
from streams.edge.kafka.topics import ensure_topics
from streams.edge.redis.catalog import load_catalog_file
from streams.settings import Settings

CATALOG = Path(__file__).resolve().parents[1] / "scenarios" / "catalog.yaml"
SLOW_S = 0.04
"""The latency the slow fault adds, each way, to every chunk to and from Kafka and Redis."""


@dataclass
class Stack:
    root: Path
    kafka: LocalKafka
    kafka_proxy: LatencyProxy
    redis: LocalRedis
    redis_proxy: LatencyProxy

    @property
    def broker_url(self) -> str:
        return f"kafka://127.0.0.1:{self.kafka_proxy.port}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_proxy.port}/0"


@contextmanager
def local_stack(root: Path) -> Iterator[Stack]:
    """Kafka and Redis, each behind a latency proxy, for the whole suite."""
    root.mkdir(parents=True, exist_ok=True)
    kafka_port = free_port()
    kafka_proxy = LatencyProxy(kafka_port).start()
    kafka = LocalKafka(root / "kafka", port=kafka_port, advertised_port=kafka_proxy.port)
    server = LocalRedis(root / "redis", durable=True)
    try:
        server.start()
        redis_proxy = LatencyProxy(server.port).start()
        kafka.start()
        stack = Stack(root, kafka, kafka_proxy, server, redis_proxy)
        load_catalog_file(redis.Redis.from_url(stack.redis_url), CATALOG)
        yield stack
    finally:
        kafka.stop()
        server.stop()
        kafka_proxy.stop()


@dataclass
class Run:
    """What a fault acts on."""

    name: str
    stack: Stack
    settings: Settings
    folder: Path
    workers: list[WorkerProcess] = field(default_factory=list)
    log: Callable[[str], None] = print

    def start_worker(self, number: int = 0) -> WorkerProcess:
        settings = replace(
            self.settings,
            data_dir=str(self.folder / f"worker-{number}"),
            web_port=free_port(),
        )
        worker = WorkerProcess(settings, self.folder / f"worker-{number}.log").start()
        if number < len(self.workers):
            self.workers[number] = worker
        else:
            self.workers.append(worker)
        return worker

    def kill_worker(self, number: int = 0) -> None:
        self.workers[number].stop(signal.SIGKILL)


Fault = Callable[[Run, Callable[[float], None]], None]
"""Acts on a run; the second argument sleeps until that many seconds after the start."""


def no_fault(run: Run, until: Callable[[float], None]) -> None:
    """Only the malformed records (every run has them)."""


def worker_kills(run: Run, until: Callable[[float], None]) -> None:
    """SIGKILL while events come in, while the phones' timers fire, while reminders wait."""
    for at in (7.0, 27.0, 45.0):
        until(at)
        run.log(f"  {at:>4.0f} s: SIGKILL the worker")
        run.kill_worker()
        time.sleep(2)
        run.start_worker()
        run.log("         the worker is back")


def rebalance(run: Run, until: Callable[[float], None]) -> None:
    """A second worker shares the partitions; it is killed, then comes back."""
    run.start_worker(1)
    until(9.0)
    run.log("     9 s: SIGKILL the second worker (its partitions move)")
    run.kill_worker(1)
    until(19.0)
    run.start_worker(1)
    run.log("         the second worker is back (a rebalance again)")


def redis_hang(run: Run, until: Callable[[float], None]) -> None:
    """Redis stops answering for 20 s (SIGSTOP), then goes on."""
    until(8.0)
    run.log("     8 s: Redis hangs (SIGSTOP) for 20 s")
    run.stack.redis.pause()
    until(28.0)
    run.stack.redis.resume()


def redis_restart(run: Run, until: Callable[[float], None]) -> None:
    """Redis killed, away for 15 s, restarted on its append-only file."""
    until(8.0)
    run.log("     8 s: SIGKILL Redis; restarted on its data 15 s later")
    run.stack.redis.kill()
    until(23.0)
    run.stack.redis.start()


def broker_kill(run: Run, until: Callable[[float], None]) -> None:
    """The broker killed, restarted on its data 10 s later."""
    until(8.0)
    run.log("     8 s: SIGKILL the broker; restarted on its data 10 s later")
    run.stack.kafka.kill()
    until(18.0)
    run.stack.kafka.restart()


def slow(run: Run, until: Callable[[float], None]) -> None:
    """Kafka and Redis both slow (40 ms each way on every exchange) for 30 s."""
    until(5.0)
    run.log(f"     5 s: Kafka and Redis {SLOW_S * 1000:.0f} ms slower each way, for 30 s")
    run.stack.kafka_proxy.delay_s = run.stack.redis_proxy.delay_s = SLOW_S
    until(35.0)
    run.stack.kafka_proxy.delay_s = run.stack.redis_proxy.delay_s = 0.0


FAULTS: dict[str, Fault] = {
    "malformed-only": no_fault,
    "worker-kills": worker_kills,
    "rebalance": rebalance,
    "redis-hang": redis_hang,
    "redis-restart": redis_restart,
    "broker-kill": broker_kill,
    "slow": slow,
}


def run_fault(
    stack: Stack, name: str, customers: int, feed_s: float, log: Callable[[str], None] = print
) -> Report:
    tag = f"{name}-{uuid.uuid4().hex[:6]}"
    folder = stack.root / "runs" / tag
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "scenarios").mkdir(parents=True)
    for file_name, text in SCENARIOS.items():
        (folder / "scenarios" / file_name).write_text(text)
    settings = Settings(
        app_id=f"faults-{tag}",
        broker_url=stack.broker_url,
        redis_url=stack.redis_url,
        topic_prefix=f"{tag}.",
        partitions=4,
        store="rocksdb://",
        web_host="127.0.0.1",
        log_level="info",
        session_timeout_s=6.0,
        scenarios_dir=str(folder / "scenarios"),
    )
    ensure_topics(settings)
    run = Run(name, stack, settings, folder, log=log)
    run.start_worker()
    start = time.time()
    # Customer ids unique to the run: the ledger outlives runs, and the same ids (the same
    # command ids) would rightly be suppressed as published already.
    work = generate(customers, feed_s, start, prefix=f"{tag}-")
    expected = expected_commands(work, folder / "scenarios", CATALOG, folder / "events.jsonl")
    injected = {m.key for _, m in work.malformed}
    log(
        f"{name}: {customers:,} customers, {len(work.events):,} events, "
        f"{len(work.malformed)} malformed, {len(expected):,} commands expected"
    )

    def until(at_s: float) -> None:
        time.sleep(max(0.0, start + at_s - time.time()))

    feeder = threading.Thread(target=_feed, args=(settings, work, until), daemon=True)
    feeder.start()
    try:
        FAULTS[name](run, until)
        feeder.join()
        deadline = start + work.end_s + ACCESSORIES_S + REMINDER_S + 90
        _wait_for(settings, set(expected), deadline)
        time.sleep(5)  # what a last restart may publish again
        return verify(name, settings, expected, injected, time.time() - start)
    finally:
        for worker in run.workers:
            worker.stop()
        stack.kafka_proxy.delay_s = stack.redis_proxy.delay_s = 0.0


def _feed(settings: Settings, work: Workload, until: Callable[[float], None]) -> None:
    """Produce every event and malformed record at its time (a late producer is late; the
    events keep their own ``occurred_at``)."""
    producer = DemoProducer(settings)
    items: list[tuple[float, Planned | Malformed]] = [(p.at_s, p) for p in work.events]
    items += work.malformed
    items.sort(key=lambda item: item[0])
    for at, item in items:
        until(at)
        if isinstance(item, Malformed):
            producer.send_raw(item.topic_kind, item.key, item.value, item.headers)
        elif item.keyless:
            producer.send_unkeyed(item.event)
        else:
            producer.send(item.event)
    producer.flush()
    producer.close()


def _wait_for(settings: Settings, expected: set[str], deadline: float) -> None:
    """Until every expected command is on the topics, or the deadline (the verifier then
    says what is missing)."""
    reader = CommandReader(settings)
    try:
        reader.wait_for(
            lambda commands: expected <= {c["command_id"] for c in commands},
            max(0.0, deadline - time.time()),
            "every expected command",
        )
    except LocalStackError:
        pass
    finally:
        reader.close()
