"""The intake: raw records from the event topics, the repartition topic and the due-timers
topic, decoded and validated here.

Records arrive as bytes, so a record that is not Avro never raises inside Faust; this module
decodes it. What it cannot decode or validate is ``Rejected`` (the processor sends it to the
dead-letter topic while the stream goes on); a valid event whose record key is not its
``customer_id`` is ``Misrouted``: it sits on a partition that does not hold its customer's
state, so the processor sends it through the repartition topic, keyed by customer.

Lateness rules: an event may come any time after it happened (a late delivery still starts
its scenario; the wait runs from the event's own time, so a step already due runs at once);
an event dated more than ``max_future_s`` ahead of the worker's clock is rejected (stage
``validate``), because it would hold its customer's scenarios until that date.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.codecs import EVENT_RECORDS, AvroCodec, DecodeError
from streams.engine import Input, InvalidEvent, TimerFired, event_from_record
from streams.pipeline.dead_letters import DeadLetters
from streams.pipeline.timers import timer_from_bytes

REPARTITION = "repartition"
"""The kind of the repartition topic's records; their own kind is in a header."""
KIND_HEADER = "rebound.kind"
"""On a repartitioned record: the kind of event it carries (order, delivery, open, click)."""


class Rejected(Exception):
    """A record that is not a valid input; it goes to the dead-letter topic."""

    def __init__(self, stage: str, error: BaseException) -> None:
        super().__init__(stage, error)
        self.stage = stage
        """decode or validate."""
        self.error = error


class Misrouted(Exception):
    """A valid event whose record is not keyed by its customer: to be repartitioned."""

    def __init__(self, kind: str, customer_id: str) -> None:
        super().__init__(kind, customer_id)
        self.kind = kind
        self.customer_id = customer_id


class Intake:
    """Turns a Kafka record into a typed input, or says why it cannot."""

    def __init__(
        self,
        kinds_by_topic: Mapping[str, str],
        codec: AvroCodec,
        dead_letters: DeadLetters,
        max_future_s: float,
    ) -> None:
        self._kinds = dict(kinds_by_topic)
        self._codec = codec
        self._dead_letters = dead_letters
        self._max_future_s = max_future_s

    def kind(self, record: Any) -> str:
        """order, delivery, open, click, timer (a due timer), repartition, or unknown."""
        return self._kinds.get(record.topic, "unknown")

    def parse(self, record: Any, now: float) -> Input:
        """The input in ``record``; ``Rejected`` says why there is none, ``Misrouted`` that
        it must be repartitioned first."""
        kind = self.kind(record)
        if kind == "timer":
            try:
                return timer_from_bytes(record.value)
            except (ValueError, KeyError, TypeError) as exc:
                raise Rejected("decode", exc) from exc
        repartitioned = kind == REPARTITION
        if repartitioned:
            kind = _header(record, KIND_HEADER)
        try:
            decoded = self._codec.decode(EVENT_RECORDS[kind], record.value, record.headers)
        except (DecodeError, KeyError) as exc:
            raise Rejected("decode", exc) from exc
        try:
            event = event_from_record(kind, decoded)
        except (InvalidEvent, KeyError, TypeError) as exc:
            raise Rejected("validate", exc) from exc
        if event.occurred_at > now + self._max_future_s:
            raise Rejected("validate", InvalidEvent("field 'occurred_at' is in the future"))
        if record.key != event.customer_id.encode():
            if repartitioned:  # the repartition topic is ours: keyed right, or a bug
                raise Rejected("validate", InvalidEvent("repartitioned record keyed otherwise"))
            raise Misrouted(kind, event.customer_id)
        return event

    async def dead_letter(self, record: Any, stage: str, error: BaseException) -> None:
        await self._dead_letters.publish(record, self.kind(record), stage, error)


def _header(record: Any, name: str) -> str:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode(errors="replace")
    return "unknown"


__all__ = ["Intake", "Misrouted", "Rejected", "TimerFired"]
