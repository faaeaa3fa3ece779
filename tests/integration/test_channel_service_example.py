"""docs/examples/email_service.py, the channel-service guide's example, against the real
broker: it sends each command once (a duplicate is skipped), skips one past its not_after,
and the opens it publishes back are read by Rebound's own codec."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer

from streams.codecs import EVENT_RECORDS, SEND_COMMAND, AvroCodec
from streams.edge.kafka.topics import ensure_topics
from streams.settings import Settings
from tests.unit.codecs.test_avro import send_command

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_service_sends_once_and_publishes_opens(settings: Settings) -> None:
    ensure_topics(settings)
    codec = AvroCodec()
    topic = settings.command_topics["email"]
    now_ms = int(time.time() * 1000)
    fresh = {**send_command(), "command_id": "cmd-fresh", "not_after": now_ms + 3_600_000}
    stale = {**send_command(), "command_id": "cmd-stale", "not_after": now_ms - 1000}
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    for command in (fresh, fresh, stale):  # the first twice: at least once
        value, headers = codec.encode(SEND_COMMAND, command, topic)
        producer.send(topic, key=b"c1", value=value, headers=headers)
    producer.flush()
    producer.close()

    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "docs" / "examples" / "email_service.py"),
            "--bootstrap",
            settings.bootstrap_servers[0],
            "--schemas",
            str(ROOT / "schemas"),
            "--prefix",
            settings.topic_prefix,
            "--max",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("sent coffee-accessories to customer c1: Capsules") == 1
    assert "skipped cmd-stale: past not_after" in done.stdout

    consumer = KafkaConsumer(
        settings.event_topics["open"],
        bootstrap_servers=settings.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
    )
    [record] = [r for r in consumer]
    consumer.close()
    opened = codec.decode(EVENT_RECORDS["open"], record.value, record.headers)
    assert (opened["command_id"], opened["customer_id"], record.key) == ("cmd-fresh", "c1", b"c1")
