"""The dead-letter topic: a record Rebound cannot handle goes there whole, with why."""

from __future__ import annotations

import logging
from typing import Any

from streams.metrics import Metrics
from streams.pipeline.ports import Sender, no_delivery_callback

log = logging.getLogger(__name__)

SOURCE_TOPIC = "rebound.dlq.source.topic"
SOURCE_PARTITION = "rebound.dlq.source.partition"
SOURCE_OFFSET = "rebound.dlq.source.offset"
STAGE = "rebound.dlq.stage"
ERROR = "rebound.dlq.error"


def dead_letter_headers(message: Any, stage: str, error: BaseException) -> list[tuple[str, bytes]]:
    """The record's own headers followed by where it came from and what went wrong."""
    headers = list(message.headers or ())
    headers += [
        (SOURCE_TOPIC, message.topic.encode()),
        (SOURCE_PARTITION, str(message.partition).encode()),
        (SOURCE_OFFSET, str(message.offset).encode()),
        (STAGE, stage.encode()),
        (ERROR, f"{type(error).__name__}: {error}"[:1000].encode()),
    ]
    return headers


class DeadLetters:
    """Publishes failed records to the dead-letter topic and counts them."""

    def __init__(self, sender: Sender, topic: str, metrics: Metrics) -> None:
        self._sender = sender
        self._topic = topic
        self._metrics = metrics

    async def publish(self, message: Any, kind: str, stage: str, error: BaseException) -> None:
        """Send the original key and bytes on; the offset commits only after the send flushes."""
        # The error text may quote field names, never field values: no personal data in logs.
        log.warning(
            "dead letter: %s[%s]@%s failed at %s: %s",
            message.topic,
            message.partition,
            message.offset,
            stage,
            type(error).__name__,
        )
        record = (message.key, message.value, dead_letter_headers(message, stage, error))
        await self._sender.send_keyed(self._topic, [record], no_delivery_callback)
        self._metrics.dead_letters.labels(kind, stage).inc()
