"""Scenario files: the YAML language, read and validated into the engine's ``Scenario``; and
``policies.yaml``, the rules across scenarios."""

from pathlib import Path

from streams.engine import Engine
from streams.scenarios.exceptions import ScenarioError
from streams.scenarios.loader import load_scenario, load_scenarios, parse_scenario
from streams.scenarios.policies import load_policies, parse_policies


def load_engine(folder: Path) -> Engine:
    """The engine of a scenario folder: its scenarios and its policies, validated."""
    return Engine(load_scenarios(folder), load_policies(folder))


__all__ = [
    "ScenarioError",
    "load_engine",
    "load_policies",
    "load_scenario",
    "load_scenarios",
    "parse_policies",
    "parse_scenario",
]
