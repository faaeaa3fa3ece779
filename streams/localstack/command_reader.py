"""Reading send commands as a channel service would: ``rebound local`` shows them, the
integration tests check them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer

from streams.codecs import SEND_COMMAND, AvroCodec
from streams.localstack.exceptions import LocalStackError
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


def describe(command: dict[str, Any]) -> str:
    """One line per command, as ``rebound local`` prints it."""
    products = ", ".join(r["name"] for r in command["recommendations"])
    return (
        f"  {command['channel']:>5} -> {command['customer_id']}: "
        f"{command['scenario_id']}/{command['step_id']} "
        f"({command['personalisation'].get('product_name', '')}): {products}"
    )
