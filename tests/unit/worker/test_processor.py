"""A batch through the intake and the processor, with in-memory tables: what is stored, sent,
counted and dead-lettered."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from streams.codecs import EVENT_RECORDS, AvroCodec
from streams.demo import COFFEE_MACHINE_LINE, DemoEvent, delivery_event, order_event
from streams.engine import CustomerState, Engine, Input, TimerFired
from streams.engine.effects import SendCommand
from streams.metrics import Metrics, create_metrics
from streams.scenarios import load_scenarios
from streams.worker import dead_letter
from streams.worker.dead_letter import DeadLetters
from streams.worker.intake import Intake
from streams.worker.processor import Decider, Processor
from streams.worker.stored import unpack_state, unpack_timers
from streams.worker.timers import TimerWheel, timer_to_bytes

SCENARIOS = load_scenarios(Path(__file__).resolve().parents[3] / "scenarios")
TOPICS = {"orders": "order", "deliveries": "delivery", "opens": "open", "due": "timer"}
CODEC = AvroCodec()
NOW = 1_795_000_000.0
BIKE_LINE = {
    "sku": "BK-CITY-3",
    "name": "City 3 bike",
    "category": "bike",
    "quantity": 1,
    "unit_price": 59900,
}


class RecordingTopic:
    """Stands for the raw dead-letter topic: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


class MemoryTable:
    """Stands for a PartitionedTable: a dict, and the log of what went to the changelog."""

    def __init__(self, log: list[str], name: str) -> None:
        self.data: dict[bytes, bytes] = {}
        self.changelog: list[tuple[int, bytes, bytes | None]] = []
        self._unsent: list[tuple[int, bytes, bytes | None]] = []
        self._log, self._name = log, name

    def get(self, partition: int, key: bytes) -> bytes | None:
        return self.data.get(key)

    def put(self, partition: int, key: bytes, value: bytes | None) -> None:
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value
        self._unsent.append((partition, key, value))

    async def flush(self) -> None:
        self.changelog += self._unsent
        self._log += [f"{self._name} {key.decode()}" for _, key, _ in self._unsent]
        self._unsent = []


class RecordingPublisher:
    def __init__(self, log: list[str]) -> None:
        self.sent: list[SendCommand] = []
        self._log = log

    async def publish_many(self, commands: Any) -> None:
        self.sent += commands
        self._log += [f"command {c.customer_id}" for c in commands]


class Failing:
    """The shipped scenarios' engine, but deciding on event ``boom`` raises. (A wrapper,
    not a subclass: the engine may be compiled, and compiled classes take no interpreted
    subclasses.)"""

    def __init__(self, scenarios: Any) -> None:
        self.engine = Engine(scenarios)
        self.may_change = self.engine.may_change

    def decide(self, state: CustomerState | None, event: Input, now: float) -> Any:
        if getattr(event, "event_id", None) == "boom":
            if state is not None:
                state.entered["half-done"] = now  # a change the failure must not keep
            raise RuntimeError("engine bug")
        return self.engine.decide(state, event, now)


class Counting:
    """The shipped scenarios' engine, counting the decisions."""

    def __init__(self, scenarios: Any) -> None:
        self.engine = Engine(scenarios)
        self.may_change = self.engine.may_change
        self.decided = 0

    def decide(self, state: CustomerState | None, event: Input, now: float) -> Any:
        self.decided += 1
        return self.engine.decide(state, event, now)


