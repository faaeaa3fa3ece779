"""Scenario files: the YAML language, read and validated into the engine's ``Scenario``."""

from streams.scenarios.exceptions import ScenarioError
from streams.scenarios.loader import load_scenario, load_scenarios, parse_scenario

__all__ = ["ScenarioError", "load_scenario", "load_scenarios", "parse_scenario"]
