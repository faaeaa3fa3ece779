"""A batch through the whole pipeline (intake, processor, commands, the commit protocol) with
in-memory ports: what is stored, sent, counted, dead-lettered, repartitioned, and what a
crash at each step leaves for the recovery."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from devtools.demo import (
    BIKE_LINE,
    COFFEE_MACHINE_LINE,
    DemoEvent,
    delivery_event,
    open_event,
    order_event,
)
from streams.codecs import EVENT_RECORDS, SEND_COMMAND, AvroCodec
from streams.engine import CustomerState, Engine, Input, TimerFired
from streams.engine.context import Profile
from streams.metrics import Metrics, create_metrics
from streams.pipeline import commit
from streams.pipeline import dead_letters as dead_letter
from streams.pipeline.commands import Commands
from streams.pipeline.commit import CommitProtocol
from streams.pipeline.dead_letters import DeadLetters
from streams.pipeline.intake import KIND_HEADER, Intake
from streams.pipeline.memory import (
    MemoryCatalog,
    MemoryLedger,
    MemoryProfiles,
    MemorySender,
    MemoryStore,
)
from streams.pipeline.ports import Product
from streams.pipeline.processor import PROFILES_READ_EVERY, Decider, Processor
from streams.pipeline.stored import MAX_STORED_BYTES, unpack_head, unpack_state, unpack_timers
from streams.pipeline.timers import TimerWheel, timer_to_bytes
from streams.scenarios import load_scenarios

SCENARIOS = load_scenarios(Path(__file__).resolve().parents[3] / "scenarios")
TOPICS = {
    "orders": "order",
    "deliveries": "delivery",
    "opens": "open",
    "due": "timer",
    "repartition": "repartition",
}
COMMAND_TOPICS = {"email": "cmd.email", "sms": "cmd.sms", "push": "cmd.push"}
CODEC = AvroCodec()
NOW = 1_795_000_000.0
CATALOG = {
    sku: Product(sku, f"name of {sku}", 1000, "EUR", f"https://shop.example/{sku}")
    for sku in ("HELMET-URBAN", "PUMP-MINI", "CAPS-INTENSO-50", "DESCALER-500", "CAPS-BOX")
}


class Failing:
    """The shipped scenarios' engine, but deciding on event ``boom`` raises. (A wrapper,
    not a subclass: the engine may be compiled, and compiled classes take no interpreted
    subclasses.)"""

    def __init__(self, scenarios: Any) -> None:
        self.engine = Engine(scenarios)
        self.may_change = self.engine.may_change
        self.needs_profile = self.engine.needs_profile
        self.context = self.engine.context
        self.unread = self.engine.unread

    def decide(
        self, state: CustomerState | None, event: Input, now: float, context: Any = None
    ) -> Any:
        if getattr(event, "event_id", None) == "boom":
            if state is not None:
                state.entered["half-done"] = now  # a change the failure must not keep
            raise RuntimeError("engine bug")
        return self.engine.decide(state, event, now, context)


class Counting:
    """The shipped scenarios' engine, counting the decisions."""

    def __init__(self, scenarios: Any) -> None:
        self.engine = Engine(scenarios)
        self.may_change = self.engine.may_change
        self.needs_profile = self.engine.needs_profile
        self.context = self.engine.context
        self.unread = self.engine.unread
        self.decided = 0

    def decide(
        self, state: CustomerState | None, event: Input, now: float, context: Any = None
    ) -> Any:
        self.decided += 1
        return self.engine.decide(state, event, now, context)