class Harness:
    def __init__(self, engine: Decider | None = None) -> None:
        self.log: list[str] = []
        self.metrics: Metrics = create_metrics(CollectorRegistry())
        self.dlq = RecordingTopic()
        self.customers = MemoryTable(self.log, "state")
        self.publisher = RecordingPublisher(self.log)
        self.wheel = TimerWheel()
        self.wheel.rebuild([2], [])
        self.processor = Processor(
            engine or Engine(SCENARIOS),
            Intake(TOPICS, AvroCodec(logical_types=False), DeadLetters(self.dlq, self.metrics)),
            self.customers,
            self.wheel,
            self.publisher,
            self.metrics,
            clock=lambda: NOW,
        )
        self.offset = 0

    def record(self, topic: str, key: bytes, value: bytes | None, headers: Any = ()) -> Any:
        self.offset += 1
        return SimpleNamespace(
            topic=topic, partition=2, offset=self.offset, key=key, value=value, headers=headers
        )

    def event(self, event: DemoEvent) -> Any:
        topic = {"order": "orders", "delivery": "deliveries", "open": "opens"}[event.kind]
        value, headers = CODEC.encode(EVENT_RECORDS[event.kind], event.record, topic)
        return self.record(topic, event.key.encode(), value, headers)

    def sample(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0

    def state(self, customer: str) -> CustomerState:
        return unpack_state(self.customers.data[customer.encode()])

    def timers(self, customer: str) -> dict[str, list[float]]:
        partition, pending = unpack_timers(self.customers.data[customer.encode()])
        assert partition == 2
        return pending


def coffee(customer: str, order: str = "o1") -> list[DemoEvent]:
    when = int(NOW * 1000)
    return [
        order_event(customer, order, when, [COFFEE_MACHINE_LINE]),
        delivery_event(customer, order, when + 1),
    ]


async def test_each_customer_is_stored_once_per_batch_with_its_timer() -> None:
    h = Harness()
    await h.processor.handle_batch([h.event(e) for e in coffee("c1") + coffee("c2")])
    assert [key for _, key, _ in h.customers.changelog] == [b"c1", b"c2"]
    [(instance_id, (due_at, version))] = h.timers("c1").items()
    assert due_at > NOW + 2 * 86400  # three days after delivery, at a set hour
    assert h.state("c1").instances[instance_id].timer_version == version
    assert len(h.wheel) == 2, "both timers are in the heap"
    assert h.sample("rebound_events_total", kind="order") == 2
    assert h.sample("rebound_events_total", kind="delivery") == 2
    scenario = "coffee-machine-after-delivery"
    assert h.sample("rebound_instances_started_total", scenario=scenario) == 2
    assert h.dlq.sent == []


async def test_commands_go_out_after_the_states_they_come_from() -> None:
    h = Harness()
    bike = order_event("c9", "o9", int(NOW * 1000), [BIKE_LINE], channel="store")
    await h.processor.handle_batch([h.event(bike)])
    assert [c.scenario_id for c in h.publisher.sent] == ["in-store-bike"]
    assert h.log.index("state c9") < h.log.index("command c9")


async def test_an_unchanged_state_is_not_written_again() -> None:
    h = Harness()
    await h.processor.handle_batch([h.event(e) for e in coffee("c1")])
    writes = len(h.customers.changelog)
    when = int(NOW * 1000)
    repeat = delivery_event("c1", "o1", when + 1)  # the same delivery, read again
    await h.processor.handle_batch([h.event(repeat)])
    assert len(h.customers.changelog) == writes
    assert len(h.wheel) == 1, "the same timer is not pushed again"


@pytest.mark.parametrize(
    ("value", "key", "stage"),
    [
        (b"garbage", b"c1", "decode"),
        (None, b"c1", "decode"),
        ("valid", b"other-customer", "validate"),
    ],
)
async def test_a_bad_record_goes_to_the_dead_letter_topic_whole(
    value: Any, key: bytes, stage: str
) -> None:
    h = Harness()
    headers: Any = [("trace", b"t-1")]
    if value == "valid":
        value, headers = CODEC.encode(EVENT_RECORDS["open"], _open("c1"), "opens")
    good = coffee("c2")
    await h.processor.handle_batch(
        [h.event(good[0]), h.record("opens", key, value, list(headers)), h.event(good[1])]
    )
    [sent] = h.dlq.sent
    assert sent["key"] == key
    assert sent["value"] == value
    names = dict(sent["headers"])
    assert names[dead_letter.STAGE] == stage.encode()
    assert names[dead_letter.SOURCE_TOPIC] == b"opens"
    assert names[dead_letter.SOURCE_PARTITION] == b"2"
    assert names[dead_letter.SOURCE_OFFSET] == b"2"
    assert names[dead_letter.ERROR]
    assert sent["headers"][: len(headers)] == list(headers), "original headers come first"
    assert h.sample("rebound_dead_letters_total", kind="open", stage=stage) == 1
    assert h.sample("rebound_events_total", kind="open") == 0
    assert h.state("c2").instances, "the stream went on around the bad record"


async def test_a_failing_decision_is_dead_lettered_and_its_changes_dropped() -> None:
    h = Harness(Failing(SCENARIOS))
    first, second = coffee("c1")
    boom = h.event(_with_id(order_event("c1", "o2", int(NOW * 1000), [BIKE_LINE]), "boom"))
    await h.processor.handle_batch([h.event(first), boom, h.event(second)])
    assert dict(h.dlq.sent[0]["headers"])[dead_letter.STAGE] == b"handle"
    assert h.sample("rebound_dead_letters_total", kind="order", stage="handle") == 1
    state = h.state("c1")
    assert "half-done" not in state.entered
    assert "o1" in state.orders, "the events around the failed one are kept"
    assert state.instances, "the delivery after the failure was decided"


async def test_a_due_timer_comes_back_as_an_input() -> None:
    h = Harness()
    await h.processor.handle_batch([h.event(e) for e in coffee("c1")])
    [(instance_id, (due_at, version))] = h.timers("c1").items()
    fired = timer_to_bytes(TimerFired("c1", instance_id, int(version), due_at))
    h.processor._clock = lambda: due_at + 1
    await h.processor.handle_batch([h.record("due", b"c1", fired)])
    assert [c.step_id for c in h.publisher.sent] == ["accessories"]
    assert h.sample("rebound_timer_lateness_seconds_count") == 1
    [(_, (reminder_at, reminder_version))] = h.timers("c1").items()
    assert reminder_at > due_at, "the stored timers line now holds the reminder"
    assert reminder_version == version + 1


async def test_an_open_of_another_systems_message_leaves_the_stored_customer_alone() -> None:
    engine = Counting(SCENARIOS)
    h = Harness(engine)
    await h.processor.handle_batch([h.event(e) for e in coffee("c1")])
    stored, writes, decided = h.customers.data[b"c1"], len(h.customers.changelog), engine.decided
    value, headers = CODEC.encode(EVENT_RECORDS["open"], _open("c1"), "opens")
    stranger = h.record("opens", b"c1", value, headers)  # cmd-1: not one of c1's commands
    await h.processor.handle_batch([stranger])
    assert engine.decided == decided, "not decided on: its state is not even decoded"
    assert h.customers.data[b"c1"] == stored
    assert len(h.customers.changelog) == writes
    assert h.sample("rebound_events_total", kind="open") == 1, "counted as handled"


async def test_an_open_of_its_own_message_is_decided_on() -> None:
    h = Harness()
    bike = order_event("c9", "o9", int(NOW * 1000), [BIKE_LINE], channel="store")
    await h.processor.handle_batch([h.event(bike)])
    [command] = h.publisher.sent
    value, headers = CODEC.encode(
        EVENT_RECORDS["open"], {**_open("c9"), "command_id": command.command_id}, "opens"
    )
    await h.processor.handle_batch([h.record("opens", b"c9", value, headers)])
    [instance] = h.state("c9").instances.values()
    assert instance.opened == [command.step_id]


def _open(customer: str) -> dict[str, Any]:
    return {
        "event_id": "e-open",
        "customer_id": customer,
        "command_id": "cmd-1",
        "channel": "email",
        "occurred_at": int(NOW * 1000),
    }


def _with_id(event: DemoEvent, event_id: str) -> DemoEvent:
    return DemoEvent(event.kind, event.key, {**event.record, "event_id": event_id})
