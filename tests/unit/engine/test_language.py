"""The scenario language a CRM team writes, on simulated time: each condition form, else
branches, entry filters, exits, replenishment (recommend what was bought, a repurchase
restarting the clock), the cooldown, and a reminder that does not follow a message that
never went out."""

from __future__ import annotations

import pytest

from streams.engine import Engine
from streams.engine.context import Profile
from streams.engine.effects import ExitInstance, StartInstance, StepDropped
from streams.scenarios import ScenarioError, parse_scenario
from tests.unit.engine.simulation import COFFEE_MACHINE, DAY, SCENARIOS, Simulation

CAPSULES = ("CAPS-INTENSO-50", "Intenso capsules", "coffee-capsules", 1490)
DESCALER = ("DESCALER-500", "Descaler", "coffee-care", 990)
MUG = ("MUG-1", "Mug", "kitchen", 900)
BASE = """
id: lang
version: 1
trigger: {event: order, order_contains: {category: coffee-machine}}
steps:
  - id: first
    wait: 1d
    channel: email
    template: first
    recommendations: [CAPS-INTENSO-50, DESCALER-500]
  - id: second
    wait: 2d
    when: WHEN
    channel: email
    template: second
    recommendations: [CAPS-INTENSO-50]
"""


def simulate(text: str, profile: Profile | None = None) -> Simulation:
    sim = Simulation(engine=Engine([parse_scenario(text, "lang.yaml")]))
    sim.profile = profile
    return sim


def second_goes_out(when: str, between: list[tuple[str, tuple]] | None = None) -> bool:
    """Whether step ``second`` sends, with ``when``, after the orders of ``between`` (order
    id, line) placed between the two steps."""
    sim = simulate(BASE.replace("WHEN", when))
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(1.5 * DAY)
    for order_id, line in between or []:
        sim.order(order_id, line)
    sim.advance(3 * DAY)
    return [s.step_id for s in sim.sends] == ["first", "second"]


@pytest.mark.parametrize(
    ("when", "between", "goes"),
    [
        ("not opened(first)", [], True),
        ("sent(first)", [], True),
        ("clicked(first)", [], False),
        ("not purchased(any)", [], True),
        ("not purchased(any)", [("o2", MUG)], False),
        ("purchased(category:kitchen)", [("o2", MUG)], True),
        ("purchased(sku:MUG-1)", [("o2", MUG)], True),
        ("purchased(sku:OTHER)", [("o2", MUG)], False),
        ("order_value >= 30000", [], True),
        ("order_value < 30000", [], False),
        ("not purchased(any) and order_value > 100", [], True),
        ("purchased(any) or order_value > 100", [], True),
        ("not (purchased(any) or order_value > 100)", [], False),
        ("purchased(any) within 1d", [("o2", MUG)], False),
        ("purchased(any) within 3d", [("o2", MUG)], True),
    ],
)
def test_each_condition_form(when: str, between: list[tuple[str, tuple]], goes: bool) -> None:
    assert second_goes_out(when, between) == goes


def test_a_purchase_of_a_recommended_product_is_seen_by_purchased_recommended() -> None:
    """The scenario exits on it (the default exit), so the condition is asked of an instance
    that stays: ``exit: {on_purchase: none}``."""
    text = BASE.replace("WHEN", "purchased(recommended)") + "exit: {on_purchase: none}\n"
    sim = simulate(text)
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(1.5 * DAY)
    sim.order("o2", DESCALER)
    sim.advance(3 * DAY)
    assert [s.step_id for s in sim.sends] == ["first", "second"]


def test_a_profile_attribute_decides() -> None:
    text = BASE.replace("WHEN", "profile.segment == vip")
    vip = simulate(text, Profile(attributes={"segment": "vip"}))
    other = simulate(text, Profile(attributes={"segment": "new"}))
    for sim in (vip, other):
        sim.order("o1", COFFEE_MACHINE)
        sim.advance(4 * DAY)
    assert [s.step_id for s in vip.sends] == ["first", "second"]
    assert [s.step_id for s in other.sends] == ["first"]


def test_otherwise_end_ends_the_instance_and_otherwise_a_step_jumps_there() -> None:
    third = """
  - id: third
    wait: 1d
    channel: email
    template: third
    recommendations: [DESCALER-500]
"""
    ending = simulate(BASE.replace("WHEN", "clicked(first)\n    otherwise: end") + third)
    ending.order("o1", COFFEE_MACHINE)
    ending.advance(6 * DAY)
    assert [s.step_id for s in ending.sends] == ["first"]
    [ended] = [e for e in ending.effects if isinstance(e, ExitInstance)]
    assert ended.reason == "condition"
    jumping = simulate(BASE.replace("WHEN", "clicked(first)\n    otherwise: third") + third)
    jumping.order("o1", COFFEE_MACHINE)
    jumping.advance(6 * DAY)
    assert [s.step_id for s in jumping.sends] == ["first", "third"]


def test_an_entry_filter_decides_who_enters() -> None:
    text = BASE.replace("WHEN", "not opened(first)").replace(
        "steps:", "entry: {when: order_value >= 50000}\nsteps:"
    )
    sim = simulate(text)
    effects = sim.order("o1", COFFEE_MACHINE)  # 349.00: under 500.00
    assert not [e for e in effects if isinstance(e, StartInstance)]
    big = ("CM-PRO", "Pro machine", "coffee-machine", 89900)
    assert [e for e in sim.order("o2", big) if isinstance(e, StartInstance)]


