"""What a customer's state forgets, and when: orders after 60 days, entries after 180, ended
instances after their attribution window; looked for at most once an hour."""

from __future__ import annotations

from streams.engine.state import ENTRY_MEMORY_S, ORDER_MEMORY_S, PRUNE_EVERY_S, CustomerState
from tests.unit.engine.simulation import BIKE, COFFEE_MACHINE, DAY, Simulation


def state(sim: Simulation) -> CustomerState:
    assert sim.state is not None
    return sim.state


def test_an_order_is_forgotten_after_sixty_days_so_its_late_delivery_triggers_nothing() -> None:
    sim = Simulation()
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(ORDER_MEMORY_S + DAY)
    sim.delivery("o1")
    assert "o1" not in state(sim).orders
    assert not state(sim).instances, "a delivery of a forgotten order starts nothing"
    assert "o1" in state(sim).early_deliveries, "kept in case its order comes"


def test_an_ended_instance_goes_after_its_attribution_window_and_its_entry_after_180_days() -> None:
    sim = Simulation()
    sim.order("o1", BIKE, channel="store")  # in-store bike: sent at once, then ended
    [instance] = state(sim).instances.values()
    assert instance.ended_at is not None
    sim.advance(ORDER_MEMORY_S + DAY)
    sim.order("o2", COFFEE_MACHINE)
    assert instance.id not in state(sim).instances
    assert instance.id in state(sim).entered, "once per order still holds"
    sim.advance(ENTRY_MEMORY_S)
    sim.order("o3", COFFEE_MACHINE)
    assert instance.id not in state(sim).entered


def test_old_entries_are_looked_for_at_most_once_an_hour() -> None:
    sim = Simulation()
    sim.order("o1", COFFEE_MACHINE)
    looked_at = state(sim).pruned_at
    assert looked_at == sim.now
    sim.advance(PRUNE_EVERY_S / 2)
    sim.order("o2", COFFEE_MACHINE)
    assert state(sim).pruned_at == looked_at
    sim.advance(PRUNE_EVERY_S)
    sim.order("o3", COFFEE_MACHINE)
    assert state(sim).pruned_at == sim.now


def test_a_state_round_trips_through_json_with_when_it_was_pruned() -> None:
    sim = Simulation()
    sim.order("o1", COFFEE_MACHINE)
    assert CustomerState.from_json(state(sim).to_json()) == state(sim)
