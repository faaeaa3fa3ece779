"""The engine in the worker against a real broker and Redis, on short delays: sends after
the delay, reminders cancelled by an open, timers that survive SIGKILL and rebalances."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from devtools.demo import (
    COFFEE_MACHINE_LINE,
    DemoEvent,
    DemoProducer,
    delivery_event,
    order_event,
)
from devtools.localstack.command_reader import CommandReader
from devtools.localstack.process import free_port
from devtools.localstack.worker import WorkerProcess
from streams.settings import Settings

StartWorker = Callable[[Settings], WorkerProcess]


@pytest.fixture
def producer(fast_settings: Settings) -> Iterator[DemoProducer]:
    producer = DemoProducer(fast_settings)
    yield producer
    producer.close()


@pytest.fixture
def commands(fast_settings: Settings) -> Iterator[CommandReader]:
    reader = CommandReader(fast_settings)
    yield reader
    reader.close()


def customers(n: int) -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"cust-{run}-{i}" for i in range(n)]


def deliver_coffee_machine(producer: DemoProducer, customer: str) -> float:
    """An order and its delivery, now; returns the delivery time."""
    now_ms = int(time.time() * 1000)
    order_id = f"o-{customer}"
    producer.send(order_event(customer, order_id, now_ms, [COFFEE_MACHINE_LINE]))
    producer.send(delivery_event(customer, order_id, now_ms, event_id=f"d-{customer}"))
    producer.flush()
    return now_ms / 1000


def steps_by_customer(commands: list[dict]) -> set[tuple[str, str]]:
    return {(c["customer_id"], c["step_id"]) for c in commands}


def test_a_delivery_leads_to_an_email_after_the_delay_then_a_reminder(
    fast_settings: Settings,
    start_worker: StartWorker,
    producer: DemoProducer,
    commands: CommandReader,
) -> None:
    start_worker(fast_settings)
    [customer] = customers(1)
    delivered_at = deliver_coffee_machine(producer, customer)

    [first] = commands.wait_for(lambda c: len(c) >= 1, 30, "the first email")
    assert commands.received_at[0] >= delivered_at + 3 - 0.05, "not before the 3 s delay"
    assert first["customer_id"] == customer
    assert first["channel"] == "email"
    assert (first["scenario_id"], first["step_id"]) == ("coffee-fast", "accessories")
    assert first["personalisation"] == {"product_name": "Barista One coffee machine"}
    assert [r["name"] for r in first["recommendations"]] == [
        "Intenso capsules, box of 50",
        "Descaler 500 ml",
        "Capsule storage box",
    ]
    assert first["trigger"] == {
        "kind": "delivery",
        "event_id": f"d-{customer}",
        "order_id": f"o-{customer}",
    }

    _, reminder = commands.wait_for(lambda c: len(c) >= 2, 30, "the reminder")
    assert reminder["step_id"] == "reminder"
    assert commands.received_at[1] - commands.received_at[0] >= 4 - 0.3


def test_an_open_published_back_cancels_the_reminder(
    fast_settings: Settings,
    start_worker: StartWorker,
    producer: DemoProducer,
    commands: CommandReader,
) -> None:
    worker = start_worker(fast_settings)
    [customer] = customers(1)
    deliver_coffee_machine(producer, customer)
    [first] = commands.wait_for(lambda c: len(c) >= 1, 30, "the first email")
    producer.send(
        DemoEvent(
            "open",
            customer,
            {
                "event_id": f"open-{customer}",
                "customer_id": customer,
                "command_id": first["command_id"],
                "channel": "email",
                "occurred_at": int(time.time() * 1000),
            },
        )
    )
    producer.flush()

    def instance_completed() -> bool:
        return (
            worker.metric(
                "rebound_instances_ended_total", scenario="coffee-fast", reason="completed"
            )
            == 1
        )

    worker.wait_for(instance_completed, 30, "the reminder's timer to fire and skip the send")
    commands.poll()
    assert [c["step_id"] for c in commands.commands] == ["accessories"]


@pytest.mark.parametrize("store", ["memory://", "rocksdb://"])
def test_timers_pending_when_the_worker_is_killed_all_fire_after_restart(
    fast_settings: Settings,
    store: str,
    start_worker: StartWorker,
    producer: DemoProducer,
    commands: CommandReader,
) -> None:
    """In memory, the restarted worker recovers from the changelog; on RocksDB, from its own
    files (the same data folder) and the changelog past their persisted offset."""
    fast_settings = replace(fast_settings, store=store)
    worker = start_worker(fast_settings)
    people = customers(20)
    for customer in people:
        deliver_coffee_machine(producer, customer)
    worker.wait_for(
        lambda: worker.metric("rebound_instances_started_total", scenario="coffee-fast") == 20,
        30,
        "20 scenario instances",
    )
    worker.stop(signal.SIGKILL)  # at once: whatever was not flushed is read again
    assert commands.poll() == [] or len(commands.commands) < 40

    restarted_at = time.monotonic()
    start_worker(fast_settings)
    expected = {(c, step) for c in people for step in ("accessories", "reminder")}
    commands.wait_for(lambda c: expected <= steps_by_customer(c), 90, "every timer to fire")
    print(
        f"\n{store}: recovered 20 customers and fired 40 timers "
        f"{time.monotonic() - restarted_at:.1f}s after the restart"
    )


def test_with_two_workers_and_a_rebalance_every_timer_fires(
    fast_settings: Settings,
    start_worker: StartWorker,
    producer: DemoProducer,
    commands: CommandReader,
) -> None:
    start_worker(fast_settings)
    first, second = customers(30), customers(30)
    for customer in first:
        deliver_coffee_machine(producer, customer)
    start_worker(replace(fast_settings, web_port=free_port()))  # a rebalance mid-flight
    for customer in second:
        deliver_coffee_machine(producer, customer)

    expected = {(c, step) for c in first + second for step in ("accessories", "reminder")}
    commands.wait_for(lambda c: expected <= steps_by_customer(c), 120, "every timer to fire")
    ids = [c["command_id"] for c in commands.commands]
    duplicates = len(ids) - len(set(ids))
    print(f"\n{len(ids)} commands for {len(expected)} steps: {duplicates} duplicates")
    assert len(set(ids)) == len(expected), "one command id per customer and step"
    assert duplicates <= len(expected) // 10, "duplicates only from an uncommitted batch"
