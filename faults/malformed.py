"""Malformed records, of more kinds than a producer should ever write, each built to be
refused by the worker's intake: each must reach the dead-letter topic, once, and stop
nothing. ``rejected`` checks every one offline with the intake itself (``Intake.parse``), so
a kind that a change would let through is caught here first."""

from __future__ import annotations

import copy
import io
import json
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from fastavro import parse_schema, schemaless_writer

from devtools.demo import BIKE_LINE
from streams.codecs import EVENT_RECORDS, FINGERPRINT_HEADER, SCHEMA_HEADER, AvroCodec
from streams.metrics import Metrics
from streams.pipeline.dead_letters import DeadLetters
from streams.pipeline.intake import Intake, Misrouted, Rejected
from streams.pipeline.ports import Sender


@dataclass(frozen=True)
class Malformed:
    kind: str
    """Which malformation (``random-bytes``, ``tombstone``...)."""
    topic_kind: str
    """The event topic it is produced to: order, delivery, open, click, consent."""
    key: bytes
    value: bytes | None
    headers: list[tuple[str, bytes]]


def _order(customer: str, at_ms: int, **changes: Any) -> dict[str, Any]:
    record = {
        "event_id": f"e-{customer}",
        "customer_id": customer,
        "order_id": f"o-{customer}",
        "occurred_at": at_ms,
        "channel": "store",
        "store_id": "s1",
        "lines": [dict(BIKE_LINE)],
        "total": BIKE_LINE["unit_price"],
        "currency": "EUR",
        "subscription": None,
    }
    record.update(changes)
    return record


def _event(kind: str, customer: str, at_ms: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, dict[str, Any]] = {
        "delivery": {"order_id": f"o-{customer}"},
        "open": {"command_id": f"c-{customer}", "channel": "email"},
        "click": {"command_id": f"c-{customer}", "channel": "email", "url": None, "sku": None},
        "consent": {"channel": None, "granted": False, "command_id": None},
    }
    record = {"event_id": f"e-{customer}", "customer_id": customer, "occurred_at": at_ms}
    record.update(base[kind])
    record.update(changes)
    return record


