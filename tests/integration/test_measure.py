"""Measure and adjust, as a CRM team and an SRE would see it: a scenario with a holdout and
two variants runs on a real worker (real broker and Redis); a real Prometheus (Debian's
``prometheus``) scrapes it; a known sequence of orders, opens, clicks and purchases gives
exactly the sent, held-out, opened, clicked, converted and revenue counts per scenario, step,
variant and group read back through Prometheus's HTTP API, the same as ``rebound replay``
predicts for the same events; and ``rebound report --prometheus`` shows them."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import BIKE_LINE, DemoEvent, DemoProducer, click_event, open_event, order_event
from devtools.localstack.command_reader import CommandReader
from devtools.localstack.prometheus import LocalPrometheus
from streams.edge.kafka.topics import ensure_topics
from streams.edge.prometheus import from_prometheus
from streams.settings import Settings
from streams.tools.report import CONTROL_COLOUR, CONVERSION_COLOUR
from tests.integration.cli import rebound
from tests.integration.test_report import pixels_of, screenshot
from tests.unit.test_replay import write_jsonl

SCENARIO = """\
id: measure-bike
version: 1
holdout: 30%
trigger: {event: order, order_contains: {category: bike}}
steps:
  - id: at-once
    wait: 0s
    channel: email
    template: bike-a
    recommendations: [HELMET-URBAN]
    variants:
      - {name: A, weight: 50}
      - {name: B, weight: 50, template: bike-b}
goal: {attribution_window: 14d}
"""
HELMET = {
    "sku": "HELMET-URBAN",
    "name": "Urban helmet",
    "category": "bike-accessory",
    "quantity": 1,
    "unit_price": 4990,
}
CUSTOMERS = 40


@pytest.fixture
def prometheus_binary() -> None:
    if shutil.which("prometheus") is None:
        pytest.skip("prometheus is not installed: `make system` installs Debian's")


def in_yen(event: DemoEvent) -> DemoEvent:
    line = {**HELMET, "unit_price": 750}
    return replace(event, record={**event.record, "lines": [line], "total": 750, "currency": "JPY"})


def test_a_known_sequence_gives_exact_funnel_counts_through_prometheus(
    settings: Settings,
    start_worker: Any,
    catalog: None,
    tmp_path: Path,
    prometheus_binary: None,
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "measure-bike.yaml").write_text(SCENARIO)
    settings = replace(settings, scenarios_dir=str(folder))
    ensure_topics(settings)
    worker = start_worker(settings)
    prometheus = LocalPrometheus(tmp_path / "prometheus", [f"127.0.0.1:{settings.web_port}"])
    prometheus.start()
    try:
        worker.wait_for(prometheus.scraped, 60, "Prometheus scraping the worker")
        run = uuid.uuid4().hex[:6]
        customers = [f"m{run}-{i}" for i in range(CUSTOMERS)]
        now = int(time.time() * 1000)
        orders = [order_event(c, "o1", now, [BIKE_LINE], channel="store") for c in customers]
        producer = DemoProducer(settings)
        for event in orders:
            producer.send(event)
        producer.flush()

        # The treated customers get their e-mail at once; the held-out ones get nothing.
        reader = CommandReader(settings)
        treated = _wait_until_quiet(reader, worker)
        control = [c for c in customers if c not in {x["customer_id"] for x in treated}]
        assert 0 < len(control) < CUSTOMERS, "a 30% holdout of 40 customers"
        assert {x["variant"] for x in treated} == {"A", "B"}
        assert all(x["template"] == f"bike-{x['variant'].lower()}" for x in treated)

        # Opens, clicks and purchases: 8 opened (4 of them clicked), 6 treated and 4 held-out
        # customers buy the helmet (one treated customer pays in yen).
        later = now + 1000
        reactions = [
            open_event(x["customer_id"], x["command_id"], "email", later, f"open-{i}")
            for i, x in enumerate(treated[:8])
        ]
        reactions += [
            click_event(x["customer_id"], x["command_id"], "email", later, f"click-{i}")
            for i, x in enumerate(treated[:4])
        ]
        buyers = [x["customer_id"] for x in treated[2:8]] + control[:4]
        purchases = [order_event(c, "o2", later + 1000, [HELMET]) for c in buyers]
        purchases[0] = in_yen(purchases[0])
        for event in reactions + purchases:
            producer.send(event)
        producer.flush()

        # What the replay predicts for the same events is what Prometheus must read.
        events = write_jsonl(tmp_path / "events.jsonl", orders + reactions + purchases)
        prediction = tmp_path / "prediction.json"
        replayed = rebound(
            settings, "replay", str(events), "--scenarios", str(folder), "--quiet",
            "--json", str(prediction),
        )  # fmt: skip
        assert replayed.returncode == 0, replayed.stderr
        expected = json.loads(prediction.read_text())["funnel"]

        def totals(field: str, **labels: str) -> int:
            rows = expected[field]
            return sum(r["value"] for r in rows if all(r[k] == v for k, v in labels.items()))

        assert totals("sent") == len(treated)
        assert totals("held_out") == len(control)
        assert (totals("opened"), totals("clicked")) == (8, 4)
        assert totals("converted", group="treatment") == 6
        assert totals("converted", group="control") == 4
        assert totals("revenue", group="treatment", currency="EUR") == 5 * 4990
        assert totals("revenue", group="treatment", currency="JPY") == 750
        assert totals("revenue", group="control", currency="EUR") == 4 * 4990
        assert totals("started", group="control") == len(control)

        read: dict[str, Any] = {}

        def prometheus_agrees() -> bool:
            read.update(from_prometheus(prometheus.url, window="1h", step="1s")["funnel"])
            return read == expected

        try:
            worker.wait_for(prometheus_agrees, 90, "Prometheus reading the replay's counts")
        finally:
            for field in expected:
                assert read.get(field) == expected[field], field

        page = tmp_path / "measure.html"
        made = rebound(
            settings, "report", "--prometheus", prometheus.url, "--window", "1h", "--step", "1s",
            "-o", str(page),
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        text = page.read_text()
        assert "measure-bike" in text
        assert f"{len(control):,}</td>" in text
        assert "¥750" in text
        image = screenshot(page, tmp_path / "measure.png")
        assert pixels_of(image, CONTROL_COLOUR, (0, 0, *image.size)) > 500, "the control group"
        assert pixels_of(image, CONVERSION_COLOUR, (0, 0, *image.size)) > 200, "the converted"
        _promtool_accepts(f"http://127.0.0.1:{settings.web_port}/metrics")
    finally:
        prometheus.stop()


def _wait_until_quiet(reader: CommandReader, worker: Any) -> list[dict[str, Any]]:
    """The commands, once none has come for two seconds (and at least one came)."""
    last: list[int] = [0, int(time.monotonic())]

    def quiet() -> bool:
        reader.poll()
        if len(reader.commands) != last[0]:
            last[:] = [len(reader.commands), int(time.monotonic())]
        return last[0] > 0 and time.monotonic() - last[1] > 2

    worker.wait_for(quiet, 60, "the treated customers' e-mails")
    return list(reader.commands)


def _promtool_accepts(url: str) -> None:
    promtool = shutil.which("promtool")
    assert promtool is not None
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        exposition = response.read()
    done = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout + done.stderr == b"", "no naming problem"
