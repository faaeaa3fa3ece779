"""Reads what a run left on the command topics, the dead-letter topic and the ledger, and
compares it with the oracle and with what was injected."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import redis
from kafka import KafkaConsumer, TopicPartition

from streams.codecs import SEND_COMMAND, AvroCodec
from streams.edge.redis.ledger import KEY_PREFIX
from streams.engine.effects import SendCommand
from streams.pipeline import dead_letters
from streams.settings import Settings


@dataclass
class Report:
    fault: str
    expected: int
    published: int
    """Distinct command ids on the command topics."""
    lost: int
    """Expected, never published."""
    unexpected: int
    """Published, not expected."""
    duplicates_on_topics: int
    """Records on the topics beyond one per command id (at-least-once: allowed)."""
    duplicates_after_dedup: int
    """Distinct ids for one customer's same scenario step: must be 0."""
    in_ledger: int
    injected: int
    dead_lettered: int
    """Dead letters of the injected malformed records (each once)."""
    dead_letters_other: int
    """Dead letters of anything else: must be 0."""
    seconds: float = 0.0

    def passed(self) -> bool:
        return (
            self.lost == 0
            and self.unexpected == 0
            and self.duplicates_after_dedup == 0
            and self.dead_lettered == self.injected
            and self.dead_letters_other == 0
        )

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed()}


def read_all(settings: Settings, topics: list[str], settle_s: float = 3.0) -> list[Any]:
    """Every record of ``topics`` from their beginning, until none came for ``settle_s``."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=None, enable_auto_commit=False
    )
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        records: list[Any] = []
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < settle_s:
            batches = consumer.poll(timeout_ms=500, max_records=50_000)
            for batch in batches.values():
                records += batch
            if batches:
                quiet_since = time.monotonic()
        return records
    finally:
        consumer.close()


def published_commands(settings: Settings) -> list[dict[str, Any]]:
    codec = AvroCodec()
    return [
        codec.decode(SEND_COMMAND, r.value, r.headers)
        for r in read_all(settings, list(settings.command_topics.values()))
    ]


def verify(
    fault: str,
    settings: Settings,
    expected: dict[str, SendCommand],
    injected: set[bytes],
    seconds: float,
) -> Report:
    commands = published_commands(settings)
    ids = Counter(c["command_id"] for c in commands)
    steps = Counter(
        (c["customer_id"], c["scenario_id"], c["trigger"]["order_id"], c["step_id"])
        for c in {c["command_id"]: c for c in commands}.values()
    )
    letters = read_all(settings, [settings.dead_letter_topic])
    mine = [r for r in letters if r.key in injected]
    stages = {dict(r.headers).get(dead_letters.STAGE) for r in mine}
    if not stages <= {b"decode", b"validate"}:
        raise AssertionError(f"malformed records dead-lettered at stages {stages}")
    client = redis.Redis.from_url(settings.redis_url)
    known = client.pipeline(transaction=False)
    for command_id in ids:
        known.exists(KEY_PREFIX + command_id)
    in_ledger = sum(known.execute()) if ids else 0
    return Report(
        fault=fault,
        expected=len(expected),
        published=len(ids),
        lost=len(set(expected) - set(ids)),
        unexpected=len(set(ids) - set(expected)),
        duplicates_on_topics=sum(ids.values()) - len(ids),
        duplicates_after_dedup=sum(n - 1 for n in steps.values() if n > 1),
        in_ledger=in_ledger,
        injected=len(injected),
        dead_lettered=len({r.key for r in mine}),
        dead_letters_other=len(letters) - len(mine),
        seconds=round(seconds, 1),
    )
