"""The Grafana dashboard (deploy/helm/rebound/dashboards/rebound.json): every query names
metrics the worker exports, filters on the datasource, namespace and job variables (two
releases never add up), and parses as PromQL (promtool, when installed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from streams.metrics import WorkerCollector, WorkerState, create_metrics, init_scenario_labels
from tests.unit.engine.simulation import SCENARIOS

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy/helm/rebound/dashboards/rebound.json"
METRIC = re.compile(r"\b((?:rebound|process)_[a-z_]+)\b")


def queries() -> list[tuple[str, str]]:
    """(panel title, expression) of every query."""
    panels: list[dict[str, Any]] = json.loads(DASHBOARD.read_text())["panels"]
    return [(p["title"], t["expr"]) for p in panels for t in p.get("targets", [])]


def exported() -> set[str]:
    from prometheus_client import generate_latest

    metrics = create_metrics()  # the worker's: with the process collectors
    init_scenario_labels(metrics, SCENARIOS)
    state = WorkerState({("orders", 0): (10, 5)}, {("c", 0, "active"): (3, 9)}, ready=True)
    metrics.registry.register(WorkerCollector(lambda: state))
    metrics.producer_errors.labels("orders")
    metrics.redis_duration.labels("profiles")
    metrics.funnel["revenue"].labels("s", "treatment", "a", "", "EUR").inc()
    metrics.funnel["basket"].labels("s", "treatment", "a", "", "EUR").inc()
    metrics.funnel["conversions"].labels("s", "treatment", "a", "", "EUR").inc()
    text = generate_latest(metrics.registry).decode()
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def test_every_dashboard_query_names_a_metric_the_worker_exports() -> None:
    names = exported()
    found = {name for _, expr in queries() for name in METRIC.findall(expr)}
    assert found, "the dashboard has queries"
    assert found <= names, sorted(found - names)
    for wanted in ("rebound_instances_converted_total", "rebound_messages_opened_total"):
        assert wanted in found, "the funnel's panels"


def test_every_query_is_scoped_to_the_chosen_namespace_and_job() -> None:
    for title, expr in queries():
        for selector in re.findall(r"(?:rebound|process)_[a-z_]+(\{[^}]*\})?", expr):
            assert 'namespace=~"$namespace"' in selector, title
            assert 'job=~"$job"' in selector, title
    variables = {v["name"] for v in json.loads(DASHBOARD.read_text())["templating"]["list"]}
    assert {"datasource", "namespace", "job", "scenario"} <= variables


def test_every_query_parses_as_promql(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed: `make system` installs Debian's prometheus")
    rules = [
        {"record": f"dashboard:query_{i}", "expr": expr.replace("$__range", "1h")}
        for i, (_, expr) in enumerate(queries())
    ]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    done = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
