"""Demo traffic: a retailer's orders, deliveries, opens and clicks, as Avro records on Kafka.

``demo_events`` is deterministic for a seed, so tests and benchmarks can replay it.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from streams.codecs import EVENT_RECORDS, AvroCodec
from streams.edge.kafka.admin import security_options
from streams.settings import Settings

PRODUCTS = (
    # sku, name, category, unit price in cents
    ("CM-1000", "Barista One coffee machine", "coffee-machine", 34900),
    ("PH-PRO-12", "Nova 12 Pro smartphone", "smartphone", 89900),
    ("BK-CITY-3", "City 3 bike", "bike", 59900),
    ("BX-BEAUTY", "Glow monthly box", "beauty-box", 2900),
    ("SW-HR-SUITE", "HR Suite licence", "b2b-software", 120000),
)
ORDER_CHANNELS = {"bike": "store", "b2b-software": "b2b", "beauty-box": "web"}


@dataclass(frozen=True)
class DemoEvent:
    kind: str
    """order, delivery, open or click."""
    key: str
    """The customer id, the record key."""
    record: dict[str, Any]


COFFEE_MACHINE_LINE = {
    "sku": "CM-1000",
    "name": "Barista One coffee machine",
    "category": "coffee-machine",
    "quantity": 1,
    "unit_price": 34900,
}
BIKE_LINE = {
    "sku": "BK-CITY-3",
    "name": "City 3 bike",
    "category": "bike",
    "quantity": 1,
    "unit_price": 59900,
}


def order_event(
    customer: str,
    order_id: str,
    occurred_at: Any,
    lines: list[dict[str, Any]],
    channel: str = "web",
    subscription: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> DemoEvent:
    """An ``Order`` record; ``occurred_at`` in epoch milliseconds or as a datetime."""
    return DemoEvent(
        "order",
        customer,
        {
            "event_id": event_id or f"o-{customer}-{order_id}",
            "customer_id": customer,
            "order_id": order_id,
            "occurred_at": occurred_at,
            "channel": channel,
            "store_id": "store-42" if channel == "store" else None,
            "lines": lines,
            "total": sum(line["quantity"] * line["unit_price"] for line in lines),
            "currency": "EUR",
            "subscription": subscription,
        },
    )


def delivery_event(
    customer: str, order_id: str, occurred_at: Any, event_id: str | None = None
) -> DemoEvent:
    """A ``Delivery`` record of ``order_id``."""
    return DemoEvent(
        "delivery",
        customer,
        {
            "event_id": event_id or f"d-{customer}-{order_id}",
            "customer_id": customer,
            "order_id": order_id,
            "occurred_at": occurred_at,
        },
    )


def open_event(
    customer: str, command_id: str, channel: str, occurred_at: Any, event_id: str
) -> DemoEvent:
    """An ``Open`` record: the customer opened the message of ``command_id``."""
    return DemoEvent(
        "open",
        customer,
        {
            "event_id": event_id,
            "customer_id": customer,
            "command_id": command_id,
            "channel": channel,
            "occurred_at": occurred_at,
        },
    )


def click_event(
    customer: str,
    command_id: str,
    channel: str,
    occurred_at: Any,
    event_id: str,
    sku: str | None = None,
) -> DemoEvent:
    """A ``Click`` record on a link of the message of ``command_id``."""
    record = open_event(customer, command_id, channel, occurred_at, event_id).record
    url = f"https://shop.example/p/{sku}" if sku else "https://shop.example/"
    return DemoEvent("click", customer, {**record, "url": url, "sku": sku})


def consent_event(
    customer: str,
    channel: str | None,
    granted: bool,
    occurred_at: Any,
    event_id: str,
    command_id: str | None = None,
) -> DemoEvent:
    """A ``Consent`` record: the customer unsubscribed (``granted`` False) from ``channel``
    (None: every channel), e.g. through the link of the message of ``command_id``."""
    return DemoEvent(
        "consent",
        customer,
        {
            "event_id": event_id,
            "customer_id": customer,
            "occurred_at": occurred_at,
            "channel": channel,
            "granted": granted,
            "command_id": command_id,
        },
    )


def demo_events(
    customers: int = 100, seed: int = 7, start_ms: int | None = None
) -> Iterator[DemoEvent]:
    """An endless, deterministic stream: each customer orders, then the order is delivered."""
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    now_ms = int(time.time() * 1000) if start_ms is None else start_ms
    serial = 0
    while True:
        serial += 1
        customer = f"c{rng.randrange(customers):06d}"
        sku, name, category, price = rng.choice(PRODUCTS)
        order_id = f"o{serial:08d}"
        now_ms += rng.randrange(1, 1000)
        line = {"sku": sku, "name": name, "category": category, "quantity": 1, "unit_price": price}
        subscription = (
            {"plan": "monthly", "period_index": rng.randint(1, 4)}
            if category == "beauty-box"
            else None
        )
        yield order_event(
            customer,
            order_id,
            now_ms,
            [line],
            ORDER_CHANNELS.get(category, "web"),
            subscription,
            event_id=random_event_id(rng),
        )
        if category != "bike":  # bikes leave the store with the customer
            yield delivery_event(customer, order_id, now_ms + 1, event_id=random_event_id(rng))


PROFILE_ZONES = (("Europe/Paris", "FR"), ("Europe/Brussels", "BE"), ("America/New_York", "US"))


def demo_profiles(
    customers: int = 100, seed: int = 7, prefix: str = "c"
) -> Iterator[dict[str, Any]]:
    """A profile for each of the ``demo_events`` customers, as ``rebound profiles`` reads
    JSON Lines: most agree to e-mails, a third to SMS, half have the app; a few have
    unsubscribed."""
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    for number in range(customers):
        zone, country = rng.choice(PROFILE_ZONES)
        yield {
            "customer_id": f"{prefix}{number:06d}",
            "consent": {
                "email": rng.random() < 0.9,
                "sms": rng.random() < 0.35,
                "push": rng.random() < 0.6,
            },
            "has_app": rng.random() < 0.5,
            "timezone": zone,
            "country": country,
            "language": "fr" if country in ("FR", "BE") else "en",
            "unsubscribed": rng.random() < 0.02,
            "attributes": {"skin_type": rng.choice(("dry", "oily", "normal"))},
        }


def write_profiles(path: Path, profiles: Iterable[dict[str, Any]]) -> Path:
    """``profiles`` as a JSON Lines file at ``path``."""
    with path.open("w") as out:
        for profile in profiles:
            out.write(json.dumps(profile) + "\n")
    return path


def random_event_id(rng: random.Random) -> str:
    """A UUID from ``rng``: repeatable ids for demo and benchmark events."""
    return str(uuid.UUID(int=rng.getrandbits(128)))


class DemoProducer:
    """Encodes demo events with the codec and produces them to the event topics."""

    def __init__(self, settings: Settings, codec: AvroCodec | None = None) -> None:
        self._settings = settings
        self._codec = codec or AvroCodec()
        self._producer = KafkaProducer(
            bootstrap_servers=settings.bootstrap_servers,
            acks="all",
            linger_ms=5,
            **security_options(settings),
        )

    def send(self, event: DemoEvent) -> None:
        topic = self._settings.event_topics[event.kind]
        value, headers = self._codec.encode(EVENT_RECORDS[event.kind], event.record, topic)
        self._producer.send(topic, key=event.key.encode(), value=value, headers=headers)

    def send_unkeyed(self, event: DemoEvent) -> None:
        """Produce ``event`` without a record key, as a careless producer would."""
        topic = self._settings.event_topics[event.kind]
        value, headers = self._codec.encode(EVENT_RECORDS[event.kind], event.record, topic)
        self._producer.send(topic, key=None, value=value, headers=headers)

    def send_raw(
        self,
        kind: str,
        key: bytes,
        value: bytes | None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        """Produce bytes as they are (None: a tombstone), e.g. a malformed record."""
        topic = self._settings.event_topics[kind]
        self._producer.send(topic, key=key, value=value, headers=headers or None)

    def flush(self, timeout: float | None = None) -> None:
        """Wait for the broker to have every event sent (``KafkaTimeoutError`` past
        ``timeout`` seconds)."""
        self._producer.flush(timeout=timeout)

    def close(self) -> None:
        self._producer.close()


DAY_MS = 86_400_000
HOUR_MS = 3_600_000


class DemoWorld:
    """Demo customers that live on the demo's clock (``Settings.clock``, faster than real
    time under ``make run``): they order, their parcels arrive a day later (a bike leaves the
    store with its buyer), and they react to the commands they get: about half open the
    message two hours later, some of those click, and some who click buy the first product
    recommended, so that reminders, relaunches, exits on purchase and conversions all show."""

    def __init__(self, customers: int = 50, seed: int = 7, prefix: str = "c") -> None:
        self._rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
        self._customers = customers
        self._prefix = prefix
        self._serial = 0
        self._later: list[tuple[int, int, DemoEvent]] = []
        """(when, serial, event): events due on the demo clock, in order."""
        self._boxes: dict[str, int] = {}
        self.reactions = {"open": 0, "click": 0, "purchase": 0}

    def _id(self) -> str:
        self._serial += 1
        return random_event_id(self._rng)

    def _at(self, when_ms: int, event: DemoEvent) -> None:
        self._serial += 1
        self._later.append((when_ms, self._serial, event))
        self._later.sort(key=lambda item: (item[0], item[1]))

    def new_order(self, now_ms: int) -> DemoEvent:
        """A customer's order now; its delivery is scheduled for a day later."""
        rng = self._rng
        customer = f"{self._prefix}{rng.randrange(self._customers):06d}"
        sku, name, category, price = rng.choice(PRODUCTS)
        order_id = f"o{self._serial:08d}-{rng.randrange(10**6):06d}"
        line = {"sku": sku, "name": name, "category": category, "quantity": 1, "unit_price": price}
        subscription = None
        if category == "beauty-box":  # a monthly box: the third one starts a scenario
            box = self._boxes[customer] = self._boxes.get(customer, 0) % 4 + 1
            subscription = {"plan": "monthly", "period_index": box}
        channel = ORDER_CHANNELS.get(category, "web")
        event = order_event(
            customer, order_id, now_ms, [line], channel, subscription, event_id=self._id()
        )
        if category != "bike":
            delivered = now_ms + DAY_MS + rng.randrange(-4, 4) * HOUR_MS
            self._at(delivered, delivery_event(customer, order_id, delivered, self._id()))
        return event

    def react(self, command: dict[str, Any], now_ms: int) -> None:
        """What the customer does with a command they got: perhaps open, click, buy."""
        rng = self._rng
        customer, command_id, channel = (
            command["customer_id"],
            command["command_id"],
            command["channel"],
        )
        if rng.random() >= 0.5:
            return  # not opened: a reminder will come, where the scenario has one
        opened = now_ms + 2 * HOUR_MS
        self._at(opened, open_event(customer, command_id, channel, opened, self._id()))
        self.reactions["open"] += 1
        products = command.get("recommendations") or []
        if not products or rng.random() >= 0.6:
            return
        clicked = opened + HOUR_MS
        sku = products[0]["sku"]
        self._at(clicked, click_event(customer, command_id, channel, clicked, self._id(), sku))
        self.reactions["click"] += 1
        if rng.random() >= 0.6:
            return
        bought = clicked + 3 * HOUR_MS
        line = {
            "sku": sku,
            "name": products[0]["name"],
            "category": "accessory",
            "quantity": 1,
            "unit_price": products[0]["price"],
        }
        order_id = f"p{self._serial:08d}"
        self._at(bought, order_event(customer, order_id, bought, [line], event_id=self._id()))
        self.reactions["purchase"] += 1

    def due(self, now_ms: int) -> list[DemoEvent]:
        """The scheduled events whose time has come."""
        ready = [event for when, _, event in self._later if when <= now_ms]
        self._later = [item for item in self._later if item[0] > now_ms]
        return ready
