"""Records that used to stop a partition, tried against the real broker and Redis: each is
dead-lettered, repartitioned or handled as documented, every other event is handled, and the
worker neither exits nor hangs."""

from __future__ import annotations

import struct
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis

from devtools.demo import BIKE_LINE, COFFEE_MACHINE_LINE, DemoProducer, delivery_event, order_event
from devtools.localstack.command_reader import CommandReader, read_topic
from devtools.localstack.worker import WorkerProcess
from streams.codecs import EVENT_RECORDS, AvroCodec
from streams.edge.kafka.topics import ensure_topics
from streams.edge.registry import SchemaRegistryClient
from streams.pipeline import dead_letters
from streams.settings import Settings
from tests.integration.conftest import FAST_SCENARIO
from tests.unit.codecs.mock_registry import mock_registry

BROKEN_BIKE = """\
id: broken-bike
version: 1
trigger:
  event: order
  order_contains: {category: bike}
steps:
  - id: at-once
    wait: 0s
    to: seller
    channel: push
    template: bike-accessories
    recommendations: [NO-URL, NO-PRICE, HELMET-URBAN]
"""


@pytest.fixture
def poison_settings(settings: Settings, tmp_path: Path, catalog: None, redis_url: str) -> Settings:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "coffee-fast.yaml").write_text(FAST_SCENARIO)
    (folder / "broken-bike.yaml").write_text(BROKEN_BIKE)
    client = redis.Redis.from_url(redis_url)
    client.hset(
        "rebound:catalog:NO-URL", mapping={"name": "No link", "price": 100, "currency": "EUR"}
    )
    client.hset(
        "rebound:catalog:NO-PRICE", mapping={"name": "No price", "currency": "EUR", "url": "u"}
    )
    settings = replace(settings, scenarios_dir=str(folder), store="rocksdb://")
    ensure_topics(settings)
    return settings


@pytest.fixture
def producer(poison_settings: Settings) -> Iterator[DemoProducer]:
    producer = DemoProducer(poison_settings)
    yield producer
    producer.close()


def run_id() -> str:
    return uuid.uuid4().hex[:6]


def test_poison_records_are_handled_and_the_stream_goes_on(
    poison_settings: Settings, start_worker: Any, producer: DemoProducer
) -> None:
    worker: WorkerProcess = start_worker(poison_settings)
    reader = CommandReader(poison_settings)
    run, now = run_id(), int(time.time() * 1000)
    huge_name = {**BIKE_LINE, "name": "n" * 900_000}
    many_lines = [
        {**BIKE_LINE, "sku": f"S{i}", "name": "n", "category": "m"} for i in range(20_000)
    ]
    future = order_event(f"f-{run}", "o-2100", 4_102_444_800_000, [BIKE_LINE], channel="store")
    producer.send(order_event(f"huge-{run}", "o1", now, [huge_name]))
    producer.send(order_event(f"lines-{run}", "o1", now, [*many_lines, BIKE_LINE]))
    producer.send(future)
    producer.send(order_event(f"f-{run}", "o-now", now, [BIKE_LINE]))
    producer.send(order_event(f"k-{run}", "o1", now, [COFFEE_MACHINE_LINE]))
    producer.send_unkeyed(delivery_event(f"k-{run}", "o1", now + 1))
    producer.flush()

    customers = {f"huge-{run}", f"lines-{run}", f"f-{run}"}
    reader.wait_for(
        lambda c: customers <= {x["customer_id"] for x in c if x["scenario_id"] == "broken-bike"},
        60,
        "the bike commands of the huge order, the 20,000-line order and the real order",
    )
    [email] = reader.wait_for(
        lambda c: any(x["customer_id"] == f"k-{run}" for x in c), 60, "the keyless delivery's email"
    )[-1:]
    assert email["scenario_id"] == "coffee-fast"
    bikes = [c for c in reader.commands if c["scenario_id"] == "broken-bike"]
    assert all(len(c["personalisation"]["product_name"]) <= 120 for c in bikes)
    assert [r["sku"] for r in bikes[0]["recommendations"]] == ["NO-URL", "HELMET-URBAN"]
    assert bikes[0]["recommendations"][0]["url"] == ""
    assert worker.metric("rebound_catalog_incomplete_total") >= 2
    assert worker.metric("rebound_events_repartitioned_total", kind="delivery") == 1
    assert worker.metric("rebound_dead_letters_total", kind="order", stage="validate") == 1
    [dead] = read_topic(poison_settings, poison_settings.dead_letter_topic, 1)
    assert dead.key == f"f-{run}".encode()
    assert dict(dead.headers)[dead_letters.STAGE] == b"validate"
    assert worker.process is not None
    assert worker.process.poll() is None, "still running"
    assert worker.health()["status"] == "ok"
    reader.close()


def test_an_unknown_registry_schema_id_is_dead_lettered(
    poison_settings: Settings, start_worker: Any, producer: DemoProducer
) -> None:
    with mock_registry() as (url, _):
        settings = replace(poison_settings, schema_registry_url=url)
        worker: WorkerProcess = start_worker(settings)
        codec = AvroCodec(registry=SchemaRegistryClient(url))
        topic = settings.event_topics["order"]
        run, now = run_id(), int(time.time() * 1000)
        bike = order_event(f"r-{run}", "o1", now, [BIKE_LINE], channel="store")
        value, _ = codec.encode(EVENT_RECORDS["order"], bike.record, topic)
        unknown = struct.pack(">bI", 0, 999_999) + value[5:]
        producer.send_raw("order", f"r-{run}".encode(), unknown)
        producer.send_raw("order", f"r-{run}".encode(), value)
        producer.flush()
        worker.wait_for(
            lambda: worker.metric("rebound_commands_total", channel="push") == 1,
            60,
            "the command of the valid record after the unknown schema id",
        )
        assert worker.metric("rebound_dead_letters_total", kind="order", stage="decode") == 1
        assert worker.process is not None
        assert worker.process.poll() is None
