"""The intake: raw records from the four event topics and the due-timers topic, decoded and
validated here.

Faust hands over bytes (raw serializers), so a record that is not Avro never raises inside
Faust; this module decodes it, and anything it cannot decode, validate or handle goes to the
dead-letter topic while the stream goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from streams.codecs import EVENT_RECORDS, AvroCodec, DecodeError
from streams.engine import Input, InvalidEvent, event_from_record
from streams.metrics import Metrics
from streams.worker.dead_letter import DeadLetters
from streams.worker.timers import timer_from_bytes

log = logging.getLogger(__name__)

EventHandler = Callable[[Input, Any], Awaitable[None]]


class Intake:
    """Turns one Kafka message into a typed event and hands it to the handler."""

    def __init__(
        self,
        kinds_by_topic: Mapping[str, str],
        codec: AvroCodec,
        dead_letters: DeadLetters,
        metrics: Metrics,
        handler: EventHandler | None = None,
    ) -> None:
        self._kinds = dict(kinds_by_topic)
        self._codec = codec
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._handler = handler

    async def _parse(self, kind: str, message: Any) -> Input | None:
        """The input in ``message``, or None once it has been sent to the dead-letter topic."""
        if kind == "timer":
            try:
                return timer_from_bytes(message.value)
            except (ValueError, KeyError, TypeError) as exc:
                await self._dead_letters.publish(message, kind, "decode", exc)
                return None
        try:
            record = self._codec.decode(EVENT_RECORDS[kind], message.value, message.headers)
        except (DecodeError, KeyError) as exc:
            await self._dead_letters.publish(message, kind, "decode", exc)
            return None
        try:
            return event_from_record(kind, record, message.key)
        except (InvalidEvent, KeyError, TypeError) as exc:
            await self._dead_letters.publish(message, kind, "validate", exc)
            return None

    async def process(self, message: Any) -> None:
        """Decode, validate and handle ``message``; never raises."""
        kind = self._kinds.get(message.topic, "unknown")
        event = await self._parse(kind, message)
        if event is None:
            return
        try:
            if self._handler is not None:
                await self._handler(event, message)
        # Principle 5: no exception escapes the agent's loop; the record is kept in the DLQ.
        except Exception as exc:
            log.exception(
                "handling %s[%s]@%s failed", message.topic, message.partition, message.offset
            )
            await self._dead_letters.publish(message, kind, "handle", exc)
            return
        if kind != "timer":
            self._metrics.events.labels(kind).inc()