class Builder:
    """Makes each kind of malformed record for a key and a time."""

    def __init__(self, codec: AvroCodec, rng: random.Random) -> None:
        self.codec = codec
        self.rng = rng

    def encode(self, kind: str, record: dict[str, Any]) -> tuple[bytes, list[tuple[str, bytes]]]:
        value, headers = self.codec.encode(EVENT_RECORDS[kind], record, kind)
        return value, list(headers)

    def kinds(self) -> dict[str, Callable[[str, int], Malformed]]:
        return {
            "random-bytes": self.random_bytes,
            "truncated-avro": self.truncated,
            "trailing-bytes": self.trailing,
            "another-topic-schema": self.another_schema,
            "another-topic-bytes": self.another_bytes,
            "unknown-fingerprint": self.unknown_fingerprint,
            "tombstone": self.tombstone,
            "zero-length": self.zero_length,
            "invalid-utf8": self.invalid_utf8,
            "unknown-enum-symbol": self.unknown_enum,
            "order-without-lines": self.without_lines,
            "zero-quantity": self.zero_quantity,
            "empty-customer-id": self.empty_customer,
            "empty-event-id": self.empty_event_id,
            "from-the-future": self.future,
            "huge-garbage": self.huge,
            "json-not-avro": self.json_text,
            "confluent-framing": self.confluent,
            "delivery-without-order": self.delivery_without_order,
            "open-without-command": self.open_without_command,
            "click-truncated": self.click_truncated,
            "consent-random-bytes": self.consent_random,
        }

    def _made(
        self, kind: str, topic: str, key: str, value: bytes | None, headers: Any
    ) -> Malformed:
        return Malformed(kind, topic, key.encode(), value, list(headers))

    def random_bytes(self, key: str, at_ms: int) -> Malformed:
        value = bytes(self.rng.getrandbits(8) for _ in range(self.rng.randrange(5, 200)))
        return self._made("random-bytes", "order", key, value, [])

    def truncated(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode("order", _order(key, at_ms))
        return self._made("truncated-avro", "order", key, value[: len(value) // 2], headers)

    def trailing(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode("order", _order(key, at_ms))
        return self._made("trailing-bytes", "order", key, value + b"\x00\x02", headers)

    def another_schema(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode("delivery", _event("delivery", key, at_ms))
        return self._made("another-topic-schema", "order", key, value, headers)

    def another_bytes(self, key: str, at_ms: int) -> Malformed:
        value, _ = self.encode("open", _event("open", key, at_ms))
        return self._made("another-topic-bytes", "delivery", key, value + b"\x07", [])

    def unknown_fingerprint(self, key: str, at_ms: int) -> Malformed:
        value, _ = self.encode("order", _order(key, at_ms))
        headers = [
            (SCHEMA_HEADER, EVENT_RECORDS["order"].encode()),
            (FINGERPRINT_HEADER, b"0" * 16),
        ]
        return self._made("unknown-fingerprint", "order", key, value, headers)

    def tombstone(self, key: str, at_ms: int) -> Malformed:
        return self._made("tombstone", "delivery", key, None, [])

    def zero_length(self, key: str, at_ms: int) -> Malformed:
        return self._made("zero-length", "order", key, b"", [])

    def invalid_utf8(self, key: str, at_ms: int) -> Malformed:
        marker = "Z" * 8
        value, headers = self.encode("order", _order(key, at_ms, currency=marker))
        broken = value.replace(marker.encode(), b"\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8")
        return self._made("invalid-utf8", "order", key, broken, headers)

    def unknown_enum(self, key: str, at_ms: int) -> Malformed:
        schema = copy.deepcopy(self.codec.repository.latest(EVENT_RECORDS["open"]).definition)
        for item in schema["fields"]:
            if item["name"] == "channel":
                item["type"]["symbols"] = [*item["type"]["symbols"], "fax"]
        buffer = io.BytesIO()
        schemaless_writer(buffer, parse_schema(schema), _event("open", key, at_ms, channel="fax"))
        _, headers = self.encode("open", _event("open", key, at_ms))
        return self._made("unknown-enum-symbol", "open", key, buffer.getvalue(), headers)

    def without_lines(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode("order", _order(key, at_ms, lines=[], total=0))
        return self._made("order-without-lines", "order", key, value, headers)

    def zero_quantity(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode(
            "order", _order(key, at_ms, lines=[{**BIKE_LINE, "quantity": 0}])
        )
        return self._made("zero-quantity", "order", key, value, headers)

    def empty_customer(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode("order", {**_order(key, at_ms), "customer_id": ""})
        return self._made("empty-customer-id", "order", key, value, headers)

    def empty_event_id(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode("delivery", _event("delivery", key, at_ms, event_id=""))
        return self._made("empty-event-id", "delivery", key, value, headers)

    def future(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode("order", _order(key, 4_102_444_800_000))  # 2100
        return self._made("from-the-future", "order", key, value, headers)

    def huge(self, key: str, at_ms: int) -> Malformed:
        value = b"\x03" + self.rng.randbytes(600_000)  # a negative length first: not an Order
        return self._made("huge-garbage", "order", key, value, [])

    def json_text(self, key: str, at_ms: int) -> Malformed:
        value = json.dumps(_order(key, at_ms)).encode()
        return self._made("json-not-avro", "order", key, value, [])

    def confluent(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode("order", _order(key, at_ms))
        framed = struct.pack(">bI", 0, 42) + value
        return self._made("confluent-framing", "order", key, framed, headers)

    def delivery_without_order(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode("delivery", _event("delivery", key, at_ms, order_id=""))
        return self._made("delivery-without-order", "delivery", key, value, headers)

    def open_without_command(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode("open", _event("open", key, at_ms, command_id=""))
        return self._made("open-without-command", "open", key, value, headers)

    def click_truncated(self, key: str, at_ms: int) -> Malformed:
        value, headers = self.encode("click", _event("click", key, at_ms))
        return self._made("click-truncated", "click", key, value[:-3], headers)

    def consent_random(self, key: str, at_ms: int) -> Malformed:
        value = b"\x05" + self.rng.randbytes(40)
        return self._made("consent-random-bytes", "consent", key, value, [])


@dataclass(frozen=True)
class _Record:
    """What the intake reads of a Kafka record."""

    topic: str
    key: bytes
    value: bytes | None
    headers: list[tuple[str, bytes]]


def rejected(codec: AvroCodec, record: Malformed, now_s: float, max_future_s: float) -> bool:
    """Whether the worker's intake (``Intake.parse``, the worker's own code) refuses
    ``record``: it would go to the dead-letter topic. A valid record is decided, or keyed
    again when its key is not its customer's: not refused."""
    intake = Intake(
        {record.topic_kind: record.topic_kind},
        codec,
        DeadLetters(cast(Sender, None), "", cast(Metrics, None)),  # parse publishes nothing
        max_future_s,
    )
    try:
        intake.parse(_Record(record.topic_kind, record.key, record.value, record.headers), now_s)
    except Rejected:
        return True
    except Misrouted:
        return False
    return False
