"""Scenario versions: new entries get the folder's version; instances in flight finish on the
version they started, kept by the engine (``retained``) after its file was replaced or
removed; only a version nobody kept ends them (``scenario_removed``)."""

from __future__ import annotations

from dataclasses import replace

from streams.engine import Engine
from streams.engine.effects import ExitInstance
from streams.engine.scenario import Scenario
from streams.scenarios import parse_scenario
from tests.unit.engine.simulation import DAY, Simulation

V1 = """\
id: upsell
version: 1
trigger: {event: order, order_contains: {category: coffee-machine}}
steps:
  - {id: first, wait: 1d, channel: email, template: v1-first, recommendations: [CAPS-BOX]}
  - {id: second, wait: 5d, channel: email, template: v1-second, recommendations: [CAPS-BOX]}
"""
V2 = V1.replace("version: 1", "version: 2").replace("v1-", "v2-").replace("wait: 5d", "wait: 2d")


def scenario(text: str) -> Scenario:
    return parse_scenario(text, "upsell.yaml")


def sent(sim: Simulation) -> list[tuple[str, int, str]]:
    return [(c.customer_id, c.scenario_version, c.template) for c in sim.sends]


def test_an_instance_in_flight_finishes_on_its_version_after_the_next_one_replaced_it() -> None:
    old = Simulation(customer="a", engine=Engine([scenario(V1)]))
    old.order("o1", ("MACHINE-1", "a machine", "coffee-machine", 100))
    old.advance(DAY)  # the first step went out on v1; the second waits 5 days
    # The file is replaced by v2: the worker restarts with v2 active and v1 kept.
    engine = Engine([scenario(V2)], retained=[scenario(V1)])
    old.engine = engine
    old.advance(5 * DAY)
    new = Simulation(customer="b", engine=engine)
    new.order("o1", ("MACHINE-1", "a machine", "coffee-machine", 100))
    new.advance(3 * DAY)
    assert sent(old) == [("a", 1, "v1-first"), ("a", 1, "v1-second")]
    assert sent(new) == [("b", 2, "v2-first"), ("b", 2, "v2-second")]


def test_a_kept_version_starts_nothing_even_when_its_file_is_gone() -> None:
    sim = Simulation(engine=Engine([], retained=[scenario(V1)]))
    sim.order("o1", ("MACHINE-1", "a machine", "coffee-machine", 100))
    sim.advance(10 * DAY)
    assert sim.sends == []
    assert sim.state is not None
    assert not sim.state.instances


def test_a_version_nobody_kept_ends_its_instances_as_removed() -> None:
    sim = Simulation(engine=Engine([scenario(V1)]))
    sim.order("o1", ("MACHINE-1", "a machine", "coffee-machine", 100))
    sim.engine = Engine([scenario(V2)])
    sim.advance(2 * DAY)
    assert [e.reason for e in sim.effects if isinstance(e, ExitInstance)] == ["scenario_removed"]


def test_retain_adds_only_unknown_versions_and_never_replaces_an_active_one() -> None:
    active = scenario(V2)
    engine = Engine([active])
    assert engine.retain([scenario(V1), replace(active, priority=9)]) == 1
    assert engine.knows("upsell", 1)
    assert engine.knows("upsell", 2)
    assert engine.retain([scenario(V1)]) == 0
    assert [s.version for s in engine.scenarios] == [2]
    assert [s.version for s in engine.retained] == [1]
