"""Reading send commands as a channel service would: ``rebound local`` shows them, the
integration tests check them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from devtools.localstack.exceptions import LocalStackError
from streams.codecs import SEND_COMMAND, AvroCodec
from streams.edge.kafka.admin import security_options
from streams.settings import Settings


class CommandReader:
    """Every send command published on the command topics, decoded, as a channel service sees it."""

    def __init__(self, settings: Settings) -> None:
        self._codec = AvroCodec()
        self._consumer = KafkaConsumer(
            *settings.command_topics.values(),
            bootstrap_servers=settings.bootstrap_servers,
            auto_offset_reset="earliest",
            group_id=None,
            **security_options(settings),
        )
        self.commands: list[dict[str, Any]] = []
        self.received_at: list[float] = []

    def poll(self, timeout_ms: int = 200) -> list[dict[str, Any]]:
        """The commands that arrived since the last poll (all are kept in ``commands``)."""
        new = [
            self._codec.decode(SEND_COMMAND, record.value, record.headers)
            for records in self._consumer.poll(timeout_ms=timeout_ms).values()
            for record in records
        ]
        self.commands += new
        self.received_at += [time.time()] * len(new)
        return new

    def wait_for(
        self, condition: Callable[[list[dict[str, Any]]], bool], timeout_s: float, what: str
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.poll()
            if condition(self.commands):
                return self.commands
        raise LocalStackError(
            f"timed out waiting for {what}; got {len(self.commands)} commands: "
            f"{sorted((c['customer_id'], c['step_id']) for c in self.commands)[:20]}"
        )

    def close(self) -> None:
        self._consumer.close()


def read_topic(settings: Settings, topic: str, expected: int, timeout_s: float = 30) -> list[Any]:
    """Every record of ``topic`` from its start (at least ``expected`` of them, or all there
    are once ``timeout_s`` is over), with their timestamps and headers."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=None, enable_auto_commit=False
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500, max_records=50_000).values():
                records += batch
        return records
    finally:
        consumer.close()