def test_a_reminder_of_a_message_that_never_went_out_does_not_go_out() -> None:
    """The first e-mail is dropped (no consent for e-mail): "not opened(first)" would be true,
    but the customer never received it; the reminder is dropped too, with its reason."""
    sim = simulate(BASE.replace("WHEN", "not opened(first)"), Profile(consent={"email": False}))
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(5 * DAY)
    assert sim.sends == []
    dropped = [(e.step_id, e.reason) for e in sim.effects if isinstance(e, StepDropped)]
    assert dropped == [("first", "no_consent"), ("second", "previous_not_sent")]


def test_not_sent_offers_a_fallback_when_the_first_could_not_go_out() -> None:
    text = BASE.replace("WHEN", "not sent(first)")
    by_push = text.replace(
        "channel: email\n    template: second", "channel: push\n    template: second"
    )
    no_mail = simulate(by_push, Profile(consent={"email": False, "push": True}, has_app=True))
    no_mail.order("o1", COFFEE_MACHINE)
    no_mail.advance(5 * DAY)
    assert [(s.step_id, s.channel) for s in no_mail.sends] == [("second", "push")]


@pytest.mark.parametrize(
    ("rule", "line", "reason"),
    [
        ("any", MUG, "purchased_any"),
        ("{category: kitchen}", MUG, "purchased_category"),
        ("{sku: [MUG-1, MUG-2]}", MUG, "purchased_sku"),
        ("recommended", DESCALER, "purchased"),
    ],
)
def test_exits_on_any_purchase_a_category_skus_or_a_recommended_product(
    rule: str, line: tuple, reason: str
) -> None:
    sim = simulate(BASE.replace("WHEN", "not opened(first)") + f"exit: {{on_purchase: {rule}}}\n")
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(1.5 * DAY)
    sim.order("o2", line)
    sim.advance(3 * DAY)
    assert [s.step_id for s in sim.sends] == ["first"]
    assert [e.reason for e in sim.effects if isinstance(e, ExitInstance)] == [reason]


def test_exit_on_a_click() -> None:
    sim = simulate(BASE.replace("WHEN", "not opened(first)") + "exit: {on_click: true}\n")
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(1.5 * DAY)
    sim.click(sim.sends[0].command_id)
    sim.advance(3 * DAY)
    assert [e.reason for e in sim.effects if isinstance(e, ExitInstance)] == ["clicked"]


def test_a_cooldown_keeps_a_customer_out_of_the_scenario_for_a_while() -> None:
    text = BASE.replace("WHEN", "not opened(first)").replace(
        "steps:", "entry: {not_while_running: false, cooldown: 10d}\nsteps:"
    )
    sim = simulate(text)
    starts = []
    for day, order_id in ((0, "o1"), (5, "o2"), (11, "o3")):
        sim.advance(day * DAY - (sim.now - simulate(text).now))
        starts += [
            e.instance_id
            for e in sim.order(order_id, COFFEE_MACHINE)
            if isinstance(e, StartInstance)
        ]
    assert starts == ["lang:o1", "lang:o3"]


def capsules_customer() -> Simulation:
    engine = Engine(SCENARIOS)
    return Simulation(engine=engine)


def test_the_replenishment_scenario_sends_the_capsules_bought_thirty_days_later() -> None:
    sim = capsules_customer()
    sim.order("o1", CAPSULES)
    sim.advance(29 * DAY)
    assert sim.sends == []
    sim.advance(2 * DAY)
    [rebuy] = sim.sends
    assert (rebuy.scenario_id, rebuy.step_id) == ("capsules-replenishment", "rebuy")
    assert rebuy.recommendations == ("CAPS-INTENSO-50",), "what was bought, bought again"
    sim.advance(4 * DAY)  # not opened: the SMS step, dropped without SMS consent
    dropped = [(e.step_id, e.reason) for e in sim.effects if isinstance(e, StepDropped)]
    assert dropped == [("rebuy-sms", "no_consent")]


def test_a_reorder_meanwhile_sends_nothing_and_restarts_the_thirty_days() -> None:
    sim = capsules_customer()
    sim.order("o1", CAPSULES)
    sim.advance(20 * DAY)
    sim.order("o2", CAPSULES)
    ended = [e.reason for e in sim.effects if isinstance(e, ExitInstance)]
    assert ended == ["purchased_category"]
    sim.advance(15 * DAY)
    assert sim.sends == [], "not 30 days after the first order: the customer reordered"
    sim.advance(16 * DAY)
    [rebuy] = sim.sends
    assert rebuy.order_id == "o2"


@pytest.mark.parametrize(
    ("when", "problem"),
    [
        ("opened(third)", "'third' is not an earlier step"),
        ("opened first", "expected '(', found 'first' at column 8"),
        ("purchased(things)", "expected any, recommended, sku:X or category:Y"),
        ("order_value >= lots", "a whole amount in minor units"),
        ("purchased(any) within soon", "a duration like 30d"),
        ("profile.segment = vip", "expected == or !="),
        ("opened(first) and", "expected opened(...)"),
    ],
)
def test_a_bad_condition_is_refused_with_file_line_field_and_what_was_expected(
    when: str, problem: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(BASE.replace("WHEN", when), "lang.yaml")
    assert str(caught.value).startswith("lang.yaml:13: steps[1].when: ")
    assert problem in str(caught.value)
