"""The stored record (timers line, state line) and the timer heaps rebuilt from it."""

from __future__ import annotations

from streams.engine.state import CustomerState, Instance
from streams.pipeline.stored import pack, unpack_state, unpack_timers
from streams.pipeline.timers import TimerWheel


def state(customer: str, *waits: tuple[str, float | None, float | None]) -> CustomerState:
    """A state with an instance per (id, due_at, ended_at)."""
    instances = {
        instance_id: Instance(
            id=instance_id,
            scenario_id="coffee",
            version=1,
            order_id="o1",
            trigger_kind="delivery",
            trigger_event_id="e1",
            product_name="Barista One",
            next_step=0,
            last_step_at=0.0,
            timer_version=3,
            due_at=due_at,
            ended_at=ended_at,
        )
        for instance_id, due_at, ended_at in waits
    }
    return CustomerState(customer, instances=instances)


def test_a_stored_customer_is_its_timers_line_then_its_state_line() -> None:
    original = state("c1", ("a", 100.0, None), ("b", None, None), ("c", 50.0, 60.0))
    value, pending = pack(7, original)
    assert pending == {"a": [100.0, 3]}, "only running instances that wait"
    head, body = value.split(b"\n")
    assert head == b'{"p":7,"t":{"a":[100.0,3]}}'
    assert body == original.to_json()
    assert unpack_timers(value) == (7, pending)
    assert unpack_state(value) == original


def test_schedules_are_rebuilt_for_owned_partitions_only_and_give_what_is_due() -> None:
    table = [
        (b"c1", pack(0, state("c1", ("x", 30.0, None), ("y", 10.0, None)))[0]),
        (b"c2", pack(1, state("c2", ("z", 20.0, None)))[0]),
        (b"c3", pack(2, state("c3", ("w", 5.0, None)))[0]),  # not ours
    ]
    wheel = TimerWheel()
    assert not wheel.ready
    wheel.rebuild([0, 1], table)
    assert wheel.ready
    assert len(wheel) == 3
    assert wheel.pop_due(25.0) == {0: [(10.0, b"c1", "y", 3)], 1: [(20.0, b"c2", "z", 3)]}
    wheel.add(1, b"c2", {"z": [40.0, 4]})
    wheel.add(2, b"c3", {"w": [1.0, 4]})  # a partition not owned: ignored
    assert wheel.pop_due(100.0) == {0: [(30.0, b"c1", "x", 3)], 1: [(40.0, b"c2", "z", 4)]}
    assert len(wheel) == 0
    assert wheel.pop_due(200.0) == {}


def test_within_the_current_second_only_what_is_due_comes_out() -> None:
    wheel = TimerWheel()
    wheel.rebuild([0], [])
    for n, due_at in enumerate([7.2, 7.9, 7.5, 6.99, 8.0]):
        wheel.add(0, f"c{n}".encode(), {"i": [due_at, 1]})
    assert sorted(e[0] for e in wheel.pop_due(7.5)[0]) == [6.99, 7.2, 7.5]
    assert len(wheel) == 2
    assert wheel.pop_due(7.6) == {}
    assert [e[0] for e in wheel.pop_due(7.95)[0]] == [7.9]
    assert [e[0] for e in wheel.pop_due(8.0)[0]] == [8.0]
    assert len(wheel) == 0


def test_a_hundred_thousand_due_in_the_same_instant_all_come_out() -> None:
    wheel = TimerWheel()
    wheel.rebuild([0, 1], [])
    for n in range(100_000):
        wheel.add(n % 2, b"c%d" % n, {"i": [1000.25, 1]})
    wheel.add(0, b"later", {"i": [1000.5, 1]})
    due = wheel.pop_due(1000.3)
    assert sum(len(entries) for entries in due.values()) == 100_000
    assert len(wheel) == 1


def test_pending_timers_follow_the_instances() -> None:
    assert state("c1").pending_timers() == {}
    assert state("c1", ("a", 9.0, None)).pending_timers() == {"a": [9.0, 3]}
