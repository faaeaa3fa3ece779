"""The worker against a real broker: events of each kind are consumed, a malformed record
lands in the dead-letter topic with its headers, and the records after it are still handled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from devtools.demo import (
    COFFEE_MACHINE_LINE,
    DemoEvent,
    DemoProducer,
    delivery_event,
    order_event,
)
from devtools.localstack.command_reader import read_topic
from devtools.localstack.worker import WorkerProcess
from streams.edge.kafka.topics import ensure_topics
from streams.pipeline import dead_letters as dead_letter
from streams.settings import Settings
from streams.topology import topic_specs

WHEN = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def events_of_each_kind(customer: str, n: int) -> list[DemoEvent]:
    order = order_event(customer, f"o{n}", WHEN, [COFFEE_MACHINE_LINE])
    delivery = delivery_event(customer, f"o{n}", WHEN)
    opened = {
        "event_id": f"op-{customer}-{n}",
        "customer_id": customer,
        "command_id": "cmd",
        "channel": "email",
        "occurred_at": WHEN,
    }
    click = {**opened, "event_id": f"cl-{customer}-{n}", "url": None, "sku": "CAPS"}
    return [
        order,
        delivery,
        DemoEvent("open", customer, opened),
        DemoEvent("click", customer, click),
    ]


def test_events_are_consumed_and_bad_records_dead_lettered(
    settings: Settings, start_worker: Callable[[Settings], WorkerProcess]
) -> None:
    worker = start_worker(settings)
    producer = DemoProducer(settings)
    for n in range(5):
        for event in events_of_each_kind(f"c{n}", n):
            producer.send(event)
    producer.send_raw("order", b"c9", b"\x00 this is not an Order")
    for n in range(5, 8):
        for event in events_of_each_kind(f"c{n}", n):
            producer.send(event)
    producer.flush()
    producer.close()

    def all_handled() -> bool:
        return all(
            worker.metric("rebound_events_total", kind=kind) == 8
            for kind in ("order", "delivery", "open", "click")
        )

    worker.wait_for(all_handled, 60, "8 events of each kind on /metrics")
    assert worker.metric("rebound_dead_letters_total", kind="order", stage="decode") == 1

    [record] = read_topic(settings, settings.dead_letter_topic, 1)
    headers = {k: v for k, v in record.headers}
    assert record.key == b"c9"
    assert record.value == b"\x00 this is not an Order"
    assert headers[dead_letter.SOURCE_TOPIC] == settings.event_topics["order"].encode()
    assert int(headers[dead_letter.SOURCE_PARTITION]) in range(settings.partitions)
    assert int(headers[dead_letter.SOURCE_OFFSET]) >= 0
    assert headers[dead_letter.STAGE] == b"decode"
    assert b"DecodeError" in headers[dead_letter.ERROR]


def test_health_reports_redis_and_assignment(
    settings: Settings, start_worker: Callable[[Settings], WorkerProcess]
) -> None:
    worker = start_worker(settings)
    health = worker.health()
    assert health["status"] == "ok"
    assert health["redis"] == "ok"
    assert health["assigned_partitions"] > 0
    assert worker.metric("rebound_redis_up") == 1


def test_topics_are_created_idempotently(settings: Settings) -> None:
    first = ensure_topics(settings)
    second = ensure_topics(settings)
    assert sorted(first.created) == sorted(spec.name for spec in topic_specs(settings))
    assert second.created == []
    assert sorted(second.existing) == sorted(first.created + first.existing)
