"""The installed package runs: the wheel carries the schemas, loads the scenarios, decodes a
record, and a worker started from it (outside the checkout) handles an event end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from devtools.demo import BIKE_LINE, DemoProducer, order_event
from devtools.localstack.command_reader import CommandReader
from devtools.localstack.worker import WorkerProcess
from streams.codecs import SchemaRepository
from streams.edge.kafka.topics import ensure_topics
from streams.scenarios import load_scenarios
from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import streams, sys
from pathlib import Path
from streams.codecs import AvroCodec, EVENT_RECORDS, SchemaRepository
from streams.scenarios import load_scenarios
assert not streams.__file__.startswith(sys.argv[1]), streams.__file__
names = SchemaRepository().names()
scenarios = load_scenarios(Path(sys.argv[1]) / "scenarios")
codec = AvroCodec()
record = {"event_id": "e", "customer_id": "c", "order_id": "o", "occurred_at": 0}
value, headers = codec.encode(EVENT_RECORDS["delivery"], record, "deliveries")
assert codec.decode(EVENT_RECORDS["delivery"], value, headers)["order_id"] == "o"
print(len(names), len(scenarios))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout (plain Python: the compile is tested elsewhere),
    installed without its dependencies into a folder of its own."""
    out = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "REBOUND_COMPILE": "0", "PIP_CONSTRAINT": str(ROOT / "constraints.txt")}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        env=env,
    )
    [wheel] = out.glob("rebound-*.whl")
    target = out / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    return target


def test_the_wheel_carries_the_schemas_and_reads_scenarios(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(ROOT)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    schemas, scenarios = map(int, done.stdout.split())
    assert schemas == len(SchemaRepository().names()), "every record's schemas are in the wheel"
    assert scenarios == len(load_scenarios(ROOT / "scenarios"))


def test_a_worker_from_the_wheel_handles_an_event(
    installed: Path, settings: Settings, catalog: None, tmp_path: Path
) -> None:
    settings = replace(settings, data_dir=str(tmp_path / "data"))
    ensure_topics(settings)
    worker = WorkerProcess(
        settings, tmp_path / "worker.log", {"PYTHONPATH": str(installed)}, cwd=tmp_path
    )
    try:
        worker.start()
        reader, producer = CommandReader(settings), DemoProducer(settings)
        producer.send(
            order_event("w1", "o1", int(time.time() * 1000), [BIKE_LINE], channel="store")
        )
        producer.flush()
        [command] = reader.wait_for(lambda c: len(c) >= 1, 60, "the bike's command")
        assert command["scenario_id"] == "in-store-bike"
        producer.close()
        reader.close()
    finally:
        worker.stop()
