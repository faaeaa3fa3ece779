"""Reading topics back in integration tests."""

from __future__ import annotations

import time
from typing import Any

from kafka import KafkaConsumer

from streams.settings import Settings


def read_topic(settings: Settings, topic: str, count: int, timeout_s: float = 30) -> list[Any]:
    """At least ``count`` records of ``topic`` from its start, or what came within the time."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=None,
        consumer_timeout_ms=1000,
    )
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(records) < count and time.monotonic() < deadline:
            records.extend(consumer)
    finally:
        consumer.close()
    return records
