"""The intake's decisions on one message: handled, or dead-lettered with why, never raised."""

from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from streams.codecs import EVENT_RECORDS, AvroCodec
from streams.engine import Event
from streams.metrics import create_metrics
from streams.worker import dead_letter
from streams.worker.dead_letter import DeadLetters
from streams.worker.intake import Intake
from tests.unit.codecs.test_avro import open_record

CODEC = AvroCodec()


class RecordingTopic:
    """Stands for the raw dead-letter topic: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


def message(value: bytes, headers: list | None = None, key: bytes = b"c1") -> SimpleNamespace:
    return SimpleNamespace(
        topic="opens", partition=2, offset=41, key=key, value=value, headers=headers or []
    )


def intake(handler: Any = None) -> tuple[Intake, RecordingTopic, Any]:
    metrics = create_metrics(CollectorRegistry())
    topic = RecordingTopic()
    return (
        Intake({"opens": "open"}, CODEC, DeadLetters(topic, metrics), metrics, handler),
        topic,
        metrics,
    )


def sample(metrics: Any, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_valid_record_is_handled_and_counted() -> None:
    seen: list[Event] = []

    async def handler(event: Event, msg: Any) -> None:
        seen.append(event)

    subject, topic, metrics = intake(handler)
    payload, headers = CODEC.encode(EVENT_RECORDS["open"], open_record(), "opens")
    await subject.process(message(payload, headers))
    assert [e.kind for e in seen] == ["open"]
    assert topic.sent == []
    assert sample(metrics, "rebound_events_total", kind="open") == 1


@pytest.mark.parametrize(
    ("value", "key", "stage"),
    [
        (b"garbage", b"c1", "decode"),
        (None, b"c1", "decode"),
        ("valid", b"other-customer", "validate"),
    ],
)
async def test_bad_record_goes_to_the_dead_letter_topic_whole(
    value: Any, key: bytes, stage: str
) -> None:
    subject, topic, metrics = intake()
    headers = [("trace", b"t-1")]
    if value == "valid":
        value, headers = CODEC.encode(EVENT_RECORDS["open"], open_record(), "opens")
    await subject.process(message(value, list(headers), key=key))
    [sent] = topic.sent
    assert sent["key"] == key
    assert sent["value"] == value
    names = dict(sent["headers"])
    assert names[dead_letter.STAGE] == stage.encode()
    assert names[dead_letter.SOURCE_TOPIC] == b"opens"
    assert names[dead_letter.SOURCE_PARTITION] == b"2"
    assert names[dead_letter.SOURCE_OFFSET] == b"41"
    assert names[dead_letter.ERROR]
    assert sent["headers"][: len(headers)] == list(headers), "original headers come first"
    assert sample(metrics, "rebound_dead_letters_total", kind="open", stage=stage) == 1
    assert sample(metrics, "rebound_events_total", kind="open") == 0


async def test_a_failing_handler_dead_letters_instead_of_raising() -> None:
    async def handler(event: Event, msg: Any) -> None:
        raise RuntimeError("boom")

    subject, topic, metrics = intake(handler)
    payload, headers = CODEC.encode(EVENT_RECORDS["open"], open_record(), "opens")
    await subject.process(message(payload, headers))
    assert dict(topic.sent[0]["headers"])[dead_letter.STAGE] == b"handle"
    assert sample(metrics, "rebound_dead_letters_total", kind="open", stage="handle") == 1
