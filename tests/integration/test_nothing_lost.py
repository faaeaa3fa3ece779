"""Nothing lost (docs/architecture.md, rule 4), tried against the real broker and Redis: a crash at
each step of the commit protocol, and SIGKILLs at random moments, lose no command; after
deduplication by ``command_id`` none is duplicated. The expected commands come from the
pure engine (an oracle), deciding on the same events."""

from __future__ import annotations

import random
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from devtools.demo import BIKE_LINE, DemoEvent, DemoProducer, order_event
from devtools.localstack.command_reader import CommandReader
from devtools.localstack.worker import WorkerProcess
from streams.app import CRASH_AT_VARIABLE
from streams.edge.kafka.topics import ensure_topics
from streams.engine import Engine, event_from_record
from streams.engine.effects import SendCommand
from streams.pipeline.commit import CRASH_EXIT_CODE, CRASH_POINTS
from streams.scenarios import load_scenarios
from streams.settings import Settings

StartWorker = Callable[..., WorkerProcess]
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture
def world(
    settings: Settings, catalog: None
) -> Iterator[tuple[Settings, DemoProducer, CommandReader]]:
    ensure_topics(settings)
    producer, reader = DemoProducer(settings), CommandReader(settings)
    yield settings, producer, reader
    producer.close()
    reader.close()


def bike_orders(n: int) -> list[DemoEvent]:
    """In-store bike orders: each gets its command at once (zero delay)."""
    run = uuid.uuid4().hex[:6]
    now = int(time.time() * 1000)
    return [
        order_event(f"c-{run}-{i}", f"o{i}", now, [BIKE_LINE], channel="store") for i in range(n)
    ]


def expected_ids(events: list[DemoEvent]) -> set[str]:
    """The oracle: the command ids the pure engine decides for ``events``."""
    engine = Engine(load_scenarios(SCENARIOS))
    ids = set()
    for demo in events:
        event = event_from_record(demo.kind, demo.record)
        _, effects = engine.decide(None, event, time.time())
        ids |= {e.command_id for e in effects if isinstance(e, SendCommand)}
    return ids


def send(producer: DemoProducer, events: list[DemoEvent]) -> None:
    for event in events:
        producer.send(event)
    producer.flush()


def report(reader: CommandReader, expected: set[str]) -> tuple[int, int, int]:
    """(lost, duplicated on the topics, unexpected) once every expected id has come."""
    reader.wait_for(lambda c: expected <= {x["command_id"] for x in c}, 120, "every command")
    ids = [c["command_id"] for c in reader.commands]
    lost = len(expected - set(ids))
    return lost, len(ids) - len(set(ids)), len(set(ids) - expected)


@pytest.mark.parametrize("step", CRASH_POINTS)
def test_a_crash_at_each_step_of_the_commit_protocol_loses_no_command(
    world: tuple[Settings, DemoProducer, CommandReader], start_worker: StartWorker, step: str
) -> None:
    settings, producer, reader = world
    settings = replace(settings, store="rocksdb://")
    crashing = start_worker(settings, {CRASH_AT_VARIABLE: step})
    events = bike_orders(40)
    send(producer, events)
    assert crashing.wait_exit(60) == CRASH_EXIT_CODE, f"the worker crashed at {step}"

    start_worker(settings)  # the same data folder: its RocksDB files, then the changelog
    lost, on_topics, unexpected = report(reader, expected_ids(events))
    print(f"\ncrash at {step}: {len(reader.commands)} published, {on_topics} duplicates")
    assert (lost, unexpected) == (0, 0)


def test_sigkills_at_random_moments_lose_nothing(
    world: tuple[Settings, DemoProducer, CommandReader], start_worker: StartWorker
) -> None:
    settings, producer, reader = world
    settings = replace(settings, store="rocksdb://")
    rng = random.Random(7)  # noqa: S311 (test timing)
    events = bike_orders(600)
    worker = start_worker(settings)
    for round_ in range(3):
        send(producer, events[round_ * 200 : (round_ + 1) * 200])
        time.sleep(rng.uniform(0.05, 1.5))  # somewhere in the middle of handling them
        worker.stop(signal.SIGKILL)
        worker = start_worker(settings)
    lost, on_topics, unexpected = report(reader, expected_ids(events))
    print(f"\n3 SIGKILLs: {len(reader.commands)} published for 600, {on_topics} duplicates")
    assert (lost, unexpected) == (0, 0), "nothing lost, no command the engine did not decide"
