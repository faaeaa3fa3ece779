"""End-to-end latency: from an event's time to its command's publication, at a fixed rate.

The zero-delay scenario (a bike bought in store, the seller's tablet gets a push at once):
bike orders are produced at ``rate`` per second, each stamped with the time it is sent; the
latency of each is its push command's broker timestamp (set when the worker's producer
appends it) minus that time. Both clocks are this machine's. After a warm-up, several runs
one after the other, each with its own p50, p99 and max: the p99 moves from run to run on
this shared machine, and one run's figure says little.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from kafka import KafkaProducer

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


RUNS = 3
WARM_UP_S = 2.0
"""Orders at the measured rate before the runs: the worker's first seconds on a new flow
(connections, the broker's and the interpreter's warm-up) are not the steady latency."""


@dataclass(frozen=True)
class Latency:
    rate: float
    orders: int
    p50_ms: float
    p99_ms: float
    max_ms: float


def order_producer(settings: Settings) -> KafkaProducer:
    """A producer of orders with its connections and the topic's metadata in hand: the first
    send of a fresh producer waits for them (about 100 ms here), which would be counted in its
    order's latency, and the orders sent in a burst behind it in theirs."""
    out = producer(settings, linger_ms=0, batch_size=16 * 1024)
    out.partitions_for(settings.event_topics["order"])
    return out


def bike_orders(
    settings: Settings, count: int, rate: float, prefix: str, out: KafkaProducer
) -> dict[str, int]:
    """Produce ``count`` in-store bike orders, one every ``1/rate`` s; event id -> sent at (ms)."""
    codec = AvroCodec()
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
    return sent


def measure(settings: Settings, rate: float, seconds: float, runs: int = RUNS) -> list[Latency]:
    """With a worker running on ``settings``: after a warm-up at ``rate`` (``WARM_UP_S``),
    ``runs`` runs of ``rate * seconds`` bike orders each, one after the other."""
    topic = settings.command_topics["push"]
    out = order_producer(settings)
    try:
        warm_up = bike_orders(settings, int(rate * WARM_UP_S), rate, "warm", out)
        expected = len(warm_up)
        read_topic(settings, topic, expected, 60)
        sent = [
            bike_orders(settings, int(rate * seconds), rate, f"lat{run}-", out)
            for run in range(runs)
        ]
    finally:
        out.close()
    expected += sum(map(len, sent))
    records = read_topic(settings, topic, expected, 60 + seconds * runs)
    codec = AvroCodec(logical_types=False)
    published = {}
    for record in records:
        command = codec.decode(SEND_COMMAND, record.value, record.headers)
        published[command["trigger"]["event_id"]] = record.timestamp
    return [_latency(rate, orders, published) for orders in sent]


def _latency(rate: float, sent: dict[str, int], published: dict[str, int]) -> Latency:
    latencies = [float(published[i] - at) for i, at in sent.items() if i in published]
    if len(latencies) < len(sent):
        raise RuntimeError(f"only {len(latencies)} of {len(sent)} bike orders got their command")
    return Latency(
        rate,
        len(latencies),
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        max(latencies),
    )
