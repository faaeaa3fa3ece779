"""The intake: raw records from the four event topics and the due-timers topic, decoded and
validated here.

Records arrive as bytes, so a record that is not Avro never raises inside Faust; this module
decodes it; what it cannot decode or validate is ``Rejected``, and the processor sends it to
the dead-letter topic (with what it cannot handle) while the stream goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from streams.codecs import EVENT_RECORDS, AvroCodec, DecodeError
from streams.engine import Input, InvalidEvent, event_from_record
from streams.worker.dead_letter import DeadLetters
from streams.worker.timers import timer_from_bytes

log = logging.getLogger(__name__)


class Rejected(Exception):
    """A record that is not a valid input; it goes to the dead-letter topic."""

    def __init__(self, stage: str, error: BaseException) -> None:
        super().__init__(stage, error)
        self.stage = stage
        """decode or validate."""
        self.error = error


class Intake:
    """Turns a Kafka record into a typed input, or sends it to the dead-letter topic."""

    def __init__(
        self,
        kinds_by_topic: Mapping[str, str],
        codec: AvroCodec,
        dead_letters: DeadLetters,
    ) -> None:
        self._kinds = dict(kinds_by_topic)
        self._codec = codec
        self._dead_letters = dead_letters

    def kind(self, record: Any) -> str:
        """order, delivery, open, click, timer (a due timer), or unknown."""
        return self._kinds.get(record.topic, "unknown")

    def parse(self, record: Any) -> Input:
        """The input in ``record``; ``Rejected`` says why there is none."""
        kind = self.kind(record)
        if kind == "timer":
            try:
                return timer_from_bytes(record.value)
            except (ValueError, KeyError, TypeError) as exc:
                raise Rejected("decode", exc) from exc
        try:
            decoded = self._codec.decode(EVENT_RECORDS[kind], record.value, record.headers)
        except (DecodeError, KeyError) as exc:
            raise Rejected("decode", exc) from exc
        try:
            return event_from_record(kind, decoded, record.key)
        except (InvalidEvent, KeyError, TypeError) as exc:
            raise Rejected("validate", exc) from exc

    async def dead_letter(self, record: Any, stage: str, error: BaseException) -> None:
        await self._dead_letters.publish(record, self.kind(record), stage, error)
