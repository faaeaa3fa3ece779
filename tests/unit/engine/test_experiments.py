"""Control groups and variants on simulated time: deterministic draws, silent held-out
instances whose purchases still count, variants kept for the instance, and opens, clicks and
purchases attributed to the step and variant of the command they follow."""

from __future__ import annotations

import math
from collections import Counter

from streams.engine import Engine
from streams.engine.context import Policies
from streams.engine.effects import (
    Engaged,
    RecordConversion,
    SendCommand,
    StartInstance,
    StepHeldOut,
)
from streams.engine.events import Order, OrderLine
from streams.engine.experiments import BUCKETS, ControlGroup, bucket, pick_variant
from streams.engine.scenario import Scenario
from streams.scenarios.loader import parse_scenario
from tests.unit.engine.simulation import COFFEE_MACHINE, DAY, T0, Simulation

EXPERIMENT = """
id: coffee-test
version: 1
holdout: 10%
trigger: {event: order, order_contains: {category: coffee-machine}}
steps:
  - id: first
    wait: 1d
    channel: email
    template: coffee-a
    recommendations: [CAPS-INTENSO-50, DESCALER-500]
    variants:
      - {name: A, weight: 50}
      - {name: B, weight: 50, template: coffee-b, channel: [sms, email],
         offer: {code: B10, description: "10% off", discount_percent: 10}}
  - id: reminder
    wait: 2d
    when: not opened(first)
    channel: email
    template: coffee-reminder
    recommendations: [CAPS-INTENSO-50]
goal: {attribution_window: 14d}
"""
CAPSULES = ("CAPS-INTENSO-50", "Intenso capsules", "coffee-capsules", 1490)


def experiment(text: str = EXPERIMENT) -> Scenario:
    return parse_scenario(text, "coffee-test.yaml")


DEFAULT = experiment()


def simulation(customer: str, scenario: Scenario | None = None, **policies: object) -> Simulation:
    return Simulation(
        customer=customer,
        engine=Engine([scenario or DEFAULT], Policies(**policies)),  # type: ignore[arg-type]
    )


_ENGINES: dict[tuple[Scenario, str], Engine] = {}


def group_of(customer: str, scenario: Scenario | None = None, **policies: object) -> str:
    """The group an order of a coffee machine puts ``customer`` in."""
    scenario = scenario or DEFAULT
    key = (scenario, repr(policies))
    engine = _ENGINES.get(key)
    if engine is None:
        engine = _ENGINES[key] = Engine([scenario], Policies(**policies))  # type: ignore[arg-type]
    line = OrderLine(*COFFEE_MACHINE[:3], 1, COFFEE_MACHINE[3])
    order = Order(
        "e1", customer, "o1", T0, "web", None, (line,), line.unit_price, "EUR", None, None, None
    )
    _, effects = engine.decide(None, order, T0)
    [start] = [e for e in effects if isinstance(e, StartInstance)]
    return start.group


def binomial_bounds(n: int, p: float) -> tuple[float, float]:
    """Four standard deviations either side of n*p: a correct draw falls outside once in
    about 16,000 runs, and the draw is deterministic, so this test does not flicker."""
    spread = 4 * math.sqrt(n * p * (1 - p))
    return n * p - spread, n * p + spread


def test_a_ten_percent_holdout_holds_out_ten_percent_the_same_customers_every_run() -> None:
    customers = [f"c{i}" for i in range(10_000)]
    scenario = experiment()
    first = {c for c in customers if group_of(c, scenario) == "control"}
    low, high = binomial_bounds(len(customers), 0.10)
    assert low <= len(first) <= high
    parsed_again = experiment()
    again = {c for c in customers if group_of(c, parsed_again) == "control"}
    assert again == first, "the draw depends on the customer, the scenario and the salt only"


def test_raising_the_holdout_adds_customers_and_moves_none_and_a_new_salt_draws_anew() -> None:
    customers = [f"c{i}" for i in range(3_000)]
    ten = {c for c in customers if group_of(c) == "control"}
    fifteen = experiment(EXPERIMENT.replace("holdout: 10%", "holdout: 15%"))
    wider = {c for c in customers if group_of(c, fifteen) == "control"}
    assert ten < wider
    salted = experiment(EXPERIMENT.replace("holdout: 10%", "holdout: 10%\nsalt: spring-2027"))
    redrawn = {c for c in customers if group_of(c, salted) == "control"}
    assert len(redrawn & ten) < len(ten) / 2, "a new salt is a new experiment"


def held_out_customer() -> str:
    return next(f"c{i}" for i in range(1_000) if group_of(f"c{i}") == "control")


def treated_customer() -> str:
    return next(f"c{i}" for i in range(1_000) if group_of(f"c{i}") == "treatment")


def test_a_held_out_customer_gets_no_command_on_the_same_schedule() -> None:
    held, treated = simulation(held_out_customer()), simulation(treated_customer())
    for sim in (held, treated):
        sim.order("o1", COFFEE_MACHINE)
        sim.advance(4 * DAY)
    assert held.sends == []
    silent = [e for e in held.effects if isinstance(e, StepHeldOut)]
    assert [e.step_id for e in silent] == ["first", "reminder"], "not opened: the reminder too"
    assert [s.step_id for s in treated.sends] == ["first", "reminder"]
    assert held.state is not None
    assert treated.state is not None
    [held_instance] = held.state.instances.values()
    [treated_instance] = treated.state.instances.values()
    assert held_instance.last_step_at == treated_instance.last_step_at
    assert held.state.sends == [], "nothing sent: no pressure counted"


