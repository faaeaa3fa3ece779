"""The contract of ``FaustRuntime`` (``streams.pipeline.ports.Runtime``) against the pinned
faust-streaming and a real broker, driven by a probe process (``runtime_probe.py``) in place
of the commit protocol: an acknowledged batch's offsets are committed; an unacknowledged
one's never are, and its records come again after a restart; a rebalance hands each
partition to one worker, tells the one losing it, and loses no record; a restart restores
the table from its changelog and only then says the partitions are ready."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from kafka.admin import NewTopic

from devtools.localstack.process import free_port, start_child
from streams.edge.kafka.admin import admin_client, kafka_client
from streams.settings import Settings
from tests.integration.runtime_probe import TOPIC

ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 2
Start = Callable[..., "ProbeProcess"]


class ProbeProcess:
    def __init__(self, settings: Settings, folder: Path, name: str, refuse: str = "") -> None:
        self.out = folder / f"{name}.jsonl"
        self.log_path = folder / f"{name}.log"
        env = {**os.environ, **settings.to_env(), "PROBE_OUT": str(self.out)}
        env.update({"PROBE_REFUSE": refuse} if refuse else {})
        self.out.touch()
        with self.log_path.open("ab") as log:
            self.process = start_child(
                [sys.executable, "-m", "tests.integration.runtime_probe", "worker"],
                log,
                env=env,
                cwd=ROOT,
            )

    def lines(self, event: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(line) for line in self.out.read_text().splitlines() if line]
        return [line for line in found if event is None or line["event"] == event]

    def handled(self) -> set[tuple[int, int]]:
        return {
            (partition, offset)
            for line in self.lines("batch")
            if line["acknowledged"]
            for _, partition, offset in line["records"]
        }

    def wait_for(self, condition: Callable[[], bool], what: str, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])
        raise AssertionError(f"timed out waiting for {what}; probe log:\n{tail}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def world(
    settings: Settings, tmp_path: Path
) -> Iterator[tuple[Settings, Callable[..., ProbeProcess]]]:
    settings = replace(settings, partitions=PARTITIONS, store="rocksdb://", session_timeout_s=6.0)
    admin = admin_client(settings)
    admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])
    probes: list[ProbeProcess] = []

    def start(name: str, refuse: str = "", **changes: Any) -> ProbeProcess:
        probe = ProbeProcess(replace(settings, **changes), tmp_path, name, refuse)
        probes.append(probe)
        return probe

    yield settings, start
    for probe in probes:
        probe.stop()
    admin.delete_topics([TOPIC])
    admin.close()


def produce(settings: Settings, values: list[tuple[int, str]]) -> None:
    producer = kafka_client(KafkaProducer, settings, "probe-producer")
    for partition, value in values:
        producer.send(TOPIC, value.encode(), key=f"k-{value}".encode(), partition=partition)
    producer.flush()
    producer.close()


def committed(settings: Settings) -> dict[int, int]:
    admin = admin_client(settings)
    try:
        offsets = admin.list_group_offsets(settings.app_id).get(settings.app_id, {})
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == TOPIC}


def test_acknowledged_offsets_commit_a_rebalance_loses_nothing_and_a_restore_ends_ready(
    world: tuple[Settings, Start],
) -> None:
    settings, start = world
    first = [(n % PARTITIONS, f"a{n}") for n in range(20)]
    produce(settings, first)
    one = start("one")
    one.wait_for(lambda: len(one.handled()) == 20, "20 records handled")
    assert one.lines("ready")[0]["partitions"] == [0, 1]
    one.wait_for(lambda: committed(settings) == {0: 10, 1: 10}, "the offsets committed")

    two = start("two", web_port=free_port(), data_dir=str(Path(settings.data_dir) / "two"))
    two.wait_for(lambda: len(two.lines("ready")) >= 1, "the second worker ready")
    one.wait_for(lambda: one.lines("revoked") != [], "the first worker told of the revocation")
    one.wait_for(lambda: len(one.lines("ready")) >= 2, "the first worker ready again")
    owned = (one.lines("ready")[-1]["partitions"], two.lines("ready")[-1]["partitions"])
    assert sorted(owned[0] + owned[1]) == [0, 1], "each partition to one worker"
    moved = owned[1][0]
    assert two.lines("ready")[-1]["keys"] == sorted(
        f"k-a{n}" for n in range(20) if n % PARTITIONS == moved
    ), "the moved partition's table restored from its changelog before ready"

    second = [(n % PARTITIONS, f"b{n}") for n in range(20)]
    produce(settings, second)
    both = lambda: one.handled() | two.handled()  # noqa: E731
    one.wait_for(lambda: len(both()) == 40, "every record handled by one of the two")
    assert {p for p, _ in two.handled()} == {moved}
    one.wait_for(lambda: committed(settings) == {0: 20, 1: 20}, "every offset committed")


def test_an_unacknowledged_batch_is_never_committed_and_comes_again(
    world: tuple[Settings, Start],
) -> None:
    settings, start = world
    produce(settings, [(0, f"a{n}") for n in range(5)])
    refusing = start("refusing", refuse="poison")
    refusing.wait_for(lambda: len(refusing.handled()) == 5, "the first records handled")
    refusing.wait_for(lambda: committed(settings).get(0) == 5, "their offsets committed")
    produce(settings, [(0, "poison"), *((0, f"b{n}") for n in range(5))])
    assert refusing.process.wait(60) != 0, "the worker stops on the batch it cannot handle"
    time.sleep(1)
    assert committed(settings).get(0) == 5, "nothing committed past the unacknowledged batch"

    again = start("again")
    again.wait_for(lambda: len(again.handled()) == 6, "the refused batch read again")
    assert {offset for _, offset in again.handled()} == set(range(5, 11))
    again.wait_for(lambda: committed(settings).get(0) == 11, "then committed")
