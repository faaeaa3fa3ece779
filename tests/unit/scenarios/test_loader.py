"""Scenario files: the shipped ones load; a bad one is rejected with file, line and field."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from streams.engine.conditions import Not, Step
from streams.engine.state import INSTANCE_FIELDS, ORDER_FIELDS, CustomerState
from streams.scenarios import ScenarioError, load_scenarios, parse_scenario
from tests.unit.engine.simulation import COFFEE_MACHINE, DAY, T0, Simulation

SHIPPED = Path(__file__).resolve().parents[3] / "scenarios"

VALID = """\
id: demo
version: 2
trigger:
  event: delivery
  order_contains: {category: coffee-machine}
steps:
  - id: first
    wait: {after: 3d, at: "10:00"}
    channel: email
    template: t
    recommendations: [A, B]
  - id: second
    wait: 5d
    when: not opened(first)
    channel: sms
    template: t2
"""


def test_the_acceptance_scenarios_ship_and_load() -> None:
    ids = {s.id for s in load_scenarios(SHIPPED)}
    assert ids == {
        "coffee-machine-after-delivery",
        "smartphone-accessories",
        "beauty-third-box",
        "b2b-onboarding-options",
        "in-store-bike",
        "capsules-replenishment",
    }


def test_a_valid_scenario_parses() -> None:
    scenario = parse_scenario(VALID, "demo.yaml")
    assert scenario.version == 2
    assert scenario.steps[0].wait.delay_s == 3 * 86400
    assert scenario.steps[0].wait.at_local_time == (10, 0)
    assert scenario.steps[1].condition == Not(Step("opened", "first"))


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("    wait: 5d\n", "    wait: 5 days\n", 13, "steps[1].wait"),
        ("    channel: sms\n", "    channel: fax\n", 15, "steps[1].channel"),
        ("    when: not opened(first)\n", "    when: not opened(third)\n", 14, "steps[1].when"),
        ("    when: not opened(first)\n", "    when: opened first\n", 14, "steps[1].when"),
        ("  event: delivery\n", "  event: refund\n", 4, "trigger.event"),
        ("version: 2\n", "version: two\n", 2, "version"),
        ("    template: t2\n", "    template: t2\n    colour: red\n", 17, "steps[1].colour"),
        ('wait: {after: 3d, at: "10:00"}', 'wait: {after: 3d, at: "25:00"}', 8, "steps[0].wait.at"),
        ("  - id: second\n", "  - id: first\n", 12, "steps[1].id"),
        ("version: 2\n", "version: 2\nholdout: 10\n", 3, "holdout"),
        ("version: 2\n", "version: 2\nholdout: 120%\n", 3, "holdout"),
        ("version: 2\n", "version: 2\ncontrol: 10%\n", 3, "control"),
        (
            "    recommendations: [A, B]\n",
            "    recommendations: [A, B]\n    variants: [{name: A}]\n",
            12,
            "steps[0].variants",
        ),
        (
            "    recommendations: [A, B]\n",
            "    recommendations: [A, B]\n    variants: [{name: A}, {name: A}]\n",
            12,
            "steps[0].variants[1].name",
        ),
        (
            "    recommendations: [A, B]\n",
            "    recommendations: [A, B]\n    variants: [{name: A}, {name: B, wait: 1d}]\n",
            12,
            "steps[0].variants[1].wait",
        ),
        (
            "    recommendations: [A, B]\n",
            "    recommendations: [A, B]\n    variants: [{name: A, weight: 0}, {name: B}]\n",
            12,
            "steps[0].variants[0].weight",
        ),
        (
            "    recommendations: [A, B]\n",
            "    recommendations: [A, B]\n    variants: [{name: A}, {name: B, channel: fax}]\n",
            12,
            "steps[0].variants[1].channel",
        ),
    ],
)
def test_errors_name_file_line_and_field(old: str, new: str, line: int, field: str) -> None:
    assert old in VALID
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(VALID.replace(old, new), "bad.yaml")
    error = caught.value
    assert (error.source, error.line, error.field) == ("bad.yaml", line, field)
    assert str(error).startswith(f"bad.yaml:{line}: {field}: ")


def test_holdout_salt_and_variants_parse() -> None:
    text = VALID.replace("version: 2\n", "version: 2\nholdout: 12.5%\nsalt: spring\n").replace(
        "    recommendations: [A, B]\n",
        "    recommendations: [A, B]\n"
        "    variants:\n"
        "      - {name: control-copy, weight: 3}\n"
        "      - {name: offer, template: t-offer, recommendations: [B],\n"
        "         offer: {code: X, description: x, discount_percent: 5}}\n",
    )
    scenario = parse_scenario(text, "demo.yaml")
    assert (scenario.holdout, scenario.experiment_salt) == (1250, "spring")
    first, offer = scenario.steps[0].variants
    assert (first.name, first.weight, first.step.template) == ("control-copy", 3, "t")
    assert (offer.weight, offer.step.template) == (1, "t-offer")
    assert [c.sku for c in offer.step.recommendations] == ["B"]
    assert offer.step.offer is not None
    assert offer.step.wait == scenario.steps[0].wait
    assert parse_scenario(VALID, "demo.yaml").experiment_salt == "demo"


def test_yaml_syntax_errors_give_the_line() -> None:
    with pytest.raises(ScenarioError, match=r"^x\.yaml:4: \(document\): not valid YAML"):
        parse_scenario("id: a\nversion: 1\nsteps: [a,\n  - b\n", "x.yaml")


def test_the_same_version_twice_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID)
    with pytest.raises(ScenarioError, match="also in"):
        load_scenarios(tmp_path)


def coffee_machine_state() -> CustomerState:
    """A state with an order, an instance past its first step and an early delivery."""
    sim = Simulation()
    sim.order("o1", COFFEE_MACHINE)
    sim.delivery("o1")
    sim.advance(4 * DAY)
    assert sim.state is not None
    sim.state.early_deliveries["o9"] = ["e9", T0]
    return sim.state


def test_customer_state_survives_a_round_trip_through_json() -> None:
    state = coffee_machine_state()
    assert CustomerState.from_json(state.to_json()) == state


def test_stored_fields_keep_their_positions() -> None:
    """States are stored by field position: a field is only ever appended, with a default.
    Changing these lists breaks every stored state."""
    assert ORDER_FIELDS == (
        "placed_at",
        "channel",
        "skus",
        "categories",
        "names",
        "subscription_plan",
        "subscription_period",
        "subscription_id",
        "total",
    )
    assert INSTANCE_FIELDS == (
        "id",
        "scenario_id",
        "version",
        "order_id",
        "trigger_kind",
        "trigger_event_id",
        "product_name",
        "next_step",
        "last_step_at",
        "timer_version",
        "due_at",
        "sent",
        "sent_at",
        "opened",
        "clicked",
        "recommended",
        "ended_at",
        "exit_reason",
        "deferred_from",
        "deferrals",
        "held_out",
        "variants",
        "converted",
        "started_at",
    )


def test_a_stored_state_written_before_a_field_was_appended_reads_with_its_default() -> None:
    state = coffee_machine_state()
    stored = orjson.loads(state.to_json())
    for values in stored[3].values():
        values.pop()  # as if exit_reason came later
    [instance] = CustomerState.from_json(orjson.dumps(stored)).instances.values()
    assert instance.exit_reason is None


def test_a_value_of_another_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format 1"):
        CustomerState.from_json(b'{"customer_id": "c1"}')
