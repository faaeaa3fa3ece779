"""``rebound tail TOPIC``: a topic's records decoded, one line each, following new ones; for
channel-service developers and anyone checking what flows.

Event topics are decoded as their event, command topics as send commands (``SendCommand``);
the dead-letter topic's records are shown with their headers (stage, error, source) and
their size, since they could not be decoded. Keys and values are printed as they are: run it
where the data may be seen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from streams.codecs import EVENT_RECORDS, SEND_COMMAND, AvroCodec, DecodeError
from streams.edge.kafka.admin import kafka_client
from streams.exceptions import ConfigurationError
from streams.settings import Settings


def record_name(settings: Settings, topic: str) -> str | None:
    """The Avro record ``topic`` carries; None for the dead-letter topic; an error for a
    topic that is not Rebound's."""
    for kind, name in settings.event_topics.items():
        if topic == name:
            return EVENT_RECORDS[kind]
    if topic in settings.command_topics.values():
        return SEND_COMMAND
    if topic == settings.dead_letter_topic:
        return None
    known = [*settings.event_topics.values(), *settings.command_topics.values()]
    raise ConfigurationError(
        f"{topic} is not one of Rebound's topics: {', '.join(known)}, {settings.dead_letter_topic}"
    )


def line(record: Any, name: str | None, codec: AvroCodec) -> str:
    """One record, readably."""
    when = datetime.fromtimestamp(record.timestamp / 1000, tz=UTC).strftime("%H:%M:%S.%f")[:-3]
    where = f"{record.partition}@{record.offset}"
    key = record.key.decode(errors="replace") if record.key else "-"
    if name is None:
        headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
        size = len(record.value or b"")
        return f"{when} {where} {key} {json.dumps(headers)} ({size} bytes)"
    try:
        value = codec.decode(name, record.value, record.headers)
    except DecodeError as exc:
        return f"{when} {where} {key} cannot decode: {exc}"
    return f"{when} {where} {key} {json.dumps(value, default=str, ensure_ascii=False)}"


def tail(
    settings: Settings,
    topic: str,
    from_beginning: bool = False,
    count: int | None = None,
    follow: bool = True,
    out: Callable[[str], None] = print,
) -> int:
    """Print the records of ``topic`` (the new ones, or all with ``from_beginning``), at most
    ``count``; without ``follow``, stop at the end. Returns how many were printed."""
    name = record_name(settings, topic)
    codec = AvroCodec()
    consumer = kafka_client(
        KafkaConsumer, settings, "tail", group_id=None, enable_auto_commit=False
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise ConfigurationError(f"the topic {topic} does not exist (`rebound topics`)")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        if from_beginning:
            consumer.seek_to_beginning(*assigned)
        else:
            consumer.seek_to_end(*assigned)
        ends = consumer.end_offsets(assigned)
        printed = 0
        for record in _records(consumer, assigned, ends, follow):
            out(line(record, name, codec))
            printed += 1
            if count is not None and printed >= count:
                break
        return printed
    finally:
        consumer.close()


def _records(
    consumer: KafkaConsumer,
    assigned: list[TopicPartition],
    ends: dict[TopicPartition, int],
    follow: bool,
) -> Iterator[Any]:
    while True:
        batch = consumer.poll(timeout_ms=500)
        for records in batch.values():
            yield from records
        if not follow and all(consumer.position(tp) >= ends[tp] for tp in assigned):
            return
        if not batch:
            time.sleep(0.05)
