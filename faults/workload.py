"""The fault suite's workload: thousands of customers with orders, deliveries and opens,
spread over a feeding window, a malformed record per hundred events, and the scenarios they
run (short waits, so that timers are pending and firing whenever a fault strikes).

Opens are timed so that their effect does not depend on how late the worker is: a customer
opens the first email ``OPEN_AFTER_S`` after it is due, longer than any fault keeps the
worker away (so the email has been sent when the open is read), and the reminder waits
``REMINDER_S``, longer than that plus the same delay again (so the open is read before the
reminder is due). The oracle can then say exactly which reminders must not be sent.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from devtools.demo import (
    BIKE_LINE,
    COFFEE_MACHINE_LINE,
    DemoEvent,
    delivery_event,
    open_event,
    order_event,
)
from faults.malformed import Builder, Malformed, rejected
from streams.codecs import AvroCodec
from streams.engine.ids import command_id

ACCESSORIES_S = 4
OPEN_AFTER_S = 30
REMINDER_S = 65
MAX_FAULT_S = 20
"""The longest a fault may keep the worker from reading (see the module's docstring)."""

SCENARIOS = {
    "f-coffee.yaml": f"""\
id: f-coffee
version: 1
trigger:
  event: delivery
  order_contains: {{category: coffee-machine}}
steps:
  - id: accessories
    wait: {ACCESSORIES_S}s
    channel: email
    template: coffee-accessories
    recommendations: [CAPS-INTENSO-50, DESCALER-500, CAPS-BOX]
  - id: reminder
    wait: {REMINDER_S}s
    when: not opened(accessories)
    channel: email
    template: coffee-accessories-reminder
    recommendations: [CAPS-INTENSO-50, DESCALER-500]
""",
    "f-phone.yaml": """\
id: f-phone
version: 1
trigger:
  event: order
  order_contains: {category: smartphone}
steps:
  - id: accessories
    wait: 3s
    channel: email
    template: smartphone-accessories
    recommendations: [CASE-NOVA-12, CHARGER-30W]
  - id: relaunch
    wait: 12s
    channel: email
    template: smartphone-relaunch
    recommendations: [CASE-NOVA-12]
""",
    "f-bike.yaml": """\
id: f-bike
version: 1
trigger:
  event: order
  order_contains: {category: bike}
steps:
  - id: at-the-till
    wait: 0s
    channel: email
    template: bike-accessories
    recommendations: [HELMET-URBAN, PUMP-FLOOR]
""",
}
PHONE_LINE = {
    "sku": "PH-PRO-12",
    "name": "Nova 12 Pro smartphone",
    "category": "smartphone",
    "quantity": 1,
    "unit_price": 89900,
}
KETTLE_LINE = {"sku": "K-1", "name": "Kettle", "category": "kettle", "quantity": 1, "unit_price": 1}


@dataclass(frozen=True)
class Planned:
    """An event to produce ``at_s`` seconds after the run's start."""

    at_s: float
    event: DemoEvent
    keyless: bool = False
    """Produced without a key, as a careless producer would: repartitioned, not lost."""


@dataclass
class Workload:
    start_s: float
    """Epoch seconds of the run's start: every event's occurred_at is ``start_s + at_s``."""
    events: list[Planned] = field(default_factory=list)
    malformed: list[tuple[float, Malformed]] = field(default_factory=list)

    @property
    def end_s(self) -> float:
        """When the last event is due, from the start."""
        times = [p.at_s for p in self.events] + [at for at, _ in self.malformed]
        return max(times, default=0.0)


def generate(
    customers: int, feed_s: float, start_s: float, seed: int = 11, prefix: str = "f"
) -> Workload:
    """``customers`` stories over ``feed_s`` seconds: coffee machines delivered (half the
    buyers open the first email), smartphones, bikes in store, and kettles that start
    nothing; one malformed record per hundred events, of every kind in turn."""
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    work = Workload(start_s)
    for number in range(customers):
        customer = f"{prefix}{number:06d}"
        at = rng.uniform(0, feed_s)
        story = rng.random()
        order_id = f"o{number}"
        ms = _ms(start_s, at)
        if story < 0.35:
            work.events.append(
                Planned(at, order_event(customer, order_id, ms, [dict(COFFEE_MACHINE_LINE)]))
            )
            delivered = at + rng.uniform(0.5, 2.0)
            work.events.append(
                Planned(
                    delivered,
                    delivery_event(customer, order_id, _ms(start_s, delivered)),
                    keyless=rng.random() < 0.02,
                )
            )
            if rng.random() < 0.5:
                opened = delivered + ACCESSORIES_S + OPEN_AFTER_S
                first = command_id(customer, "f-coffee", 1, f"f-coffee:{order_id}", "accessories")
                work.events.append(
                    Planned(
                        opened,
                        open_event(
                            customer, first, "email", _ms(start_s, opened), f"open-{customer}"
                        ),
                    )
                )
        elif story < 0.65:
            work.events.append(Planned(at, order_event(customer, order_id, ms, [dict(PHONE_LINE)])))
        elif story < 0.85:
            line = dict(BIKE_LINE)
            work.events.append(
                Planned(at, order_event(customer, order_id, ms, [line], channel="store"))
            )
        else:
            work.events.append(Planned(at, order_event(customer, order_id, ms, [KETTLE_LINE])))
    work.events.sort(key=lambda p: p.at_s)
    work.malformed = _malformed(len(work.events) // 100, feed_s, start_s, rng, prefix)
    return work


def _malformed(
    count: int, feed_s: float, start_s: float, rng: random.Random, prefix: str
) -> list[tuple[float, Malformed]]:
    codec = AvroCodec(logical_types=False)  # as the worker decodes
    builder = Builder(codec, rng)
    kinds = list(builder.kinds().items())
    made = []
    for number in range(max(count, len(kinds))):  # every kind at least once
        name, build = kinds[number % len(kinds)]
        at = rng.uniform(0, feed_s)
        record = build(f"bad-{prefix}-{number:05d}-{name}", _ms(start_s, at))
        if not rejected(codec, record, start_s + at, 300.0):
            raise AssertionError(f"the malformed kind {name} is accepted by the intake")
        made.append((at, record))
    made.sort(key=lambda item: item[0])
    return made


def _ms(start_s: float, at_s: float) -> int:
    return int((start_s + at_s) * 1000)
