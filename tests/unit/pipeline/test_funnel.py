"""The funnel's counts as the worker exports them and as the report reads them: money in
minor units with its currency (the yen has none), bounded labels, names promtool accepts,
and uplift computed by statsmodels."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from streams.engine.effects import Engaged, RecordConversion, StartInstance, StepHeldOut
from streams.metrics import (
    FUNNEL_METRICS,
    WorkerCollector,
    WorkerState,
    create_metrics,
    init_scenario_labels,
)
from streams.pipeline.funnel import Funnel
from streams.pipeline.tally import Tally
from streams.tools.report import render
from streams.tools.uplift import Results, compare, money
from tests.unit.engine.simulation import SCENARIOS


def conversion(
    currency: str, revenue: int, basket: int, group: str = "treatment"
) -> RecordConversion:
    return RecordConversion("i1", "gift", "o9", revenue, currency, group, "first", "B", basket)


def test_revenue_in_yen_and_euros_is_counted_in_minor_units_with_its_currency() -> None:
    metrics = create_metrics(CollectorRegistry())
    tally = Tally()
    tally.count([conversion("JPY", 1500, 4200), conversion("EUR", 1490, 2390)])
    tally.count([conversion("EUR", 510, 510)])
    tally.report(metrics)
    value = metrics.registry.get_sample_value
    labels = {"scenario": "gift", "group": "treatment", "step": "first", "variant": "B"}
    name = "rebound_conversion_revenue_minor_units_total"
    assert value(name, {**labels, "currency": "JPY"}) == 1500
    assert value(name, {**labels, "currency": "EUR"}) == 2000
    assert (
        value("rebound_conversion_basket_minor_units_total", {**labels, "currency": "EUR"}) == 2900
    )
    assert value("rebound_conversions_total", {**labels, "currency": "EUR"}) == 2
    assert value("rebound_instances_converted_total", labels) == 3
    assert (money(1500, "JPY"), money(2000, "EUR"), money(1500, "KWD")) == (
        "¥1,500",
        "€20.00",
        "KWD1.500",
    )


def test_the_funnel_counts_groups_held_out_steps_and_engagement_by_step_and_variant() -> None:
    funnel = Funnel()
    funnel.count(
        [
            StartInstance("i1", "gift", 1, "control"),
            StepHeldOut("i1", "gift", "first"),
            Engaged("gift", "first", "B", "sms", "opened"),
            Engaged("gift", "first", "B", "sms", "clicked"),
        ]
    )
    rows = funnel.rows()
    assert rows["started"] == [{"scenario": "gift", "group": "control", "value": 1}]
    assert rows["held_out"] == [{"scenario": "gift", "step": "first", "value": 1}]
    assert rows["clicked"] == [
        {"scenario": "gift", "step": "first", "variant": "B", "channel": "sms", "value": 1}
    ]
    assert set(rows) == set(FUNNEL_METRICS)


def test_every_scenario_step_and_group_exists_at_zero_from_the_start() -> None:
    metrics = create_metrics(CollectorRegistry())
    init_scenario_labels(metrics, SCENARIOS)
    value = metrics.registry.get_sample_value
    coffee = "coffee-machine-after-delivery"
    assert value("rebound_instances_started_total", {"scenario": coffee, "group": "control"}) == 0
    sent = {"scenario": coffee, "step": "reminder", "variant": "", "channel": "email"}
    assert value("rebound_steps_sent_total", sent) == 0


def test_promtool_finds_no_naming_problem_in_the_metrics() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed: `make system` installs Debian's prometheus")
    metrics = create_metrics()  # the worker's registry: process and platform collectors too
    init_scenario_labels(metrics, SCENARIOS)
    state = WorkerState({("orders", 0): (10, 5)}, {("c", 0, "active"): (3, 9)}, ready=True)
    metrics.registry.register(WorkerCollector(lambda: state))
    tally = Tally()
    tally.count([conversion("EUR", 1490, 2390)])
    tally.report(metrics)
    done = subprocess.run(
        [promtool, "check", "metrics"],
        input=generate_latest(metrics.registry),
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout + done.stderr == b""


def test_uplift_comes_with_its_interval_and_what_it_would_take() -> None:
    clear = compare(10_000, 1_200, 1_000, 80)
    assert clear is not None
    assert clear.significant
    assert clear.low > 0
    assert "significant, the scenario converts more" in clear.verdict()
    unclear = compare(1_000, 120, 100, 8)
    assert unclear is not None
    assert not unclear.significant
    assert unclear.low < 0 < unclear.high
    assert unclear.more_needed is not None
    assert unclear.more_needed > 1_000
    assert "not significant yet; about" in unclear.verdict()
    assert compare(100, 5, 0, 0) is None, "no control group, nothing to compare"


def test_the_page_shows_the_uplift_rates_and_revenue() -> None:
    funnel = Funnel()
    for group, n in (("treatment", 900), ("control", 100)):
        for _ in range(n):
            funnel.count([StartInstance("i", "gift", 1, group)])
    for _ in range(90):
        funnel.count([conversion("EUR", 1000, 2000)])
    for _ in range(3):
        funnel.count([conversion("EUR", 1000, 1500, "control")])
    funnel.counts["sent"][("gift", "first", "B", "email")] = 900
    funnel.counts["held_out"][("gift", "first")] = 100
    results = Results(funnel.rows())
    assert results.incremental_revenue("gift") == "€630.00"  # 900 - 30 / 100 * 900 euros
    page = render({"source": "a test", "sends": [], "funnel": funnel.rows()})
    assert "+7.00 points" in page
    assert "significant, the scenario converts more" in page
    assert "€630.00" in page
    assert "€20.00" in page, "the average basket"
    assert "90 (10.0%)" in page, "the variant's conversions over its sends"


def test_the_worker_s_partitions_give_lag_progress_and_restore() -> None:
    metrics = create_metrics(CollectorRegistry())
    state = WorkerState(
        consumed={("orders", 0): (120, 100), ("orders", 1): (7, None), ("clicks", 2): (None, 5)},
        restoring={("rb-customers-changelog", 3, "active"): (40, 99)},
        ready=False,
    )
    metrics.registry.register(WorkerCollector(lambda: state))
    value = metrics.registry.get_sample_value
    assert value("rebound_consumer_lag_records", {"topic": "orders", "partition": "0"}) == 20
    assert value("rebound_consumer_lag_records", {"topic": "orders", "partition": "1"}) == 7
    assert value("rebound_consumer_committed_offset", {"topic": "clicks", "partition": "2"}) == 5
    assert value("rebound_consumer_lag_records", {"topic": "clicks", "partition": "2"}) is None
    restore = {"topic": "rb-customers-changelog", "partition": "3", "replica": "active"}
    assert value("rebound_restore_remaining_records", restore) == 59
    assert value("rebound_restore_offset", restore) == 40
    assert value("rebound_ready", {}) == 0