class Harness:
    def __init__(
        self,
        engine: Decider | None = None,
        catalog: dict[str, Product] | None = None,
        store: MemoryStore | None = None,
        ledger: MemoryLedger | None = None,
    ) -> None:
        self.metrics: Metrics = create_metrics(CollectorRegistry())
        self.sender = MemorySender()
        self.customers = store or MemoryStore()
        self.ledger = ledger or MemoryLedger()
        self.profiles = MemoryProfiles(keep_lookups=True)
        self.wheel = TimerWheel()
        self.wheel.rebuild([2], [])
        self.now = NOW
        codec = AvroCodec(logical_types=False)
        dead_letters = DeadLetters(self.sender, "dlq", self.metrics)
        intake = Intake(TOPICS, codec, dead_letters, max_future_s=300)
        processor = Processor(
            engine or Engine(SCENARIOS),
            intake,
            self.customers,
            self.sender,
            "repartition",
            self.metrics,
            self.profiles,
        )
        commands = Commands(
            COMMAND_TOPICS,
            codec,
            MemoryCatalog(CATALOG if catalog is None else catalog),
            self.ledger,
            self.metrics,
        )
        self.protocol = CommitProtocol(
            processor,
            commands,
            self.customers,
            self.sender,
            self.wheel,
            "due",
            self.metrics,
            clock=lambda: self.now,
        )
        self.offset = 0

    async def handle(self, records: list[Any]) -> None:
        await self.protocol.handle_batch(records)

    async def deliver(self) -> None:
        """The broker acknowledges everything sent; the ledger is written."""
        self.sender.deliver()
        await asyncio.sleep(0)  # the ledger's task

    def record(self, topic: str, key: bytes | None, value: bytes | None, headers: Any = ()) -> Any:
        self.offset += 1
        return SimpleNamespace(
            topic=topic, partition=2, offset=self.offset, key=key, value=value, headers=headers
        )

    def event(self, event: DemoEvent, key: bytes | str | None = "customer") -> Any:
        topic = {"order": "orders", "delivery": "deliveries", "open": "opens"}[event.kind]
        value, headers = CODEC.encode(EVENT_RECORDS[event.kind], event.record, topic)
        return self.record(topic, event.key.encode() if key == "customer" else key, value, headers)  # type: ignore[union-attr]

    def commands(self) -> list[dict[str, Any]]:
        return [
            CODEC.decode(SEND_COMMAND, s.value, s.headers)
            for s in self.sender.sent
            if s.topic in COMMAND_TOPICS.values()
        ]

    def dead_letters(self) -> list[dict[str, bytes]]:
        return [dict(s.headers) for s in self.sender.on("dlq")]

    def sample(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0

    def state(self, customer: str) -> CustomerState:
        return unpack_state(self.customers.data[customer.encode()])

    def outbox(self, customer: str) -> dict[str, Any]:
        return unpack_head(self.customers.data[customer.encode()]).outbox

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


def bike(customer: str, order: str = "o9", **line: Any) -> DemoEvent:
    return order_event(customer, order, int(NOW * 1000), [{**BIKE_LINE, **line}], channel="store")


async def test_each_customer_is_stored_once_per_batch_with_its_timer() -> None:
    h = Harness()
    await h.handle([h.event(e) for e in coffee("c1") + coffee("c2")])
    assert [key for _, key, _ in h.customers.changelog] == [b"c1", b"c2"]
    [(instance_id, (due_at, version))] = h.timers("c1").items()
    assert due_at > NOW + 2 * 86400  # three days after delivery, at a set hour
    assert h.state("c1").instances[instance_id].timer_version == version
    assert len(h.wheel) == 2, "both timers are scheduled"
    assert h.sample("rebound_events_total", kind="order") == 2
    assert h.sample("rebound_events_total", kind="delivery") == 2
    scenario = "coffee-machine-after-delivery"
    assert h.sample("rebound_instances_started_total", scenario=scenario, group="treatment") == 2
    assert h.dead_letters() == []


async def test_profiles_are_read_once_a_batch_for_the_inputs_that_may_send_only() -> None:
    h = Harness()
    when = int(NOW * 1000)
    book = {"sku": "BOOK-1", "name": "A book", "category": "book", "quantity": 1, "unit_price": 900}
    await h.handle(
        [
            h.event(e)
            for e in [
                *coffee("c1"),
                order_event("c2", "o2", when, [book]),  # no trigger looks for books
                open_event("c3", "another-systems-command", "email", when, "e-open"),
                bike("c4"),
            ]
        ]
    )
    assert h.profiles.lookups == [["c1", "c4"]]


async def test_a_large_batchs_profiles_are_read_in_parts_each_customer_once() -> None:
    h = Harness()
    customers = [f"c{i}" for i in range(2 * PROFILES_READ_EVERY + 10)]
    h.profiles.profiles[customers[0]] = Profile(unsubscribed=True)
    h.profiles.profiles[customers[-1]] = Profile(unsubscribed=True)
    await h.handle([h.event(e) for c in customers for e in coffee(c)])
    assert [len(lookup) for lookup in h.profiles.lookups] == [
        PROFILES_READ_EVERY,
        PROFILES_READ_EVERY,
        10,
    ]
    assert sorted(c for lookup in h.profiles.lookups for c in lookup) == sorted(customers)
    scenario = "coffee-machine-after-delivery"
    assert (
        h.sample("rebound_instances_started_total", scenario=scenario, group="treatment")
        == len(customers) - 2
    )
    assert not h.state(customers[0]).instances, "the first part's profile applies"
    assert not h.state(customers[-1]).instances, "the last part's profile applies"


async def test_the_profile_read_decides_an_unsubscribed_customer_enters_nothing() -> None:
    h = Harness()
    h.profiles.profiles["c1"] = Profile(unsubscribed=True)
    await h.handle([h.event(e) for e in coffee("c1") + coffee("c2")])
    scenario = "coffee-machine-after-delivery"
    assert h.sample("rebound_instances_started_total", scenario=scenario, group="treatment") == 1
    assert list(h.state("c2").instances)
    assert not h.state("c1").instances


async def test_a_command_stays_in_its_customers_outbox_until_the_broker_has_it() -> None:
    h = Harness()
    await h.handle([h.event(bike("c9"))])
    [command] = h.commands()
    assert command["scenario_id"] == "in-store-bike"
    assert list(h.outbox("c9")) == [command["command_id"]], "stored with its command"
    assert h.ledger.ids == set()

    await h.deliver()
    assert h.ledger.ids == {command["command_id"]}
    await h.protocol.tick()  # a quiet stream empties outboxes between batches
    assert h.outbox("c9") == {}
    assert h.state("c9").instances, "the state is kept as it was"


async def test_after_a_crash_the_recovery_publishes_the_outbox_again() -> None:
    crashed = Harness()
    await crashed.handle([crashed.event(bike("c9"))])  # stored, never acknowledged
    [lost] = crashed.commands()

    restarted = Harness(store=crashed.customers)
    await restarted.protocol.recover([2])
    [again] = restarted.commands()
    assert again["command_id"] == lost["command_id"]
    assert again["recommendations"] == lost["recommendations"]
    assert restarted.sample("rebound_outbox_republished_total") == 1
    await restarted.deliver()
    await restarted.protocol.tick()
    assert restarted.outbox("c9") == {}


async def test_a_recovery_does_not_publish_what_the_ledger_knows() -> None:
    crashed = Harness()
    await crashed.handle([crashed.event(bike("c9"))])
    await crashed.deliver()  # published and in the ledger, but the outbox not yet emptied

    restarted = Harness(store=crashed.customers, ledger=crashed.ledger)
    await restarted.protocol.recover([2])
    assert restarted.commands() == []
    await restarted.protocol.tick()
    assert restarted.outbox("c9") == {}


async def test_the_input_read_again_after_a_crash_before_the_store_gives_the_same_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def exit_now(code: int) -> None:
        raise SystemExit(code)

    monkeypatch.setattr(commit.os, "_exit", exit_now)
    crashed = Harness()
    record = crashed.event(bike("c9"))
    crashed.protocol._crash_at = "built"
    with pytest.raises(SystemExit):  # a crash once the commands are built: nothing stored
        await crashed.handle([record])
    assert crashed.customers.data == {}
    restarted = Harness(store=crashed.customers)  # nothing was stored
    await restarted.handle([record])
    first = Harness()
    await first.handle([first.event(bike("c9"))])
    assert [c["command_id"] for c in restarted.commands()] == [
        c["command_id"] for c in first.commands()
    ]


async def test_an_unchanged_state_is_not_written_again() -> None:
    h = Harness()
    await h.handle([h.event(e) for e in coffee("c1")])
    writes = len(h.customers.changelog)
    repeat = delivery_event("c1", "o1", int(NOW * 1000) + 1)  # the same delivery, read again
    await h.handle([h.event(repeat)])
    assert len(h.customers.changelog) == writes
    assert len(h.wheel) == 1, "the same timer is not scheduled again"


@pytest.mark.parametrize(
    ("value", "stage"),
    [
        (b"garbage", "decode"),
        (None, "decode"),
        ("open without command", "validate"),
        ("open from the future", "validate"),
    ],
)
async def test_a_bad_record_goes_to_the_dead_letter_topic_whole(value: Any, stage: str) -> None:
    h = Harness()
    headers: Any = [("trace", b"t-1")]
    if value == "open without command":
        value, headers = CODEC.encode(
            EVENT_RECORDS["open"], {**_open("c1"), "command_id": ""}, "opens"
        )
    elif value == "open from the future":
        future = {**_open("c1"), "occurred_at": int((NOW + 301) * 1000)}
        value, headers = CODEC.encode(EVENT_RECORDS["open"], future, "opens")
    good = coffee("c2")
    await h.handle(
        [h.event(good[0]), h.record("opens", b"c1", value, list(headers)), h.event(good[1])]
    )
    [sent] = h.sender.on("dlq")
    assert sent.key == b"c1"
    assert sent.value == value
    names = dict(sent.headers)
    assert names[dead_letter.STAGE] == stage.encode()
    assert names[dead_letter.SOURCE_TOPIC] == b"opens"
    assert names[dead_letter.SOURCE_PARTITION] == b"2"
    assert names[dead_letter.SOURCE_OFFSET] == b"2"
    assert names[dead_letter.ERROR]
    assert sent.headers[: len(headers)] == list(headers), "original headers come first"
    assert h.sample("rebound_dead_letters_total", kind="open", stage=stage) == 1
    assert h.sample("rebound_events_total", kind="open") == 0
    assert h.state("c2").instances, "the stream went on around the bad record"


@pytest.mark.parametrize("key", [None, b"someone-else"])
async def test_an_event_keyed_otherwise_is_repartitioned_by_customer(key: bytes | None) -> None:
    h = Harness()
    misrouted = h.event(bike("c9"), key=key)
    await h.handle([misrouted])
    [sent] = h.sender.on("repartition")
    assert (sent.key, sent.value) == (b"c9", misrouted.value)
    assert (KIND_HEADER, b"order") in sent.headers
    assert b"c9" not in h.customers.data, "not handled on the wrong partition"
    assert h.sample("rebound_events_repartitioned_total", kind="order") == 1

    await h.handle([h.record("repartition", sent.key, sent.value, sent.headers)])
    assert [c["scenario_id"] for c in h.commands()] == ["in-store-bike"]
    assert h.sample("rebound_events_total", kind="order") == 1


async def test_a_failing_decision_is_dead_lettered_and_its_changes_dropped() -> None:
    h = Harness(Failing(SCENARIOS))
    first, second = coffee("c1")
    boom = h.event(_with_id(order_event("c1", "o2", int(NOW * 1000), [BIKE_LINE]), "boom"))
    await h.handle([h.event(first), boom, h.event(second)])
    assert h.dead_letters()[0][dead_letter.STAGE] == b"handle"
    assert h.sample("rebound_dead_letters_total", kind="order", stage="handle") == 1
    state = h.state("c1")
    assert "half-done" not in state.entered
    assert "o1" in state.orders, "the events around the failed one are kept"
    assert state.instances, "the delivery after the failure was decided"


async def test_a_huge_order_is_kept_bounded_and_still_triggers() -> None:
    h = Harness()
    name = "x" * 900_000
    lines = [{**BIKE_LINE, "sku": f"SKU-{i}", "category": "misc"} for i in range(20_000)]
    lines.append({**BIKE_LINE, "name": name})
    huge = order_event("c9", "o9", int(NOW * 1000), lines, channel="store")  # the bike last
    await h.handle([h.event(huge)])
    assert h.dead_letters() == []
    [command] = h.commands()
    assert len(command["personalisation"]["product_name"]) <= 120
    assert len(h.customers.data[b"c9"]) < MAX_STORED_BYTES // 10


async def test_a_record_that_would_make_its_customer_too_large_is_dead_lettered() -> None:
    h = Harness()
    many = [
        order_event("c1", f"o{i}-" + "y" * 12_000, int(NOW * 1000), [COFFEE_MACHINE_LINE])
        for i in range(60)
    ]
    await h.handle([h.event(e) for e in many] + [h.event(e) for e in coffee("c2")])
    stages = [d[dead_letter.STAGE] for d in h.dead_letters()]
    assert stages
    assert set(stages) == {b"store"}
    assert len(h.customers.data[b"c1"]) <= MAX_STORED_BYTES
    assert h.state("c2").instances, "the stream went on"


async def test_a_command_that_cannot_be_encoded_is_its_inputs_dead_letter() -> None:
    bad = Product("HELMET-URBAN", "Helmet", "not a price", "EUR", "u")  # type: ignore[arg-type]
    h = Harness(catalog={"HELMET-URBAN": bad})
    await h.handle([h.event(bike("c9")), *(h.event(e) for e in coffee("c2"))])
    [headers] = h.dead_letters()
    assert headers[dead_letter.STAGE] == b"command"
    assert h.commands() == []
    assert b"c9" not in h.customers.data, "its customer as if the order had not come"
    assert h.state("c2").instances


async def test_a_due_timer_comes_back_as_an_input() -> None:
    h = Harness()
    await h.handle([h.event(e) for e in coffee("c1")])
    [(instance_id, (due_at, version))] = h.timers("c1").items()
    fired = timer_to_bytes(TimerFired("c1", instance_id, int(version), due_at))
    h.now = due_at + 1
    await h.handle([h.record("due", b"c1", fired)])
    assert [c["step_id"] for c in h.commands()] == ["accessories"]
    assert h.sample("rebound_timer_lateness_seconds_count") == 1
    [(_, (reminder_at, reminder_version))] = h.timers("c1").items()
    assert reminder_at > due_at, "the stored timers line now holds the reminder"
    assert reminder_version == version + 1


async def test_due_timers_are_published_on_the_tick() -> None:
    h = Harness()
    await h.handle([h.event(e) for e in coffee("c1")])
    [(_, (due_at, _))] = h.timers("c1").items()
    h.now = due_at + 0.5
    await h.protocol.tick()
    [fired] = h.sender.on("due")
    assert fired.key == b"c1"
    assert len(h.wheel) == 0


async def test_an_open_of_another_systems_message_leaves_the_stored_customer_alone() -> None:
    engine = Counting(SCENARIOS)
    h = Harness(engine)
    await h.handle([h.event(e) for e in coffee("c1")])
    stored, writes, decided = h.customers.data[b"c1"], len(h.customers.changelog), engine.decided
    value, headers = CODEC.encode(EVENT_RECORDS["open"], _open("c1"), "opens")
    stranger = h.record("opens", b"c1", value, headers)  # cmd-1: not one of c1's commands
    await h.handle([stranger])
    assert engine.decided == decided, "not decided on: its state is not even decoded"
    assert h.customers.data[b"c1"] == stored
    assert len(h.customers.changelog) == writes
    assert h.sample("rebound_events_total", kind="open") == 1, "counted as handled"


async def test_an_open_of_its_own_message_is_decided_on() -> None:
    h = Harness()
    await h.handle([h.event(bike("c9"))])
    [command] = h.commands()
    value, headers = CODEC.encode(
        EVENT_RECORDS["open"], {**_open("c9"), "command_id": command["command_id"]}, "opens"
    )
    await h.handle([h.record("opens", b"c9", value, headers)])
    [instance] = h.state("c9").instances.values()
    assert instance.opened == [command["step_id"]]


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


class ScriptedRuntime:
    """A runtime that hands over the given batches, then stops; it records what the
    protocol acknowledges."""

    def __init__(self, *batches: list[Any]) -> None:
        self.batches = [SimpleNamespace(records=records) for records in batches]
        self.acknowledged: list[tuple[list[Any], bool]] = []

    def listen(self, listener: Any) -> None:
        pass

    async def next_batch(self) -> Any:
        return self.batches.pop(0) if self.batches else None

    def acknowledge(self, batch: Any, handled: bool) -> None:
        self.acknowledged.append((batch.records, handled))


async def test_run_acknowledges_each_batch_once_it_is_stored_and_sent() -> None:
    h = Harness()
    first, second = [h.event(e) for e in coffee("c1")], [h.event(bike("c2"))]
    runtime = ScriptedRuntime(first, second)
    await h.protocol.run(runtime)
    assert runtime.acknowledged == [(first, True), (second, True)]
    assert set(h.customers.data) == {b"c1", b"c2"}
    assert [c["customer_id"] for c in h.commands()] == ["c2"]


async def test_a_batch_that_fails_outside_the_dead_letter_path_is_not_acknowledged() -> None:
    class BrokenStore(MemoryStore):
        async def flush(self) -> None:
            raise OSError("disk full")

    h = Harness(store=BrokenStore())
    batch = [h.event(bike("c1"))]
    runtime = ScriptedRuntime(batch, [h.event(bike("c2"))])
    with pytest.raises(OSError, match="disk full"):
        await h.protocol.run(runtime)
    assert runtime.acknowledged == [(batch, False)], "never acknowledged, and nothing after it"


async def test_timers_wait_for_the_partitions_to_be_ready_and_stop_at_a_revocation() -> None:
    h = Harness()
    h.wheel.clear()  # as after a start: nothing owned yet
    await h.handle([h.event(e) for e in coffee("c1")])
    [(_, (due_at, _))] = h.timers("c1").items()
    h.now = due_at + 1
    await h.protocol.tick()
    assert h.sender.on("due") == [], "nothing fires before the partitions are ready"
    await h.protocol.ready({2})
    await h.protocol.tick()
    assert [s.key for s in h.sender.on("due")] == [b"c1"]
    h.protocol.revoked()
    await h.handle([h.event(e) for e in coffee("c3", "o3")])
    h.now += 10 * 86400
    await h.protocol.tick()
    assert [s.key for s in h.sender.on("due")] == [b"c1"], "a revoked worker fires nothing"
