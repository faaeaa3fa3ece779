"""``rebound validate``: every scenario file, the policies and the catalog of a folder checked
in one run, every mistake of every file reported with its file, line and field (and the name
it most likely meant), a recommended SKU missing from the catalog among them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.engine.scenario import Scenario
from streams.scenarios.catalog import read_catalog
from streams.scenarios.exceptions import ScenarioError
from streams.scenarios.loader import NOT_SCENARIOS, duplicate_versions, load_scenario
from streams.scenarios.policies import POLICIES_FILE, load_policies
from streams.scenarios.yaml_nodes import Located


@dataclass
class Validation:
    lines: list[str] = field(default_factory=list)
    """What is fine, a line each."""
    errors: list[ScenarioError] = field(default_factory=list)


def validate_folder(folder: Path) -> Validation:
    report = Validation()
    scenarios: list[Scenario] = []
    files = sorted(p for p in folder.glob("*.yaml") if p.name not in NOT_SCENARIOS)
    if not files:
        report.errors.append(ScenarioError(str(folder), 1, "(folder)", "no scenario files"))
    for path in files:
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            report.errors.extend(getattr(error, "errors", None) or [error])
            continue
        scenarios.append(scenario)
        report.lines.append(
            f"ok  {path}: {scenario.id} v{scenario.version}, {len(scenario.steps)} step(s)"
        )
    report.errors.extend(duplicate_versions(scenarios))
    try:
        policies = load_policies(folder)
        report.lines.append(f"ok  {policies.source or 'no ' + POLICIES_FILE + ': the defaults'}")
    except ScenarioError as error:
        report.errors.extend(getattr(error, "errors", None) or [error])
    catalog_file = folder / "catalog.yaml"
    if not catalog_file.exists():
        report.lines.append("--  no catalog.yaml here: recommended SKUs not checked")
        return report
    try:
        catalog = read_catalog(catalog_file)
    except ScenarioError as error:
        report.errors.append(error)
        return report
    report.errors.extend(catalog.problems)
    known = {p.sku for p in catalog.products}
    for path in files:  # valid or not: a file with other mistakes gets these named too
        for line, where, sku in _recommended(path):
            if sku not in known:
                close = difflib.get_close_matches(sku, known, n=1)
                guess = f"did you mean {close[0]}? " if close else ""
                problem = f"{sku} is not in {catalog_file}: {guess}add it there, or fix the SKU"
                report.errors.append(ScenarioError(str(path), line, where, problem))
    report.lines.append(f"ok  {catalog_file}: {len(catalog.products)} products")
    return report


def _recommended(path: Path) -> list[tuple[int, str, str]]:
    """(line, field, SKU) of every SKU a step of the file recommends, variants included (none
    when the file is not YAML: that mistake is reported already)."""
    try:
        doc = Located(str(path), path.read_text())
    except ScenarioError:
        return []
    found: list[tuple[int, str, str]] = []

    def walk(value: Any, where: str, inside: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                child = f"{where}.{key}" if where else str(key)
                walk(item, child, inside or key == "recommendations")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}[{i}]", inside)
        elif inside and isinstance(value, str) and where.split(".")[-1] != "if":
            if where.endswith(".pick") or ".if." in where or where.endswith("recommendations"):
                return
            found.append((doc.lines.get(where, 1), where, value))

    walk(doc.value, "", False)
    return found
