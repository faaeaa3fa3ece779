"""End-to-end latency: from an event's time to its command's publication, at a fixed rate.

The zero-delay scenario (a bike bought in store, the seller's tablet gets a push at once):
bike orders are produced at ``rate`` per second, each stamped with the time it is sent; the
latency of each is its push command's broker timestamp (set when the worker's producer
appends it) minus that time. Both clocks are this machine's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from benchmarks.common import percentile, producer
from devtools.demo import order_event
from devtools.localstack.command_reader import read_topic
from streams.codecs import EVENT_RECORDS, SEND_COMMAND, AvroCodec
from streams.settings import Settings

BIKE = {
    "sku": "BK-CITY-3",
    "name": "City 3 bike",
    "category": "bike",
    "quantity": 1,
    "unit_price": 59900,
}


@dataclass(frozen=True)
class Latency:
    rate: float
    orders: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def bike_orders(settings: Settings, count: int, rate: float, prefix: str) -> dict[str, int]:
    """Produce ``count`` in-store bike orders, one every ``1/rate`` s; event id -> sent at (ms)."""
    codec = AvroCodec()
    out = producer(settings, linger_ms=0, batch_size=16 * 1024)
    topic = settings.event_topics["order"]
    sent: dict[str, int] = {}
    start = time.monotonic()
    for i in range(count):
        pause = start + i / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        customer = f"{prefix}{i:07d}"
        now_ms = int(time.time() * 1000)
        event = order_event(customer, f"o{i}", now_ms, [BIKE], channel="store")
        value, headers = codec.encode(EVENT_RECORDS["order"], event.record, topic)
        out.send(topic, key=customer.encode(), value=value, headers=headers, timestamp_ms=now_ms)
        sent[event.record["event_id"]] = now_ms
    out.flush()
    out.close()
    return sent


def measure(settings: Settings, rate: float, seconds: float) -> Latency:
    """With a worker running on ``settings``: latencies of ``rate * seconds`` bike orders."""
    warm_up = bike_orders(settings, 20, 20.0, "warm")
    topic = settings.command_topics["push"]
    read_topic(settings, topic, len(warm_up), 60)
    sent = bike_orders(settings, int(rate * seconds), rate, "lat")
    records = read_topic(settings, topic, len(warm_up) + len(sent), 60 + seconds)
    codec = AvroCodec(logical_types=False)
    latencies = []
    for record in records:
        command = codec.decode(SEND_COMMAND, record.value, record.headers)
        sent_at = sent.get(command["trigger"]["event_id"])
        if sent_at is not None:
            latencies.append(float(record.timestamp - sent_at))
    if len(latencies) < len(sent):
        raise RuntimeError(f"only {len(latencies)} of {len(sent)} bike orders got their command")
    return Latency(
        rate,
        len(latencies),
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        max(latencies),
    )
