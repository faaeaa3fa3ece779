"""Reading topics back in integration tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer

from streams.codecs import SEND_COMMAND, AvroCodec
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


class CommandReader:
    """Every send command published on the command topics, decoded, as a channel service sees it."""

    def __init__(self, settings: Settings) -> None:
        self._codec = AvroCodec()
        self._consumer = KafkaConsumer(
            *settings.command_topics.values(),
            bootstrap_servers=settings.bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=None,
        )
        self.commands: list[dict[str, Any]] = []
        self.received_at: list[float] = []

    def poll(self) -> list[dict[str, Any]]:
        for records in self._consumer.poll(timeout_ms=200).values():
            for record in records:
                self.commands.append(self._codec.decode(SEND_COMMAND, record.value, record.headers))
                self.received_at.append(time.time())
        return self.commands

    def wait_for(
        self, condition: Callable[[list[dict[str, Any]]], bool], timeout_s: float, what: str
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition(self.poll()):
                return self.commands
        raise AssertionError(
            f"timed out waiting for {what}; got {len(self.commands)} commands: "
            f"{sorted((c['customer_id'], c['step_id']) for c in self.commands)[:20]}"
        )

    def close(self) -> None:
        self._consumer.close()
