"""``rebound tail``: a topic's records decoded, one line each, as a channel-service developer
reads them."""

from __future__ import annotations

import json
import time

from devtools.demo import BIKE_LINE, DemoProducer, order_event
from streams.edge.kafka.topics import ensure_topics
from streams.settings import Settings
from tests.integration.cli import rebound


def test_tail_prints_events_and_dead_letters_decoded(settings: Settings) -> None:
    ensure_topics(settings)
    producer = DemoProducer(settings)
    producer.send(order_event("tail-c1", "o1", int(time.time() * 1000), [BIKE_LINE], "store"))
    producer.send_raw("order", b"tail-c2", b"not avro")
    producer.flush()
    producer.close()
    orders = settings.event_topics["order"]
    done = rebound(settings, "tail", orders, "--from-beginning", "--no-follow", timeout=90)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    [good] = [line for line in lines if " tail-c1 " in line]
    decoded = json.loads(good.split(" tail-c1 ", 1)[1])
    assert decoded["order_id"] == "o1"
    assert decoded["lines"][0]["sku"] == BIKE_LINE["sku"]
    [bad] = [line for line in lines if " tail-c2 " in line]
    assert "cannot decode" in bad

    unknown = rebound(settings, "tail", "no-such-topic", "--no-follow")
    assert unknown.returncode == 2
    assert "is not one of Rebound's topics" in unknown.stderr