def test_a_held_out_customer_s_purchase_converts_for_the_control_group_and_exits() -> None:
    held = simulation(held_out_customer())
    held.order("o1", COFFEE_MACHINE)
    held.advance(2 * DAY)
    [conversion] = [e for e in held.order("o2", CAPSULES) if isinstance(e, RecordConversion)]
    assert (conversion.group, conversion.step_id, conversion.revenue) == ("control", "first", 1490)
    assert conversion.first
    assert held.state is not None
    assert held.state.instances["coffee-test:o1"].exit_reason == "purchased", "same exit rules"
    held.advance(3 * DAY)
    assert [e.step_id for e in held.effects if isinstance(e, StepHeldOut)] == ["first"]


def test_the_programme_s_control_group_is_held_out_of_every_scenario() -> None:
    control = ControlGroup(share=2_000, salt="programme")
    customers = [f"c{i}" for i in range(2_000)]
    no_holdout = experiment(EXPERIMENT.replace("holdout: 10%", "holdout: 0%"))
    held = {c for c in customers if group_of(c, no_holdout, control_group=control) == "control"}
    low, high = binomial_bounds(len(customers), 0.20)
    assert low <= len(held) <= high
    assert held == {c for c in customers if bucket("programme", c) < 2_000}


def test_a_fifty_fifty_split_draws_each_customer_once_and_keeps_it_for_the_instance() -> None:
    drawn: Counter[str] = Counter()
    no_holdout = experiment(EXPERIMENT.replace("holdout: 10%", "holdout: 0%"))
    for i in range(2_000):
        sim = simulation(f"v{i}", no_holdout)
        sim.profile = None
        sim.order("o1", COFFEE_MACHINE)
        sim.advance(2 * DAY)
        [send] = sim.sends
        assert sim.state is not None
        instance = sim.state.instances["coffee-test:o1"]
        assert instance.variants == {"first": send.variant}
        drawn[send.variant] += 1
        expected = "coffee-a" if send.variant == "A" else "coffee-b"
        assert send.template == expected
        assert (send.offer is not None) == (send.variant == "B")
    low, high = binomial_bounds(2_000, 0.5)
    assert set(drawn) == {"A", "B"}
    assert low <= drawn["A"] <= high


def test_a_variant_s_channel_falls_back_as_the_step_s_does() -> None:
    """Variant B prefers SMS, which needs a consent the default profile lacks: e-mail."""
    scenario = experiment(EXPERIMENT.replace("holdout: 10%", "holdout: 0%"))
    customer = next(
        f"v{i}"
        for i in range(200)
        if pick_variant((50, 50), "coffee-test", "coffee-test", "first", f"v{i}") == 1
    )
    sim = simulation(customer, scenario)
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(2 * DAY)
    [send] = sim.sends
    assert (send.variant, send.channel, send.template) == ("B", "email", "coffee-b")


def test_opens_clicks_and_purchases_are_attributed_to_the_step_and_variant() -> None:
    sim = simulation(treated_customer())
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(2 * DAY)
    [send] = sim.sends
    opened = [e for e in sim.open(send.command_id) if isinstance(e, Engaged)]
    assert [(e.kind, e.step_id, e.variant, e.channel) for e in opened] == [
        ("opened", "first", send.variant, "email")
    ]
    assert [e for e in sim.open(send.command_id) if isinstance(e, Engaged)] == [], "once"
    clicked = [e for e in sim.click(send.command_id) if isinstance(e, Engaged)]
    assert [(e.kind, e.variant) for e in clicked] == [("clicked", send.variant)]
    sim.advance(DAY)
    effects = sim.order("o2", CAPSULES, ("MUG-1", "Mug", "kitchen", 900))
    [conversion] = [e for e in effects if isinstance(e, RecordConversion)]
    assert (conversion.group, conversion.step_id, conversion.variant) == (
        "treatment",
        "first",
        send.variant,
    )
    assert (conversion.revenue, conversion.basket, conversion.currency) == (1490, 2390, "EUR")


def test_a_click_without_an_open_counts_both() -> None:
    sim = simulation(treated_customer())
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(2 * DAY)
    [send] = sim.sends
    kinds = [e.kind for e in sim.click(send.command_id) if isinstance(e, Engaged)]
    assert kinds == ["opened", "clicked"]


def test_a_second_purchase_converts_again_but_the_instance_counts_once() -> None:
    sim = simulation(treated_customer())
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(2 * DAY)
    firsts = []
    for order_id in ("o2", "o3"):
        sim.advance(DAY)
        effects = sim.order(order_id, CAPSULES)
        firsts += [e.first for e in effects if isinstance(e, RecordConversion)]
    assert firsts == [True, False]


def test_bucket_is_uniform_enough_and_pick_variant_follows_weights() -> None:
    picks = Counter(pick_variant((1, 3), "s", f"c{i}") for i in range(8_000))
    low, high = binomial_bounds(8_000, 0.25)
    assert low <= picks[0] <= high
    assert all(0 <= bucket("s", f"c{i}") < BUCKETS for i in range(100))


def test_commands_of_the_treatment_are_the_worker_s_as_before() -> None:
    """A scenario without holdout or variants sends as it did: variant "" in its commands."""
    sim = Simulation()
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(DAY)
    sim.delivery("o1")
    sim.advance(4 * DAY)
    assert sim.sends
    assert all(isinstance(s, SendCommand) and s.variant == "" for s in sim.sends)
